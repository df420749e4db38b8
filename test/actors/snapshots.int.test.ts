import type { KV, NatsConnection } from 'nats';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { taskAggregate } from '../../actors/aggregates/task.ts';
import type { AggregateDefinition, AnyAggregateDefinition } from '../../actors/runtime/aggregate-definition.ts';
import { AggregateHost } from '../../actors/runtime/aggregate-host.ts';
import { AggregateLoader } from '../../actors/runtime/aggregate-loader.ts';
import { AggregateSnapshots } from '../../actors/runtime/aggregate-snapshots.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import type { LoadedAggregate } from '../../actors/runtime/loaded-aggregate.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { KvSnapshotStore, snapshotKey } from '../../adapters/nats/kv-snapshot-store.ts';
import { systemClock } from '../../infra/system-clock.ts';
import type { Snapshot, SnapshotStore } from '../../domain/ports/snapshot-store.ts';
import { streamName, type StreamName } from '../../domain/streams.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { tallyAggregate } from '../support/tally-aggregate.ts';

// Snapshots through the real host, the real KV adapter and the JetStream store. A snapshot is
// a cache: whatever is in the bucket, a load must give what folding the whole stream gives.

const tally = { ...tallyAggregate, snapshot: { version: 1, every: 10 } };

describe('aggregate snapshots', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let store: JetStreamEventStore;
  let snapshots: KvSnapshotStore;
  let bucket: KV;
  let client: CommandClient;
  const connections: NatsConnection[] = [];
  const hosts: AggregateHost<unknown, never, unknown>[] = [];
  const warnings: { msg: string; stream?: string }[] = [];
  const logger: Logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line) as { msg: string }) });

  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    store = await JetStreamEventStore.connect(nc);
    snapshots = await KvSnapshotStore.connect(nc);
    bucket = await nc.jetstream().views.kv('orch_snapshots');
    client = new CommandClient(nc);
  });
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    await Promise.all(connections.map((c) => c.close()));
    await nc?.close();
    await server?.dispose();
  });

  /** A host on its own connection, as another process would have. */
  const startHost = async (definition: AnyAggregateDefinition, snapshotStore: SnapshotStore = snapshots) => {
    const hostConnection = await connectNats(server.url);
    connections.push(hostConnection);
    const host = new AggregateHost({
      nc: hostConnection,
      store: await JetStreamEventStore.connect(hostConnection),
      definition,
      clock: systemClock,
      logger,
      snapshots: snapshotStore,
    });
    host.start();
    await hostConnection.flush();
    hosts.push(host as AggregateHost<unknown, never, unknown>);
    return host;
  };
  const stopHosts = async () => Promise.all(hosts.splice(0).map((h) => h.stop()));

  const send = (category: string, id: string, type: string, data: Record<string, unknown> = {}, commandId: string = crypto.randomUUID()) =>
    client.forward({ category, id }, { commandId, type, data, actor: 'U1' });

  /** Loads as a cold host would: with snapshots, or by folding the whole stream. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- every aggregate of the test goes through here; only the state type matters
  const load = <S>(definition: AggregateDefinition<any, any, S>, stream: StreamName, withSnapshots = true): Promise<LoadedAggregate<S>> =>
    new AggregateLoader({
      store,
      definition,
      logger,
      snapshots: withSnapshots ? new AggregateSnapshots(snapshots, definition.snapshot!, logger) : undefined,
    }).load(stream);

  const snapshotRevision = async (stream: StreamName) => (await snapshots.load(stream))?.revision;
  const waitForSnapshotAt = (stream: StreamName, revision: bigint) =>
    vi.waitFor(async () => expect(await snapshotRevision(stream)).toBe(revision), { timeout: 5_000, interval: 20 });

  /** Open, then `adds` commands adding 1: revisions 0..adds. */
  const tallyOf = async (adds: number) => {
    const id = crypto.randomUUID();
    expect(await send('tally', id, 'Open')).toMatchObject({ status: 'accepted' });
    for (let i = 0; i < adds; i++) expect(await send('tally', id, 'Add', { amount: 1 })).toMatchObject({ status: 'accepted' });
    return { id, stream: streamName('tally', id) };
  };

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as for load()
  const expectSameAsFullFold = async <S>(definition: AggregateDefinition<any, any, S>, stream: StreamName) => {
    const [snapshotted, folded] = [await load(definition, stream), await load(definition, stream, false)];
    expect(snapshotted.state).toEqual(folded.state);
    expect(snapshotted.revision).toBe(folded.revision);
    expect([...snapshotted.commands]).toEqual([...folded.commands]);
    expect(snapshotted.last).toEqual(folded.last);
    return snapshotted;
  };

  const warned = (stream: StreamName, text: RegExp) => warnings.some((w) => w.stream === stream && text.test(w.msg));

  it('given a host with snapshots every 10 events, when the stream reaches 10 and then 20 events, then a snapshot is taken at each', async () => {
    await startHost(tally);
    const { id, stream } = await tallyOf(8);
    await new Promise((r) => setTimeout(r, 50));
    expect(await snapshotRevision(stream)).toBeUndefined();
    await send('tally', id, 'Add', { amount: 1 });
    await waitForSnapshotAt(stream, 9n);
    for (let i = 0; i < 9; i++) await send('tally', id, 'Add', { amount: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(await snapshotRevision(stream)).toBe(9n);
    await send('tally', id, 'Add', { amount: 1 });
    await waitForSnapshotAt(stream, 19n);
    const snapshot = (await snapshots.load(stream))!;
    expect(snapshot.state).toEqual({ open: true, total: 19 });
    expect(snapshot.version).toBe(1);
    expect(snapshot.commands).toHaveLength(20);
  });

  it('given a task stream with a snapshot behind its tail, when loaded cold, then the result equals folding the whole stream', async () => {
    const task = { ...taskAggregate, snapshot: { version: 1, every: 10 } };
    await startHost(task);
    const id = crypto.randomUUID();
    const stream = streamName('task', id);
    const ok = async (type: string, data: Record<string, unknown>) => expect(await send('task', id, type, data)).toMatchObject({ status: 'accepted' });
    await ok('QueueTask', { taskType: 'run-tests', pool: 'local-ops', timeoutMs: 60_000, requestedBy: 'U1', payload: { repo: 'x' } });
    await ok('AssignTask', { workerId: 'w1', attempt: 1 });
    for (let i = 0; i < 6; i++) await ok('ReportProgress', { attempt: 1, stage: 'build', percent: i * 10 });
    await ok('FailTask', { attempt: 1, error: { code: 'Flaky', message: 'it broke' }, retryable: true, retryDelayMs: 10 });
    await ok('AssignTask', { workerId: 'w2', attempt: 2 });
    for (let i = 0; i < 15; i++) await ok('ReportProgress', { attempt: 2, stage: 'test', percent: i * 5, details: `step ${i}` });
    // 26 events: snapshots at 9 and 19, then a tail of 6.
    await waitForSnapshotAt(stream, 19n);
    const loaded = await expectSameAsFullFold(task, stream);
    expect(loaded.revision).toBe(25n);
    expect(loaded.snapshotRevision).toBe(19n);
    expect(loaded.state).toMatchObject({ status: 'running', attempt: 2 });
  });

  it('given a snapshot far behind the tail, when loaded cold, then its tail is read from its position and the result equals folding the whole stream', async () => {
    const { id, stream } = await tallyOf(9);
    await waitForSnapshotAt(stream, 9n);
    const early = (await snapshots.load(stream))!;
    for (let i = 0; i < 45; i++) await send('tally', id, 'Add', { amount: 2 });
    await waitForSnapshotAt(stream, 49n);
    await snapshots.save(stream, early);
    const loaded = await expectSameAsFullFold(tally, stream);
    expect(loaded.snapshotRevision).toBe(9n);
    expect(loaded.state).toEqual({ open: true, total: 99 });
  });

  it('given a snapshot of another version, when loaded, then it is ignored with a warning, and the host replaces it', async () => {
    await stopHosts();
    await startHost(tally);
    const { id, stream } = await tallyOf(12);
    await waitForSnapshotAt(stream, 9n);
    const current = (await snapshots.load(stream))!;
    await snapshots.save(stream, { ...current, version: 0, state: { open: true, total: 9_999 } });
    const loaded = await expectSameAsFullFold(tally, stream);
    expect(loaded.state).toEqual({ open: true, total: 12 });
    expect(warned(stream, /another snapshot version/)).toBe(true);

    // A definition whose snapshot version moved on takes a new one on its first command.
    await stopHosts();
    await startHost({ ...tally, snapshot: { version: 2, every: 10 } });
    await send('tally', id, 'Add', { amount: 1 });
    // The host folded the whole stream, so it snapshots what it loaded.
    await vi.waitFor(async () => expect((await snapshots.load(stream))?.version).toBe(2), { timeout: 5_000, interval: 20 });
    expect(await snapshots.load(stream)).toMatchObject({ revision: 12n, state: { open: true, total: 12 } });
    await stopHosts();
  });

  it('given a corrupt snapshot, when loaded, then it is ignored with a warning and the stream is folded from the start', async () => {
    await startHost(tally);
    const { stream } = await tallyOf(11);
    await waitForSnapshotAt(stream, 9n);
    const good = (await snapshots.load(stream))!;

    await bucket.put(snapshotKey(stream), new TextEncoder().encode('{"revision": "9", "state": {"open": tr'));
    expect((await load(tally, stream)).state).toEqual({ open: true, total: 11 });
    expect(warned(stream, /cannot be read/)).toBe(true);

    await bucket.put(snapshotKey(stream), new TextEncoder().encode(JSON.stringify({ revision: 9, state: { open: true } })));
    expect((await load(tally, stream)).snapshotRevision).toBeUndefined();

    // Well formed, but its event is not in this stream: taken from another history.
    const stranger: Snapshot = { ...good, eventId: crypto.randomUUID(), state: { open: true, total: 500 } };
    await snapshots.save(stream, stranger);
    const loaded = await expectSameAsFullFold(tally, stream);
    expect(loaded.state).toEqual({ open: true, total: 11 });
    expect(warned(stream, /not in the stream/)).toBe(true);

    // Past the end of the stream.
    await snapshots.save(stream, { ...good, revision: 40n });
    expect((await load(tally, stream)).state).toEqual({ open: true, total: 11 });

    // A state the definition's decoder refuses.
    const strict = {
      ...tally,
      snapshot: {
        ...tally.snapshot,
        decode: (v: unknown) => {
          if (typeof (v as { total?: unknown }).total !== 'number') throw new Error('no total');
          return v as never;
        },
      },
    };
    await snapshots.save(stream, { ...good, state: { open: true } });
    expect((await load(strict, stream)).state).toEqual({ open: true, total: 11 });
    expect(warned(stream, /cannot be decoded/)).toBe(true);
    await stopHosts();
  });

  it('given two hosts with snapshots, when 100 commands race on one aggregate and a cold host takes a retry, then revisions stay dense and the retry is recognised', async () => {
    const often = { ...tally, snapshot: { version: 1, every: 7 } };
    await startHost(often);
    await startHost(often);
    const id = crypto.randomUUID();
    const stream = streamName('tally', id);
    await send('tally', id, 'Open');
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => send('tally', id, 'Add', { amount: 1 }, `add-${id}-${i}`)));
    expect(replies.every((r) => r.status === 'accepted')).toBe(true);
    const { events } = await store.read(stream);
    expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 101 }, (_, i) => BigInt(i)));
    expect(events.map((e) => (e.data as { total?: number }).total ?? 0)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    await stopHosts();

    // A cold host loads from the snapshot; a command folded into it is still recognised.
    const snapshot = (await snapshots.load(stream))!;
    expect(snapshot.revision).toBeGreaterThan(50n);
    expect((await expectSameAsFullFold(often, stream)).snapshotRevision).toBe(snapshot.revision);
    const covered = events.find((e) => e.revision === snapshot.revision - 3n)!;
    const index = Number(covered.metadata.commandId.split('-').pop());
    await startHost(often);
    const retry = await send('tally', id, 'Add', { amount: 1 }, covered.metadata.commandId);
    expect(retry).toEqual(replies[index]);
    expect(await send('tally', id, 'Add', { amount: 1 })).toEqual({ status: 'accepted', revision: '101', events: 1 });
    const after = (await store.read(stream)).events;
    expect(after.map((e) => e.revision)).toEqual(Array.from({ length: 102 }, (_, i) => BigInt(i)));
    expect((after[101]!.data as { total: number }).total).toBe(101);
    await stopHosts();
  });

  it('given a snapshot store that fails, when commands arrive, then they succeed and the failure is a warning', async () => {
    const broken: SnapshotStore = {
      load: () => Promise.reject(new Error('snapshot bucket unavailable')),
      save: () => Promise.reject(new Error('snapshot bucket unavailable')),
    };
    await startHost(tally, broken);
    const { id, stream } = await tallyOf(25);
    expect(await send('tally', id, 'Add', { amount: -5 })).toEqual({ status: 'accepted', revision: '26', events: 1 });
    await stopHosts();
    expect(warned(stream, /snapshot not saved/)).toBe(true);
    expect(warned(stream, /cannot be read/)).toBe(true);
  });
});

import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { KvReadModelStorage } from '../../adapters/nats/kv-read-model-storage.ts';
import { systemClock } from '../../infra/system-clock.ts';
import { NO_STREAM, type RecordedEvent } from '../../domain/ports/event-store.ts';
import { parseStreamName, streamName } from '../../domain/streams.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import type { Change, Doc, ProjectionDefinition } from '../../projections/runtime/projection.ts';
import { ProjectionRunner } from '../../projections/runtime/projection-runner.ts';
import { projectionStatus } from '../../projections/runtime/projection-status.ts';
import { ProjectionSupervisor, RebuildInProgress } from '../../projections/runtime/projection-supervisor.ts';
import { QueryClient } from '../../projections/runtime/query-client.ts';
import { QueryResponder } from '../../projections/runtime/query-responder.ts';
import { commandEvents } from '../support/events.ts';
import { foldInMemory } from '../support/fold.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';

// The projection runtime on a real nats-server: live folding, idempotent replays, queries,
// and a rebuild beside the serving model while events keep arriving.

/** Counts events per stream and keeps a cross-key total, so a double application would show. */
const counter = (name: string, category: string, version = 1): ProjectionDefinition => ({
  name,
  version,
  description: 'events per stream, and in all',
  category,
  async apply(event: RecordedEvent, view): Promise<Change[]> {
    const id = parseStreamName(event.stream).id;
    const doc = (await view.get(id)) ?? { stream: event.stream, count: 0, sum: 0 };
    const totals = (await view.get('totals')) ?? { count: 0 };
    const n = (event.data as { n: number }).n;
    return [
      { key: id, doc: { ...doc, count: (doc.count as number) + 1, sum: (doc.sum as number) + n, lastRevision: Number(event.revision) } },
      { key: 'totals', doc: { count: (totals.count as number) + 1 } },
    ];
  },
});

describe('projection runtime', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let store: JetStreamEventStore;
  let storage: KvReadModelStorage;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    store = await JetStreamEventStore.connect(nc);
    storage = await KvReadModelStorage.connect(nc);
  });
  afterAll(async () => {
    await nc.close();
    await server.dispose();
  });

  const appendMany = async (category: string, streams: number, perStream: number, from = 0) => {
    await Promise.all(
      Array.from({ length: streams }, async (_, s) => {
        for (let i = from; i < from + perStream; i++) {
          await store.append(
            streamName(category, `s${s}`),
            commandEvents(['Counted'], () => ({ n: i })),
            i === 0 ? NO_STREAM : BigInt(i - 1),
          );
        }
      }),
    );
  };
  const bucketDocs = async (bucket: { keys(): Promise<string[]>; get(k: string): Promise<Doc | undefined> }) =>
    new Map(await Promise.all((await bucket.keys()).map(async (k) => [k, (await bucket.get(k))!] as [string, Doc])));
  const eventually = async (check: () => Promise<boolean>, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('folds the log into the bucket, and a restart after a crash applies nothing twice', async () => {
    const definition = counter('count-a', 'cata');
    await appendMany('cata', 5, 20);
    const bucket = await storage.bucket(definition.name, { version: 1, generation: 1 });
    const first = new ProjectionRunner({ definition, store, bucket, logger, flushEveryMs: 20 });
    await first.start();
    await first.untilLive();
    expect((await bucket.get('totals'))?.count).toBe(100);
    // A second runner on the same bucket resumes from the commit: the same events are not counted again.
    await first.stop();
    await appendMany('cata', 5, 10, 20);
    const second = new ProjectionRunner({ definition, store, bucket, logger, flushEveryMs: 20 });
    await second.start();
    await second.untilLive();
    await eventually(async () => (await bucket.get('totals'))?.count === 150);
    await second.settle();
    const expected = await foldInMemory(definition, await store.readAll({ category: 'cata' }));
    expect(await bucketDocs(bucket)).toEqual(expected);
    expect(second.progress().eventsApplied).toBe(150);
    await second.stop();
  });

  it('a batch committed but only partly written is completed on restart, not applied twice', async () => {
    const definition = counter('count-b', 'catb');
    await appendMany('catb', 3, 10);
    const bucket = await storage.bucket(definition.name, { version: 1, generation: 1 });
    const runner = new ProjectionRunner({ definition, store, bucket, logger });
    await runner.start();
    await runner.untilLive();
    await runner.stop();
    // Simulate the crash: the commit stands but a document write never happened.
    const kv = await nc.jetstream().views.kv('orch_rm_count-b_v1_g1');
    await kv.delete('totals');
    expect(await bucket.get('totals')).toBeUndefined();
    const restarted = new ProjectionRunner({ definition, store, bucket, logger });
    await restarted.start();
    await restarted.untilLive();
    expect((await bucket.get('totals'))?.count).toBe(30);
    await restarted.stop();
  });

  it('rebuilds beside the serving model while events keep arriving, answers queries throughout, and swaps', async () => {
    const definition = counter('count-c', 'catc');
    await appendMany('catc', 20, 50);
    // The reference: a model built live alongside, from the first event, never rebuilt.
    const referenceBucket = await storage.bucket('count-c-reference', { version: 1, generation: 1 });
    const reference = new ProjectionRunner({ definition, store, bucket: referenceBucket, logger, flushEveryMs: 20 });
    await reference.start();

    const supervisor = new ProjectionSupervisor({ definition, store, storage, clock: systemClock, logger, flushEveryMs: 20, reportEveryMs: 100 });
    await supervisor.start();
    const responder = new QueryResponder({ nc, logger, models: [definition.name], servingBucket: () => supervisor.servingBucket() });
    responder.start();
    await nc.flush();
    const queries = new QueryClient(nc);
    await eventually(async () => ((await queries.get(definition.name, 'totals'))?.count as number) === 1000);

    // Keep writing and keep asking while the rebuild runs.
    let writing = true;
    const writer = (async () => {
      let round = 50;
      while (writing) {
        await appendMany('catc', 20, 1, round++);
      }
      return round;
    })();
    const answers: string[] = [];
    let asking = true;
    const asker = (async () => {
      while (asking) {
        const answer = await queries.ask(definition.name, { key: 'totals' });
        answers.push(answer.status === 'ok' ? 'ok' : answer.code);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const ref = await supervisor.requestRebuild('test');
    expect(ref).toEqual({ version: 1, generation: 2 });
    await expect(supervisor.requestRebuild('again')).rejects.toBeInstanceOf(RebuildInProgress);
    const oldBucket = supervisor.servingBucket()!;
    await supervisor.rebuildFinished();
    expect(supervisor.servingBucket()!.id).not.toBe(oldBucket.id);
    expect(supervisor.servingBucket()!.id).toBe('orch_rm_count-c_v1_g2');
    await new Promise((r) => setTimeout(r, 200));
    writing = false;
    const rounds = await writer;
    asking = false;
    await asker;

    expect(answers.length).toBeGreaterThan(5);
    expect(answers.every((a) => a === 'ok')).toBe(true);
    // After the writes stop both models settle on the same documents, key for key.
    const total = 20 * rounds;
    await eventually(async () => (await supervisor.servingBucket()!.get('totals'))?.count === total);
    await eventually(async () => (await referenceBucket.get('totals'))?.count === total);
    const rebuilt = await bucketDocs(supervisor.servingBucket()!);
    expect(rebuilt).toEqual(await bucketDocs(referenceBucket));
    expect(rebuilt).toEqual(await foldInMemory(definition, await store.readAll({ category: 'catc' })));
    // The old bucket is gone and the record points at the new one.
    expect(await storage.existingBucket(definition.name, { version: 1, generation: 1 })).toBeUndefined();
    expect((await storage.loadRecord(definition.name))?.record).toMatchObject({ active: { version: 1, generation: 2 } });
    expect((await storage.loadRecord(definition.name))?.record.rebuilding).toBeUndefined();
    // Lag returns to 0 once progress has been reported.
    await eventually(async () => {
      const [status] = await projectionStatus([definition], storage, store, systemClock.now());
      return status?.serving?.lagEvents === 0 && status.serving.state === 'live' && status.serving.generation === 2;
    });
    await responder.stop();
    await supervisor.stop();
    await reference.stop();
  });

  it('a bumped version rebuilds on start while the old version keeps answering, then swaps', async () => {
    await appendMany('catd', 4, 25);
    const v1 = new ProjectionSupervisor({ definition: counter('count-d', 'catd', 1), store, storage, clock: systemClock, logger, flushEveryMs: 20 });
    await v1.start();
    await eventually(async () => (await v1.servingBucket()!.get('totals'))?.count === 100);
    await v1.stop();

    const v2 = new ProjectionSupervisor({ definition: counter('count-d', 'catd', 2), store, storage, clock: systemClock, logger, flushEveryMs: 20 });
    await v2.start();
    // Until the rebuild swaps, the v1 bucket answers.
    expect(['orch_rm_count-d_v1_g1', 'orch_rm_count-d_v2_g2']).toContain(v2.servingBucket()!.id);
    await v2.rebuildFinished();
    expect(v2.servingBucket()!.id).toBe('orch_rm_count-d_v2_g2');
    expect((await v2.servingBucket()!.get('totals'))?.count).toBe(100);
    expect(await storage.existingBucket('count-d', { version: 1, generation: 1 })).toBeUndefined();
    await v2.stop();
  });

  it('answers bad and unknown queries with typed errors', async () => {
    const definition = counter('count-e', 'cate');
    await appendMany('cate', 2, 3);
    const supervisor = new ProjectionSupervisor({ definition, store, storage, clock: systemClock, logger, flushEveryMs: 20 });
    await supervisor.start();
    const responder = new QueryResponder({ nc, logger, models: [definition.name], servingBucket: () => supervisor.servingBucket() });
    responder.start();
    await nc.flush();
    const queries = new QueryClient(nc);
    await eventually(async () => (await queries.get(definition.name, 's1'))?.count === 3);
    expect(await queries.ask('no-such-model', { key: 'x' })).toMatchObject({ status: 'error', code: 'UnknownModel' });
    expect(await queries.ask(definition.name, { key: 'missing' })).toMatchObject({ status: 'error', code: 'NotFound' });
    expect(await queries.ask(definition.name, { nonsense: true } as never)).toMatchObject({ status: 'error', code: 'InvalidQuery' });
    const raw = await nc.request('orch.query.count-e', new TextEncoder().encode('not json'));
    expect(JSON.parse(new TextDecoder().decode(raw.data))).toMatchObject({ status: 'error', code: 'InvalidQuery' });
    expect(await queries.ask(definition.name, { list: { prefix: 's' } })).toMatchObject({ status: 'ok', keys: ['s0', 's1'], more: false });
    expect(await queries.ask(definition.name, { keys: ['s0', 'zz'] })).toMatchObject({ status: 'ok', docs: { s0: { count: 3 }, zz: null } });
    await responder.stop();
    await supervisor.stop();
  });
});

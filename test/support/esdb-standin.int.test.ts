// Self-test of the EventStoreDB stand-in (test fixture): the real @eventstore/db-client
// talks to it over a real gRPC connection, so these assertions pin down the wire
// behaviour the adapter's tests rely on. It proves nothing about a real server.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  EventStoreDBClient,
  jsonEvent,
  binaryEvent,
  streamNameFilter,
  eventTypeFilter,
  WrongExpectedVersionError,
  StreamNotFoundError,
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  START,
  END,
  FORWARDS,
  BACKWARDS,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type Position,
} from '@eventstore/db-client';
import { randomUUID } from 'node:crypto';
import { startEsdbStandIn, type EsdbStandIn } from './esdb-standin.ts';

const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
};

async function waitFor(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ev = (type: string, data: Record<string, unknown> = {}, id?: string) => jsonEvent({ type, data, ...(id ? { id } : {}) });

/** Records what a subscription delivers; checkpoint and caughtUp marks keep their relative order. */
function watch(sub: AllStreamSubscription) {
  const seen = { events: [] as AllStreamResolvedEvent[], marks: [] as string[], errors: [] as Error[] };
  sub.on('data', (e) => seen.events.push(e));
  sub.on('caughtUp', () => seen.marks.push('caughtUp'));
  sub.on('error', (err) => seen.errors.push(err)); // server shutdown surfaces here
  return seen;
}

describe('EventStoreDB stand-in (real client, real gRPC)', () => {
  let standIn: EsdbStandIn;
  let client: EventStoreDBClient;

  beforeAll(async () => {
    standIn = await startEsdbStandIn();
    client = EventStoreDBClient.connectionString(standIn.connectionString);
  });

  afterAll(async () => {
    await client?.dispose(); // client first, so no call is left for the server to wait on
    await standIn?.stop();
  });

  it('exposes the connection string and port', () => {
    expect(standIn.port).toBeGreaterThan(0);
    expect(standIn.connectionString).toBe(`esdb://127.0.0.1:${standIn.port}?tls=false`);
  });

  it('appends with NO_STREAM, then with a bigint revision', async () => {
    const first = await client.appendToStream('order-1', [ev('Placed'), ev('Paid')], { expectedRevision: NO_STREAM });
    expect(first.success).toBe(true);
    expect(first.nextExpectedRevision).toBe(1n);
    const second = await client.appendToStream('order-1', ev('Shipped'), { expectedRevision: 1n });
    expect(second.nextExpectedRevision).toBe(2n);
    expect(second.position!.commit).toBeGreaterThan(first.position!.commit);
    const events = await collect(client.readStream('order-1'));
    expect(events.map((e) => [e.event?.type, e.event?.revision])).toEqual([
      ['Placed', 0n],
      ['Paid', 1n],
      ['Shipped', 2n],
    ]);
  });

  it('reports a wrong expected version with the actual version', async () => {
    await client.appendToStream('wev-1', [ev('A'), ev('B')], { expectedRevision: NO_STREAM });
    const stale = client.appendToStream('wev-1', ev('C'), { expectedRevision: 0n });
    await expect(stale).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await expect(stale).rejects.toMatchObject({ actualVersion: 1n, expectedVersion: 0n, streamName: 'wev-1' });
    await expect(client.appendToStream('wev-1', ev('C'), { expectedRevision: NO_STREAM })).rejects.toMatchObject({
      actualVersion: 1n,
      expectedVersion: 'no_stream',
    });
    await expect(client.appendToStream('wev-missing', ev('C'), { expectedRevision: 3n })).rejects.toMatchObject({
      actualVersion: 'no_stream',
      expectedVersion: 3n,
    });
    await expect(client.appendToStream('wev-missing', ev('C'), { expectedRevision: STREAM_EXISTS })).rejects.toBeInstanceOf(WrongExpectedVersionError);
    // Nothing was written by the failed appends.
    expect(await collect(client.readStream('wev-1'))).toHaveLength(2);
    await expect(collect(client.readStream('wev-missing'))).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('treats a retried append with the same event ids as a no-op success', async () => {
    const batch = [ev('A', {}, randomUUID()), ev('B', {}, randomUUID())];
    const first = await client.appendToStream('idem-1', batch, { expectedRevision: NO_STREAM });
    const retry = await client.appendToStream('idem-1', batch, { expectedRevision: NO_STREAM });
    expect(retry).toEqual(first);
    const c = ev('C', {}, randomUUID());
    const next = await client.appendToStream('idem-1', c, { expectedRevision: 1n });
    expect(await client.appendToStream('idem-1', c, { expectedRevision: 1n })).toEqual(next);
    const anyRetry = await client.appendToStream('idem-1', batch, { expectedRevision: ANY });
    expect(anyRetry.nextExpectedRevision).toBe(1n); // revision of the last already-stored event
    // Same expected revision but different ids: a genuine conflict.
    await expect(client.appendToStream('idem-1', [ev('A'), ev('B')], { expectedRevision: NO_STREAM })).rejects.toBeInstanceOf(WrongExpectedVersionError);
    const stored = await collect(client.readStream('idem-1'));
    expect(stored.map((e) => e.event?.type)).toEqual(['A', 'B', 'C']);
  });

  it('raises StreamNotFoundError while iterating a missing stream', async () => {
    const read = client.readStream('does-not-exist'); // no throw yet
    await expect(collect(read)).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('reads a stream forwards, backwards, from a revision and with maxCount', async () => {
    await client.appendToStream(
      'read-1',
      [0, 1, 2, 3, 4].map((n) => ev(`E${n}`, { n })),
      { expectedRevision: NO_STREAM },
    );
    const revisions = async (options: Parameters<EventStoreDBClient['readStream']>[1]) =>
      (await collect(client.readStream('read-1', options))).map((e) => e.event?.revision);
    expect(await revisions({})).toEqual([0n, 1n, 2n, 3n, 4n]);
    expect(await revisions({ direction: BACKWARDS, fromRevision: END })).toEqual([4n, 3n, 2n, 1n, 0n]);
    expect(await revisions({ fromRevision: 2n, maxCount: 2 })).toEqual([2n, 3n]);
    expect(await revisions({ direction: BACKWARDS, fromRevision: 2n })).toEqual([2n, 1n, 0n]);
    expect(await revisions({ direction: BACKWARDS, fromRevision: END, maxCount: 1 })).toEqual([4n]);
    expect(await revisions({ direction: FORWARDS, fromRevision: END })).toEqual([]);
    expect(await revisions({ fromRevision: 9n })).toEqual([]);
  });

  it('round-trips a 256 KB binary event, non-ASCII JSON, custom metadata and the created time', async () => {
    const big = Buffer.alloc(256 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
    const text = { text: 'héllo wörld — 日本語 🚀', nested: { ü: ['ß', 1.5, null] } };
    const before = Date.now();
    await client.appendToStream(
      'rt-1',
      [binaryEvent({ type: 'Blob', data: big }), jsonEvent({ type: 'Text', data: text, metadata: { correlationId: 'c-1', note: 'naïve' } })],
      { expectedRevision: NO_STREAM },
    );
    const [blob, json] = await collect(client.readStream('rt-1'));
    expect(blob?.event?.isJson).toBe(false);
    expect(Buffer.from(blob!.event!.data as Uint8Array).equals(big)).toBe(true);
    expect(blob?.event?.metadata).toBeUndefined();
    expect(json?.event?.isJson).toBe(true);
    expect(json?.event?.data).toEqual(text);
    expect(json?.event?.metadata).toEqual({ correlationId: 'c-1', note: 'naïve' });
    expect(json?.event?.streamId).toBe('rt-1');
    const created = json!.event!.created.getTime();
    expect(created).toBeGreaterThanOrEqual(before - 1);
    expect(created).toBeLessThanOrEqual(Date.now());
  });

  it('subscribes to $all from START with a prefix filter: history, checkpoint, caughtUp, then live', async () => {
    await client.appendToStream('abc-1', ev('H1'));
    await client.appendToStream('other-1', ev('Noise'));
    const head = await client.appendToStream('abc-2', ev('H2'));
    const checkpoints: Position[] = [];
    const sub = client.subscribeToAll({
      fromPosition: START,
      filter: streamNameFilter({
        prefixes: ['abc-'],
        checkpointReached: (_s, position) => {
          checkpoints.push(position);
          seen.marks.push('checkpoint');
        },
      }),
    });
    const seen = watch(sub);
    await waitFor(() => seen.marks.includes('caughtUp'), 'caughtUp');
    // The end-of-catch-up checkpoint is at the head of the log and precedes caughtUp.
    expect(seen.marks).toEqual(['checkpoint', 'caughtUp']);
    expect(checkpoints).toEqual([head.position]);

    await client.appendToStream('abc-1', ev('L1'));
    await client.appendToStream('zzz-1', ev('Noise'));
    await client.appendToStream('abc-3', ev('L2'));
    await waitFor(() => seen.events.length >= 4, 'four events');
    await new Promise((r) => setTimeout(r, 50)); // nothing extra arrives
    expect(seen.events.map((e) => `${e.event?.streamId}/${e.event?.type}`)).toEqual(['abc-1/H1', 'abc-2/H2', 'abc-1/L1', 'abc-3/L2']);
    const positions = seen.events.map((e) => e.event!.position.commit);
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);
    expect(seen.events.every((e) => e.commitPosition === e.event?.position.commit)).toBe(true);
    expect(seen.errors).toEqual([]);
    await sub.unsubscribe();
  });

  it('sends periodic checkpoints per search window, also for filtered-out live events', async () => {
    const checkpoints: bigint[] = [];
    const sub = client.subscribeToAll({
      fromPosition: END,
      filter: eventTypeFilter({ prefixes: ['Ping'], maxSearchWindow: 1, checkpointReached: (_s, p) => void checkpoints.push(p.commit) }),
    });
    const seen = watch(sub);
    await waitFor(() => seen.marks.includes('caughtUp'), 'caughtUp');
    const ping = await client.appendToStream('ping-1', ev('Ping'));
    const pong = await client.appendToStream('ping-1', ev('Pong'));
    await waitFor(() => checkpoints.length >= 3, 'checkpoints');
    // Catch-up checkpoint, then one per scanned event (window 1 x multiplier 1).
    expect(checkpoints.slice(1)).toEqual([ping.position!.commit, pong.position!.commit]);
    expect(seen.events.map((e) => e.event?.type)).toEqual(['Ping']);
    await sub.unsubscribe();
  });

  it('resumes $all from a recorded position with exactly the events after it (regex filter)', async () => {
    for (const n of [1, 2, 3, 4]) await client.appendToStream(`res-${n}`, ev(`R${n}`));
    const history = await collect(client.readAll());
    const second = history.find((e) => e.event?.streamId === 'res-2')!.event!;
    const sub = client.subscribeToAll({ fromPosition: second.position, filter: streamNameFilter({ regex: '^res-\\d+$' }) });
    const seen = watch(sub);
    await waitFor(() => seen.marks.includes('caughtUp'), 'caughtUp');
    await waitFor(() => seen.events.length >= 2, 'two events');
    expect(seen.events.map((e) => e.event?.streamId)).toEqual(['res-3', 'res-4']);
    await client.appendToStream('res-5', ev('R5'));
    await waitFor(() => seen.events.length >= 3, 'live event');
    expect(seen.events.map((e) => e.event?.streamId)).toEqual(['res-3', 'res-4', 'res-5']);
    await sub.unsubscribe();
  });

  it('subscribes to one stream after a revision (exclusive), then live', async () => {
    await client.appendToStream('sub-s', [ev('S0'), ev('S1')], { expectedRevision: NO_STREAM });
    const sub = client.subscribeToStream('sub-s', { fromRevision: 0n });
    const types: (string | undefined)[] = [];
    let caughtUp = false;
    sub.on('data', (e) => types.push(e.event?.type));
    sub.on('caughtUp', () => (caughtUp = true));
    await waitFor(() => caughtUp, 'caughtUp');
    await client.appendToStream('other-s', ev('Noise'));
    await client.appendToStream('sub-s', ev('S2'), { expectedRevision: 1n });
    await waitFor(() => types.length >= 2, 'two events');
    expect(types).toEqual(['S1', 'S2']);
    await sub.unsubscribe();
  });

  it('answers RPCs it does not implement with an error', async () => {
    await expect(client.deleteStream('order-1')).rejects.toThrow(/UNIMPLEMENTED/);
  });
});

describe('EventStoreDB stand-in: $all on a fresh log', () => {
  it('reads $all in append order across streams, forwards, backwards and from a position', async () => {
    const standIn = await startEsdbStandIn();
    const client = EventStoreDBClient.connectionString(standIn.connectionString);
    try {
      await client.appendToStream('x', [ev('X0'), ev('X1')], { expectedRevision: NO_STREAM });
      await client.appendToStream('y', ev('Y0'), { expectedRevision: NO_STREAM });
      await client.appendToStream('x', ev('X2'), { expectedRevision: 1n });
      const all = await collect(client.readAll());
      expect(all.map((e) => e.event?.type)).toEqual(['X0', 'X1', 'Y0', 'X2']);
      const commits = all.map((e) => e.event!.position.commit);
      expect(commits.every((c, i) => i === 0 || c > commits[i - 1]!)).toBe(true);
      expect(commits[0]).toBeGreaterThan(0n); // like a real log, positions do not start at 0
      const types = async (options: Parameters<EventStoreDBClient['readAll']>[0]) => (await collect(client.readAll(options))).map((e) => e.event?.type);
      expect(await types({ direction: BACKWARDS, fromPosition: END })).toEqual(['X2', 'Y0', 'X1', 'X0']);
      expect(await types({ maxCount: 2 })).toEqual(['X0', 'X1']);
      const y0 = all[2]!.event!.position;
      expect(await types({ fromPosition: y0 })).toEqual(['Y0', 'X2']); // forwards: inclusive
      expect(await types({ fromPosition: y0, direction: BACKWARDS })).toEqual(['X1', 'X0']); // backwards: exclusive
      expect(await types({ fromPosition: END })).toEqual([]);
    } finally {
      await client.dispose();
      await standIn.stop();
    }
  });

  it('stops promptly while a live subscription is open', async () => {
    const standIn = await startEsdbStandIn();
    const client = EventStoreDBClient.connectionString(standIn.connectionString);
    try {
      const seen = watch(client.subscribeToAll({ fromPosition: START }));
      await waitFor(() => seen.marks.includes('caughtUp'), 'caughtUp');
      const stopped = await Promise.race([standIn.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('hung'), 2_000))]);
      expect(stopped).toBe('stopped');
      await waitFor(() => seen.errors.length > 0, 'subscription error after shutdown');
    } finally {
      await client.dispose();
      await standIn.stop();
    }
  });
});

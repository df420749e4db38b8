import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvSnapshotStore, snapshotKey } from '../../../adapters/nats/kv-snapshot-store.ts';
import type { GlobalPosition } from '../../../domain/ports/event-store.ts';
import { UnreadableSnapshot, type Snapshot } from '../../../domain/ports/snapshot-store.ts';
import { streamName } from '../../../domain/streams.ts';
import { connectNats } from '../../../infra/nats/connect-nats.ts';
import { startTestNatsServer, type TestNatsServer } from '../../support/nats.ts';

describe('snapshot store on NATS KV', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let store: KvSnapshotStore;
  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    store = await KvSnapshotStore.connect(nc, 'snaptest');
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  const snapshot = (overrides: Partial<Snapshot> = {}): Snapshot => ({
    revision: 12_345_678_901_234n,
    position: '00000000000000000042:000001' as GlobalPosition,
    eventId: crypto.randomUUID(),
    version: 3,
    state: { status: 'running', counters: { done: 2 }, big: 2n ** 70n, list: [1, 'two', null] },
    commands: [
      { commandId: 'c1', revision: 12_345_678_901_233n, events: 1 },
      { commandId: 'c2', revision: 12_345_678_901_234n, events: 1 },
    ],
    ...overrides,
  });

  it('keeps the latest snapshot per stream, bigints included, and has none for a stream never saved', async () => {
    const stream = streamName('task', crypto.randomUUID());
    await store.save(stream, snapshot({ version: 1 }));
    const latest = snapshot();
    await store.save(stream, latest);
    expect(await store.load(stream)).toEqual(latest);
    expect(await store.load(streamName('task', crypto.randomUUID()))).toBeUndefined();
  });

  it('gives every stream id its own valid key, including ids KV keys cannot hold as they are', async () => {
    const ids = ['plain_Id-1', 'ünï:cödé', 'a/b', 'x=y', '=eA'];
    const streams = ids.map((id) => streamName('conversation', id));
    const keys = streams.map(snapshotKey);
    expect(new Set(keys).size).toBe(ids.length);
    for (const key of keys) expect(key).toMatch(/^[-/_=.a-zA-Z0-9]+$/);
    for (const [i, stream] of streams.entries()) await store.save(stream, snapshot({ version: i }));
    for (const [i, stream] of streams.entries()) expect((await store.load(stream))!.version).toBe(i);
  });

  it('refuses a stored value it cannot read with UnreadableSnapshot', async () => {
    const stream = streamName('task', crypto.randomUUID());
    const kv = await nc.jetstream().views.kv('snaptest_snapshots');
    await kv.put(snapshotKey(stream), new TextEncoder().encode('{"revision":'));
    await expect(store.load(stream)).rejects.toBeInstanceOf(UnreadableSnapshot);
    await kv.put(
      snapshotKey(stream),
      new TextEncoder().encode(JSON.stringify({ revision: '-1', position: 'p', eventId: 'e', version: 1, state: {}, commands: [] })),
    );
    await expect(store.load(stream)).rejects.toThrow(/revision/);
  });
});

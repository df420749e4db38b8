import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { AggregateHost } from '../../actors/runtime/aggregate-host.ts';
import { CommandClient, NoAggregateHost } from '../../actors/runtime/command-client.ts';
import { systemClock } from '../../infra/system-clock.ts';
import { streamName } from '../../domain/streams.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { tallyAggregate, type TallyCommand, type TallyEvent, type TallyState } from '../support/tally-aggregate.ts';

describe('aggregate host over NATS', () => {
  let server: TestNatsServer;
  const connections: NatsConnection[] = [];
  const hosts: AggregateHost<TallyCommand, TallyEvent, TallyState>[] = [];
  let client: CommandClient;
  let reader: JetStreamEventStore;

  const startHost = async () => {
    const nc = await connectNats(server.url);
    connections.push(nc);
    const host = new AggregateHost({
      nc,
      store: await JetStreamEventStore.connect(nc),
      definition: tallyAggregate,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
    });
    host.start();
    hosts.push(host);
    return host;
  };

  beforeAll(async () => {
    server = await startTestNatsServer();
    await startHost();
    await startHost();
    const nc = await connectNats(server.url);
    connections.push(nc);
    await nc.flush();
    for (const c of connections) await c.flush();
    client = new CommandClient(nc);
    reader = await JetStreamEventStore.connect(nc);
  });
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    await Promise.all(connections.map((c) => c.close()));
    await server.dispose();
  });

  const send = (id: string, type: string, data: Record<string, unknown> = {}, commandId: string = crypto.randomUUID()) =>
    client.forward({ category: 'tally', id }, { commandId, type, data, actor: 'U1' });

  it('two hosts take 200 interleaved commands for one aggregate: dense revisions, none lost, none doubled', async () => {
    const id = crypto.randomUUID();
    expect(await send(id, 'Open')).toEqual({ status: 'accepted', revision: '0', events: 1 });
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => send(id, 'Add', { amount: 1 }, `add-${id}-${i}`)));
    expect(replies.every((r) => r.status === 'accepted')).toBe(true);
    const { events } = await reader.read(streamName('tally', id));
    expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 201 }, (_, i) => BigInt(i)));
    expect(events.map((e) => (e.data as { total?: number }).total ?? 0)).toEqual(Array.from({ length: 201 }, (_, i) => i));
    expect(new Set(events.slice(1).map((e) => e.metadata.commandId)).size).toBe(200);
    const revisions = replies.map((r) => (r.status === 'accepted' ? Number(r.revision) : -1)).sort((a, b) => a - b);
    expect(revisions).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('a host whose cached state is behind the other host decides a rejection again on a fresh read: every valid command is accepted', async () => {
    const id = crypto.randomUUID();
    expect((await send(id, 'Open')).status).toBe('accepted');
    // +1 then -1, one after the other: a host that missed the latest +1 would see a total of 0
    // and refuse the -1 (WouldGoNegative) if it answered from its cache.
    const refused: string[] = [];
    for (let i = 0; i < 60; i++) {
      for (const amount of [1, -1]) {
        const reply = await send(id, 'Add', { amount });
        if (reply.status !== 'accepted') refused.push(`${i}:${amount}:${JSON.stringify(reply)}`);
      }
    }
    expect(refused).toEqual([]);
    const { events } = await reader.read(streamName('tally', id));
    expect(events).toHaveLength(121);
  });

  it('the same command id sent twice yields one set of events and the same reply, whichever host takes it', async () => {
    const id = crypto.randomUUID();
    await send(id, 'Open');
    // Both hosts cache the aggregate at revision 0, so one of them answers the repeat from a stale cache.
    await Promise.all([send(id, 'Open'), send(id, 'Open'), send(id, 'Open')]);
    const first = await send(id, 'Add', { amount: 5 }, 'cmd-once');
    const again = await send(id, 'Add', { amount: 5 }, 'cmd-once');
    expect(first).toEqual({ status: 'accepted', revision: '1', events: 1 });
    expect(again).toEqual(first);
    expect((await reader.read(streamName('tally', id))).events).toHaveLength(2);
  });

  it('answers a rule the aggregate refuses with its code, and writes nothing', async () => {
    const id = crypto.randomUUID();
    await send(id, 'Open');
    expect(await send(id, 'Add', { amount: -3 })).toMatchObject({ status: 'rejected', code: 'WouldGoNegative' });
    expect((await reader.read(streamName('tally', id))).events).toHaveLength(1);
  });

  it('refuses commands other than the creating ones on an aggregate that does not exist', async () => {
    expect(await send(crypto.randomUUID(), 'Add', { amount: 1 })).toMatchObject({ status: 'rejected', code: 'NotFound' });
  });

  it('answers malformed input with the validation errors and keeps serving', async () => {
    const id = crypto.randomUUID();
    const nc = connections[connections.length - 1]!;
    const raw = async (subject: string, body: string) =>
      JSON.parse(new TextDecoder().decode((await nc.request(subject, new TextEncoder().encode(body), { timeout: 2000 })).data)) as unknown;
    expect(await raw(`orch.cmd.tally.${id}`, 'not json')).toEqual({ status: 'invalid', errors: ['command: body is not JSON'] });
    const missing = (await raw(`orch.cmd.tally.${id}`, JSON.stringify({ type: 'Open' }))) as { status: string; errors: string[] };
    expect(missing.status).toBe('invalid');
    expect(missing.errors.join(' ')).toMatch(/commandId/);
    expect(missing.errors.join(' ')).toMatch(/actor/);
    const badType = await send(id, 'Add', { amount: 'lots' });
    expect(badType).toEqual({ status: 'invalid', errors: ['amount: must be an integer'] });
    expect(await send(id, 'Open')).toMatchObject({ status: 'accepted' });
  });

  it('a caller with no host running gets a named error', async () => {
    const nc = connections[connections.length - 1]!;
    const lonely = new CommandClient(nc, 'nobody-home');
    await expect(lonely.forward({ category: 'tally', id: 'x' }, { commandId: 'c1', type: 'Open', actor: 'U1' })).rejects.toBeInstanceOf(NoAggregateHost);
  });
});

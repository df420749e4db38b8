import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationAggregate } from '../../actors/aggregates/conversation.ts';
import { AggregateHost } from '../../actors/runtime/aggregate-host.ts';
import { AggregateStateClient, StateQueryRefused } from '../../actors/runtime/aggregate-state-client.ts';
import { CommandClient, NoAggregateHost } from '../../actors/runtime/command-client.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { systemClock } from '../../infra/system-clock.ts';
import { StreamReadLog } from '../support/counting-event-store.ts';
import { startNatsBroker, type NatsBroker } from '../support/nats-broker.ts';

// The aggregate hosts answer `<prefix>.state.<category>.<id>` with the aggregate's state, typed
// by category on the client. Two hosts share the queue group, so a read may reach the host that
// did not take the write: it must still see it. Reads are counted on the hosts' stores.

describe('aggregate state queries', () => {
  let broker: NatsBroker;
  const connections: NatsConnection[] = [];
  const hosts: AggregateHost<unknown, never, unknown>[] = [];
  const log = new StreamReadLog();
  let commands: CommandClient;
  let states: AggregateStateClient;

  beforeAll(async () => {
    broker = await startNatsBroker();
    for (const name of ['host-a', 'host-b']) {
      const nc = await connectNats(broker.url);
      connections.push(nc);
      const store = log.storeFor(name, await JetStreamEventStore.connect(nc));
      const host = new AggregateHost({ nc, store, definition: conversationAggregate, clock: systemClock, logger: pino({ level: 'silent' }) });
      host.start();
      await nc.flush();
      hosts.push(host as never);
    }
    const nc = await connectNats(broker.url);
    connections.push(nc);
    commands = new CommandClient(nc);
    states = new AggregateStateClient(nc);
  });
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    await Promise.all(connections.map((c) => c.close()));
    await broker.dispose();
  });

  const start = { user: 'U1', channel: 'C1', source: 'slack' } as const;
  const add = (id: string, n: number, text = `message ${n}`) =>
    commands.send(
      { category: 'conversation', id },
      { commandId: `${id}-m${n}`, type: 'AddMessage', actor: 'U1', data: { messageId: `m${n}`, role: 'user', text, start } },
    );

  it('answers the initial state for an aggregate that does not exist', async () => {
    expect(await states.read('conversation', 'nobody-here')).toEqual({ status: 'none' });
  });

  it('every read after an accepted command sees it, whichever of the two hosts answers', async () => {
    const id = `c-${crypto.randomUUID()}`;
    for (let n = 1; n <= 30; n++) {
      expect((await add(id, n)).status).toBe('accepted');
      const state = await states.read('conversation', id);
      // Typed from the conversation's definition: `messages` exists once it is active.
      if (state.status === 'none') expect.fail('the conversation was started by its first message');
      expect(state.messages.map((m) => m.id)).toEqual(Array.from({ length: n }, (_, i) => `m${i + 1}`));
    }
  });

  it('says which revision of the stream the state folds', async () => {
    const id = `c-${crypto.randomUUID()}`;
    expect(await states.readWithRevision('conversation', id)).toEqual({ state: { status: 'none' }, revision: null });
    await add(id, 1);
    await add(id, 2);
    // The first message started the conversation: revisions 0 and 1, then 2.
    expect((await states.readWithRevision('conversation', id)).revision).toBe(2n);
  });

  it('answers a cached state with one read of the last event, never a whole-stream fold', async () => {
    const id = `c-${crypto.randomUUID()}`;
    for (let n = 1; n <= 5; n++) await add(id, n);
    // Until both hosts have answered once, each holds the state as it is now (the queue group picks who answers).
    log.clear();
    for (let i = 0; i < 100 && new Set(log.reads.map((r) => r.reader)).size < 2; i++) await states.read('conversation', id);
    expect(new Set(log.reads.map((r) => r.reader))).toEqual(new Set(['host-a', 'host-b']));
    log.clear();
    for (let i = 0; i < 10; i++) await states.read('conversation', id);
    expect(log.reads).toHaveLength(10);
    expect(log.reads.filter((r) => r.whole)).toEqual([]);
  });

  it('refuses a state larger than an answer may be, by name', async () => {
    const id = `c-${crypto.randomUUID()}`;
    for (let n = 1; n <= 25; n++) await add(id, n, 'x'.repeat(40_000));
    const refused = await states.read('conversation', id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StateQueryRefused);
    expect(refused).toMatchObject({ code: 'StateTooLarge' });
  });

  it('refuses an id no aggregate can have, by name', async () => {
    await expect(states.read('conversation', 'x'.repeat(201))).rejects.toMatchObject({ name: 'StateQueryRefused', code: 'InvalidId' });
  });

  it('says NoAggregateHost when no host of the category runs', async () => {
    await expect(states.read('plan', 'p1')).rejects.toBeInstanceOf(NoAggregateHost);
  });
});

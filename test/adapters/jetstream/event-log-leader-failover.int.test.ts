import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../../adapters/jetstream/jetstream-event-store.ts';
import { JetStreamWorkQueue } from '../../../adapters/jetstream/work-queue.ts';
import { ANY, type NewEvent, type Subscription, type SubscriptionMessage } from '../../../domain/ports/event-store.ts';
import type { TakenWork, WorkItem } from '../../../domain/ports/work-queue.ts';
import { streamName } from '../../../domain/streams.ts';
import { connectNats } from '../../../infra/nats/connect-nats.ts';
import { startNatsCluster, type ClusterNode, type NatsCluster } from '../../support/nats-cluster.ts';
import { waitFor } from '../../support/waiting.ts';

// A real 3-node JetStream cluster, the event log at 3 replicas, and a kill -9 of the node that
// leads it. Subscriptions whose consumer lived on that node must notice and go on from where
// they were: every event once, in order, within a bounded time. Both the case where the
// subscriber's connection survives and the one where it was on the killed node (and moves) are
// covered, and each is made sure to have a consumer on the killed node.

let cluster: NatsCluster | undefined;
const connections: NatsConnection[] = [];

afterEach(async () => {
  await Promise.all(connections.splice(0).map((nc) => nc.close().catch(() => undefined)));
  await cluster?.dispose();
  cluster = undefined;
});

/** A connection that starts on `first` and may move to the other nodes. */
async function connectTo(first: ClusterNode, all: NatsCluster, name: string): Promise<NatsConnection> {
  const servers = [first.url, ...all.nodes.filter((n) => n !== first).map((n) => n.url)];
  const nc = await connectNats(servers, { name, noRandomize: true });
  connections.push(nc);
  return nc;
}

const event = (n: number): NewEvent => ({
  type: 'Counted',
  data: { n },
  metadata: {
    correlationId: 'c',
    causationId: 'c',
    commandId: `count-${n}-${randomUUID()}`,
    actor: 'test',
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

interface Follower {
  readonly store: string;
  readonly seen: number[];
  readonly subscription: Subscription;
  /** The node its first consumer was placed on. */
  consumer: string | undefined;
  done: Promise<void>;
  caughtUp: boolean;
}

describe('event log subscriptions when the event log leader is killed', () => {
  it('deliver every event once, in order, within a bounded time, whether their connection survives or moves', async () => {
    cluster = await startNatsCluster({ size: 3 });
    const logLines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });

    const setup = await connectTo(cluster.nodes[0]!, cluster, 'failover-setup');
    await JetStreamEventStore.connect(setup, { replicas: 3 });
    const jsm = await setup.jetstreamManager();
    const leaderName = (await jsm.streams.info('ORCH_EVENTS')).cluster?.leader;
    const leader = leaderName ? cluster.node(leaderName) : undefined;
    if (!leader) throw new Error('no leader reported for ORCH_EVENTS');
    const survivor = cluster.nodes.find((n) => n !== leader)!;
    const otherSurvivor = cluster.nodes.find((n) => n !== leader && n !== survivor)!;

    // Appends and checks go through a surviving node; `stays` subscribes from a surviving node,
    // `moves` from the node about to be killed.
    const writerNc = await connectTo(otherSurvivor, cluster, 'failover-writer');
    const writer = await JetStreamEventStore.connect(writerNc, { replicas: 3 });
    const stores = {
      stays: await JetStreamEventStore.connect(await connectTo(survivor, cluster, 'failover-stays'), { replicas: 3, logger }),
      moves: await JetStreamEventStore.connect(await connectTo(leader, cluster, 'failover-moves'), { replicas: 3, logger }),
    };

    const consumerLeaders = async (): Promise<Map<string, string | undefined>> => {
      const leaders = new Map<string, string | undefined>();
      for await (const info of jsm.consumers.list('ORCH_EVENTS')) leaders.set(info.name, info.cluster?.leader);
      return leaders;
    };
    // Consumers go to a random node of the stream's group: subscribe until each store has one on the leader.
    const followers: Follower[] = [];
    const onLeader = (store: string) => followers.filter((f) => f.store === store && f.consumer === leader.name).length;
    for (let i = 0; i < 24 && (onLeader('stays') === 0 || onLeader('moves') === 0); i++) {
      const which = i % 2 === 0 ? 'stays' : 'moves';
      if (onLeader(which) > 0) continue;
      const before = await consumerLeaders();
      const subscription = stores[which].subscribe(i % 4 < 2 ? { category: 'count' } : {});
      const follower: Follower = { store: which, consumer: undefined, seen: [], subscription, done: Promise.resolve(), caughtUp: false };
      follower.done = (async () => {
        for await (const message of subscription as AsyncIterable<SubscriptionMessage>) {
          if (message.kind === 'caughtUp') follower.caughtUp = true;
          if (message.kind === 'event') follower.seen.push((message.event.data as { n: number }).n);
        }
      })();
      // Awaited at the end; if the test fails first, the closed connection ends it with an error.
      follower.done.catch(() => undefined);
      await waitFor('the subscription caught up', () => follower.caughtUp);
      const created = [...(await consumerLeaders())].filter(([name]) => !before.has(name));
      expect(created).toHaveLength(1);
      follower.consumer = created[0]![1];
      followers.push(follower);
    }
    expect(onLeader('stays')).toBeGreaterThan(0);
    expect(onLeader('moves')).toBeGreaterThan(0);

    const append = async (n: number): Promise<void> => {
      const e = event(n);
      // During the election appends fail for a few seconds; the same event id makes a retry safe.
      await waitFor(
        `append ${n}`,
        () =>
          writer.append(streamName('count', `s${n % 3}`), [e], ANY).then(
            () => true,
            () => false,
          ),
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    };
    for (let n = 0; n < 5; n++) await append(n);
    await waitFor('the first five everywhere', () => followers.every((f) => f.seen.length === 5));

    await leader.kill9();
    const killedAt = Date.now();
    for (let n = 5; n < 25; n++) await append(n);
    const appendedAt = Date.now();

    const expected = Array.from({ length: 25 }, (_, n) => n);
    await waitFor('every event at every subscription', () => followers.every((f) => f.seen.length >= 25), {
      timeoutMs: 40_000,
      intervalMs: 100,
      context: () => followers.map((f) => `${f.store} (consumer on ${f.consumer}): ${f.seen.join(',')}`).join('\n'),
    });
    const deliveredAt = Date.now();
    await new Promise((r) => setTimeout(r, 500));
    for (const follower of followers) expect(follower.seen, `${follower.store} on ${follower.consumer}`).toEqual(expected);
    // Bounded: the election took a while, but a stalled subscription did not wait much longer.
    expect(deliveredAt - appendedAt).toBeLessThan(30_000);
    expect(deliveredAt - killedAt).toBeLessThan(60_000);

    // Each subscription whose consumer died said so once, and nothing was left unhandled.
    const stalls = logLines.filter((l) => l.msg === 'event subscription stalled; restarting it after the last handled event');
    expect(stalls.length).toBeGreaterThanOrEqual(followers.filter((f) => f.consumer === leader.name).length);

    // Reads by consumer (a scan) work on the survivors too.
    expect((await stores.stays.readAll({ category: 'count' })).map((e) => (e.data as { n: number }).n)).toEqual(expected);

    await Promise.all(followers.map((f) => f.subscription.close()));
    await Promise.all(followers.map((f) => f.done));
  }, 150_000);
});

const workItem = (n: number): WorkItem => ({
  taskId: `t${n}`,
  attempt: 1,
  maxAttempts: 3,
  taskType: 'noop',
  pool: 'p',
  priority: 'normal',
  payload: {},
  timeoutMs: 1_000,
});

describe('work queue when the work stream leader is killed', () => {
  it('takes every item enqueued before and after the kill', async () => {
    cluster = await startNatsCluster({ size: 3 });
    const setup = await connectTo(cluster.nodes[0]!, cluster, 'wq-setup');
    const queue0 = await JetStreamWorkQueue.connect(setup, { pools: ['p'], replicas: 3, ackWaitMs: 5_000 });
    queue0.close();
    const jsm = await setup.jetstreamManager();
    const leaderName = (await jsm.streams.info('ORCH_WORK')).cluster?.leader;
    const leader = leaderName ? cluster.node(leaderName) : undefined;
    if (!leader) throw new Error('no leader reported for ORCH_WORK');
    const survivor = cluster.nodes.find((n) => n !== leader)!;
    const producer = await JetStreamWorkQueue.connect(await connectTo(survivor, cluster, 'wq-producer'), { pools: ['p'], replicas: 3, ackWaitMs: 5_000 });
    // The worker starts on the node about to die, as a worker may.
    const worker = await JetStreamWorkQueue.connect(await connectTo(leader, cluster, 'wq-worker'), { pools: ['p'], replicas: 3, ackWaitMs: 5_000 });

    const enqueue = (n: number) =>
      waitFor(
        `enqueue ${n}`,
        () =>
          producer.enqueue(workItem(n)).then(
            () => true,
            () => false,
          ),
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    const taken: string[] = [];
    let stopping = false;
    const taking = (async () => {
      while (!stopping) {
        let work: TakenWork | undefined;
        try {
          work = await worker.take('p', 500);
        } catch {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        if (!work) continue;
        taken.push(work.item.taskId);
        await waitFor(
          'ack',
          () =>
            work.done().then(
              () => true,
              () => false,
            ),
          { timeoutMs: 30_000, intervalMs: 250 },
        );
      }
    })();

    try {
      for (let n = 0; n < 3; n++) await enqueue(n);
      await waitFor('first three taken', () => taken.length >= 3);
      await leader.kill9();
      for (let n = 3; n < 10; n++) await enqueue(n);
      await waitFor('all ten taken', () => new Set(taken).size >= 10, { timeoutMs: 45_000, context: () => taken.join(',') });
    } finally {
      stopping = true;
      await taking;
    }
    producer.close();
    worker.close();
    expect([...new Set(taken)].sort()).toEqual(Array.from({ length: 10 }, (_, n) => `t${n}`).sort());
  }, 150_000);
});

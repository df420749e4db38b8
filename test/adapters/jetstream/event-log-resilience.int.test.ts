import { randomUUID } from 'node:crypto';
import { connect, headers, type NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLogQuarantine } from '../../../adapters/jetstream/event-log-quarantine.ts';
import { JetStreamEventStore } from '../../../adapters/jetstream/jetstream-event-store.ts';
import { ANY, type NewEvent, type SubscriptionMessage } from '../../../domain/ports/event-store.ts';
import { streamName } from '../../../domain/streams.ts';
import { connectNats } from '../../../infra/nats/connect-nats.ts';
import { startNatsBroker, type NatsBroker } from '../../support/nats-broker.ts';
import { waitFor } from '../../support/waiting.ts';

// The JetStream event store's side of riding out faults: a subscription keeps delivering, in
// order and without gaps, across a kill -9 and restart of nats-server; a message on the log's
// subjects that is not a commit is passed over by subscriptions and reads, recorded once in the
// quarantine bucket, and counted.

let broker: NatsBroker;
let nc: NatsConnection;
let store: JetStreamEventStore;
const logLines: Record<string, unknown>[] = [];

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

/** Appends, retrying while the broker is down or JetStream is still starting. */
async function append(n: number): Promise<void> {
  const e = event(n);
  await waitFor(
    `append ${n}`,
    async () =>
      store.append(streamName('count', `s${n}`), [e], ANY).then(
        () => true,
        () => false,
      ),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

beforeAll(async () => {
  broker = await startNatsBroker();
  nc = await connectNats(broker.url, { name: 'event-log-resilience' });
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  store = await JetStreamEventStore.connect(nc, { logger });
}, 60_000);

afterAll(async () => {
  await nc?.close().catch(() => undefined);
  await broker?.dispose();
});

describe('JetStream event store under faults', () => {
  it('a subscription delivers every event once, in order, across a kill -9 and restart of the broker, and passes over a message that is not a commit', async () => {
    const seen: number[] = [];
    const subscription = store.subscribe({ category: 'count' });
    const following = (async () => {
      for await (const message of subscription as AsyncIterable<SubscriptionMessage>) {
        if (message.kind === 'event') seen.push((message.event.data as { n: number }).n);
      }
    })();
    for (let n = 0; n < 5; n++) await append(n);
    await waitFor('first five', () => seen.length === 5);

    await broker.kill9();
    await new Promise((r) => setTimeout(r, 2_000));
    await broker.restart();

    for (let n = 5; n < 8; n++) await append(n);
    // Published by a plain client, as anything on the machine could.
    const raw = await connect({ servers: broker.url });
    const h = headers();
    h.set('Orch-Revision', 'zero');
    const bad = await raw.jetstream().publish('orch.es.count.bad', new TextEncoder().encode('[]'), { headers: h });
    await raw.close();
    for (let n = 8; n < 10; n++) await append(n);

    await waitFor('all ten', () => seen.length >= 10, { timeoutMs: 30_000 });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await subscription.close();
    await following;

    expect(store.quarantinedCount).toBe(1);
    const quarantined = logLines.filter((l) => l.msg === 'event log message is not a commit; quarantined and passed over');
    expect(quarantined).toEqual([expect.objectContaining({ seq: bad.seq, subject: 'orch.es.count.bad' })]);
    expect(await (await EventLogQuarantine.open(nc)).list()).toEqual([
      expect.objectContaining({ seq: bad.seq, subject: 'orch.es.count.bad', reason: 'Orch-Revision "zero" is not a revision', size: 2 }),
    ]);

    // Reads pass over it too, and it is not logged a second time.
    const all = await store.readAll({ category: 'count' });
    expect(all.map((e) => (e.data as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await store.read(streamName('count', 'bad'))).toEqual({ exists: false, events: [] });
    expect(logLines.filter((l) => l.msg === 'event log message is not a commit; quarantined and passed over')).toHaveLength(1);
  }, 120_000);
});

import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { JetStreamPublicEventSink } from '../../adapters/jetstream/public-event-sink.ts';
import { publicEventNames } from '../../adapters/jetstream/public-event-stream.ts';
import { KvCheckpointStore } from '../../adapters/nats/kv-checkpoint-store.ts';
import { streamName } from '../../domain/streams.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { PublicEventPublisher } from '../../projections/public-events/public-event-publisher.ts';
import { oneEvent } from '../support/events.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { waitFor } from '../support/waiting.ts';

// The public events reactor as a last line of defence (SE4): an event recorded with a secret in
// it (say, before executor output was scrubbed at the source) goes out to outside consumers with
// its data scrubbed; the recorded event itself is not rewritten.

const KNOWN = 'configured-nats-password-31';
const SF = '00D5g000004XYZAB!AQ0AQHk3bNUfZr2lPqkq7gMv1xOq';

let server: TestNatsServer;
let nc: NatsConnection;
let publisher: PublicEventPublisher;

beforeAll(async () => {
  server = await startTestNatsServer();
  nc = await connectNats(server.url);
});
afterAll(async () => {
  await publisher?.stop();
  await nc?.close();
  await server?.dispose();
});

describe('PublicEventPublisher scrubs event data', () => {
  it('a TaskFailed holding a token and a known value is published scrubbed', async () => {
    const store = await JetStreamEventStore.connect(nc);
    const taskId = 'scrub-1';
    const message = `sf said: session ${SF} refused (password ${KNOWN})`;
    await store.append(
      streamName('task', taskId),
      oneEvent('TaskFailed', {
        taskId,
        at: '2026-12-07T20:00:00.000Z',
        attempt: 1,
        error: { code: 'SalesforceAuthFailed', message },
        retryable: false,
        final: true,
      }),
      'no_stream',
    );
    const sink = await JetStreamPublicEventSink.connect(nc);
    publisher = new PublicEventPublisher({
      store,
      sink,
      checkpoints: await KvCheckpointStore.connect(nc),
      logger: pino({ level: 'silent' }),
      source: 'orch://orch',
      secretValues: [KNOWN],
    });
    await publisher.start();
    await waitFor('the event to be published', () => publisher.counts.published === 1, { timeoutMs: 10_000 });

    const consumer = await nc.jetstream().consumers.get(publicEventNames('orch').streamName);
    const published = (await consumer.next())!.json<{ type: string; data: { error: { message: string } } }>();
    expect(published.type).toBe('TaskFailed');
    expect(published.data.error.message).toBe('sf said: session [redacted:salesforce-token] refused (password [redacted])');
    // What was recorded stays as it was: the store is not rewritten, only what leaves is scrubbed.
    expect(JSON.stringify((await store.read(streamName('task', taskId))).events[0]!.data)).toContain(KNOWN);
  });
});

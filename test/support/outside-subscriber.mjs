// An outside consumer of the public events, written as a separate program would be: plain
// nats.js and nothing from this project. It creates its own durable pull consumer on the
// public stream, prints one JSON line per received CloudEvent and acks it.
//
// node test/support/outside-subscriber.mjs <nats-url> <stream> <durable-name> <filter-subject>
import { AckPolicy, connect, DeliverPolicy } from 'nats';

const [url, stream, durable, filter] = process.argv.slice(2);
if (!url || !stream || !durable || !filter) {
  console.error('usage: outside-subscriber.mjs <nats-url> <stream> <durable-name> <filter-subject>');
  process.exit(2);
}

const nc = await connect({ servers: url, name: 'outside-subscriber' });
const jsm = await nc.jetstreamManager();

// The publisher creates the stream when it first starts; until then there is nothing to read.
for (;;) {
  try {
    await jsm.streams.info(stream);
    break;
  } catch (error) {
    if (!/stream not found/i.test(error.message)) throw error;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Idempotent: starting again with the same name resumes where the last run acked.
await jsm.consumers.add(stream, { durable_name: durable, filter_subject: filter, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
const consumer = await nc.jetstream().consumers.get(stream, durable);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

const stop = async () => {
  await nc.drain();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

const messages = await consumer.consume();
for await (const message of messages) {
  const event = message.json();
  process.stdout.write(`${JSON.stringify({ id: event.id, type: event.type, subject: event.subject })}\n`);
  message.ack();
}

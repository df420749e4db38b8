import { AckPolicy, StorageType, type NatsConnection } from 'nats';

// The raw floor under a task: a JetStream work stream with one pulling worker that acks each
// item and answers on a core subject. `step(id)` is one such round trip: publish, pull, ack,
// core publish back.

export interface RawWork {
  step(id: string, payload?: unknown): Promise<void>;
  close(): Promise<void>;
}

export async function rawWork(nc: NatsConnection, options: { stream: string; subject: string; maxMessages: number }): Promise<RawWork> {
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const done = `${options.subject}.done`;
  await jsm.streams.add({ name: options.stream, subjects: [`${options.subject}.work`], storage: StorageType.File });
  await jsm.consumers.add(options.stream, { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get(options.stream, 'worker');
  const waiting = new Map<string, () => void>();
  const replies = nc.subscribe(`${done}.>`);
  void (async () => {
    for await (const m of replies) waiting.get(m.subject.slice(done.length + 1))?.();
  })();
  const messages = await consumer.consume({ max_messages: options.maxMessages });
  const worker = (async () => {
    for await (const m of messages) {
      const { id } = JSON.parse(new TextDecoder().decode(m.data)) as { id: string };
      await m.ackAck();
      nc.publish(`${done}.${id}`, m.data);
    }
  })();
  const encoder = new TextEncoder();
  return {
    async step(id, payload = {}) {
      const seen = new Promise<void>((resolve) => waiting.set(id, resolve));
      await js.publish(`${options.subject}.work`, encoder.encode(JSON.stringify({ id, taskType: 'noop', payload })), { msgID: id });
      await seen;
      waiting.delete(id);
    },
    async close() {
      replies.unsubscribe();
      messages.stop();
      await worker;
    },
  };
}

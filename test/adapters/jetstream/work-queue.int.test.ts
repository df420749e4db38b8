import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamWorkQueue } from '../../../adapters/jetstream/work-queue.ts';
import type { Priority, WorkItem } from '../../../domain/ports/work-queue.ts';
import { connectNats } from '../../../infra/nats/connect-nats.ts';
import { startTestNatsServer, type TestNatsServer } from '../../support/nats.ts';

const item = (pool: string, priority: Priority, taskId = crypto.randomUUID(), attempt = 1): WorkItem => ({
  taskId,
  attempt,
  maxAttempts: 3,
  taskType: 'git-status',
  pool,
  priority,
  payload: { repository: 'r' },
  timeoutMs: 60_000,
});

describe('JetStream work queue', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let queue: JetStreamWorkQueue;
  const pools = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];

  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    queue = await JetStreamWorkQueue.connect(nc, { pools, ackWaitMs: 1_000 });
  });
  afterAll(async () => {
    queue.close();
    await nc.close();
    await server.dispose();
  });

  it('hands out high before normal before low, each once', async () => {
    const [low, normal, high] = [item('alpha', 'low'), item('alpha', 'normal'), item('alpha', 'high')];
    for (const i of [low, normal, high]) await queue.enqueue(i);
    const taken = [];
    for (let i = 0; i < 3; i++) {
      const work = await queue.take('alpha', 100);
      taken.push(work!.item.taskId);
      await work!.done();
    }
    expect(taken).toEqual([high.taskId, normal.taskId, low.taskId]);
    expect(await queue.take('alpha', 100)).toBeUndefined();
  });

  it('enqueuing the same task attempt twice delivers it once; another attempt is new work', async () => {
    const first = item('beta', 'normal');
    await queue.enqueue(first);
    await queue.enqueue(first);
    await queue.enqueue({ ...first, attempt: 2 });
    const attempts = [];
    for (let work = await queue.take('beta', 100); work; work = await queue.take('beta', 100)) {
      attempts.push(work.item.attempt);
      await work.done();
    }
    expect(attempts).toEqual([1, 2]);
  });

  it('delivers again, with a higher delivery count, when the holder goes silent past the ack wait', async () => {
    const lost = item('gamma', 'normal');
    await queue.enqueue(lost);
    const first = await queue.take('gamma', 100);
    expect(first!.deliveryCount).toBe(1);
    // No heartbeat, no done(): as if the worker was killed.
    const again = await queue.take('gamma', 5_000);
    expect(again!.item.taskId).toBe(lost.taskId);
    expect(again!.deliveryCount).toBe(2);
    await again!.done();
  });

  it('heartbeats keep an item with its holder', async () => {
    const held = item('delta', 'normal');
    await queue.enqueue(held);
    const work = await queue.take('delta', 100);
    const beat = setInterval(() => work!.heartbeat(), 300);
    expect(await queue.take('delta', 2_500)).toBeUndefined();
    clearInterval(beat);
    await work!.done();
  });

  it('a waiting worker wakes as soon as work arrives', async () => {
    const waiting = queue.take('epsilon', 10_000);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await queue.enqueue(item('epsilon', 'low'));
    const work = await waiting;
    expect(work).toBeDefined();
    expect(Date.now() - started).toBeLessThan(500);
    await work!.done();
  });
});

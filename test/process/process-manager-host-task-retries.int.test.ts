import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskAggregate } from '../../actors/aggregates/task.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { TaskDispatcher } from '../../actors/task-dispatcher.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { JetStreamWorkQueue } from '../../adapters/jetstream/work-queue.ts';
import { KvCheckpointStore } from '../../adapters/nats/kv-checkpoint-store.ts';
import { KvReadModelStorage } from '../../adapters/nats/kv-read-model-storage.ts';
import { comparePositions, type RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { systemClock } from '../../infra/system-clock.ts';
import { taskRetryAgenda, taskRetryTimers } from '../../projections/models/task-retry-timers.ts';
import { ProjectionSupervisor } from '../../projections/runtime/projection-supervisor.ts';
import { ServingModelReader } from '../../projections/runtime/serving-model.ts';
import { startAggregateHosts } from '../support/aggregate-hosts.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { waitFor } from '../support/waiting.ts';

// Task retries on the durable agenda, on a real nats-server: the dispatcher (task dispatch on the
// process-manager host) lets its checkpoint pass a pending retry once the task-retry-timers model
// holds it, and a dispatcher started after that arms the retry from the model and queues the next
// attempt at its due time. Without the model, the checkpoint waits for the retry to be queued.

const logger = pino({ level: 'silent' });
const POOL = 'retry-pool';
const CHECKPOINT = 'task-dispatcher';

let server: TestNatsServer;
let nc: NatsConnection;
let store: JetStreamEventStore;
let commands: CommandClient;
let checkpoints: KvCheckpointStore;
let queue: JetStreamWorkQueue;
let retries: ReturnType<typeof taskRetryAgenda>;
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startTestNatsServer();
  nc = await connectNats(server.url);
  store = await JetStreamEventStore.connect(nc);
  stops.push(startAggregateHosts(nc, store, [taskAggregate], logger));
  commands = new CommandClient(nc);
  checkpoints = await KvCheckpointStore.connect(nc);
  const storage = await KvReadModelStorage.connect(nc);
  const projection = new ProjectionSupervisor({ definition: taskRetryTimers, store, storage, clock: systemClock, logger, flushEveryMs: 50 });
  await projection.start();
  stops.push(() => projection.stop());
  retries = taskRetryAgenda(new ServingModelReader(storage, taskRetryTimers.name));
  queue = await JetStreamWorkQueue.connect(nc, { pools: [POOL], ackWaitMs: 30_000 });
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  queue?.close();
  await nc?.close();
  await server?.dispose();
});

const history = async (taskId: string): Promise<RecordedEvent[]> => [...(await store.read(streamName('task', taskId))).events];
const send = (taskId: string, type: 'QueueTask' | 'AssignTask' | 'FailTask', data: Record<string, unknown>) =>
  commands.send({ category: 'task', id: taskId }, { commandId: `${type}-${taskId}-${randomUUID()}`, type, actor: 'ghost', data } as never);

/** The next item of the pool (taken and done). */
async function takeNext(waitMs = 10_000) {
  const taken = await queue.take(POOL, waitMs);
  await taken?.done();
  return taken?.item;
}

/** A task queued, its first attempt taken and failed; resolves with its TaskRetryScheduled. */
async function failFirstAttempt(retryDelayMs: number): Promise<{ taskId: string; scheduled: RecordedEvent }> {
  const taskId = `retry-${randomUUID().slice(0, 8)}`;
  expect(
    (await send(taskId, 'QueueTask', { taskType: 'count', pool: POOL, payload: { n: 1 }, timeoutMs: 60_000, maxAttempts: 3, requestedBy: 'U1' })).status,
  ).toBe('accepted');
  expect(await takeNext()).toMatchObject({ taskId, attempt: 1 });
  expect((await send(taskId, 'AssignTask', { workerId: 'ghost', attempt: 1 })).status).toBe('accepted');
  expect((await send(taskId, 'FailTask', { attempt: 1, error: { code: 'Flaky', message: 'flaked' }, retryable: true, retryDelayMs })).status).toBe('accepted');
  const scheduled = (await history(taskId)).find((e) => e.type === 'TaskRetryScheduled')!;
  return { taskId, scheduled };
}

const checkpointPast = async (event: RecordedEvent) => {
  const at = await checkpoints.load(CHECKPOINT);
  return at !== undefined && comparePositions(at, event.position) >= 0;
};

describe('task retries on the durable agenda', () => {
  it('a retry the model holds no longer holds the checkpoint, and a dispatcher started later queues it at its due time', async () => {
    let dispatcher = new TaskDispatcher({ store, queue, checkpoints, nc, logger, retries });
    await dispatcher.start();
    const { taskId, scheduled } = await failFirstAttempt(3_000);
    const dueAt = Date.parse((scheduled.data as { dueAt: string }).dueAt);
    await waitFor('the model to hold the retry', async () => (await retries.get(taskId))?.nextAttempt === 2, { timeoutMs: 5_000 });
    await waitFor('the checkpoint past the pending retry', () => checkpointPast(scheduled), { timeoutMs: 5_000 });
    await dispatcher.stop();

    // Only the model knows the retry now: the log from the checkpoint on does not hold it.
    dispatcher = new TaskDispatcher({ store, queue, checkpoints, nc, logger, retries });
    await dispatcher.start();
    try {
      const item = await takeNext(8_000);
      expect(item).toMatchObject({ taskId, attempt: 2, maxAttempts: 3, payload: { n: 1 } });
      expect(Date.now()).toBeGreaterThanOrEqual(dueAt);
    } finally {
      await dispatcher.stop();
    }
  });

  it('without the model the checkpoint stays before a pending retry until it is queued', async () => {
    const dispatcher = new TaskDispatcher({ store, queue, checkpoints, nc, logger });
    await dispatcher.start();
    try {
      const { taskId, scheduled } = await failFirstAttempt(2_500);
      await new Promise((r) => setTimeout(r, 1_300)); // more than the reactor's checkpoint interval
      expect(await checkpointPast(scheduled)).toBe(false);
      expect(await takeNext(5_000)).toMatchObject({ taskId, attempt: 2 });
      await waitFor('the checkpoint past the queued retry', () => checkpointPast(scheduled), { timeoutMs: 5_000 });
    } finally {
      await dispatcher.stop();
    }
  });
});

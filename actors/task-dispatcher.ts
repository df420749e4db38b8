import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.ts';
import { comparePositions, type EventStore, type GlobalPosition, type RecordedEvent, type Subscription } from '../domain/ports/event-store.ts';
import type { Priority, WorkQueue } from '../domain/ports/work-queue.ts';
import { parseStreamName, streamName } from '../domain/streams.ts';

// Process manager between the task aggregate and the work queues: TaskQueued becomes an item
// on the pool's queue, TaskRetryScheduled becomes the next attempt at its due time, and
// TaskCancelled reaches the worker running the task. Enqueue is idempotent per attempt, so a
// replay after a crash sends nothing twice; the checkpoint never passes a retry that has not
// fired yet, so a restart finds every pending retry again.

const CHECKPOINT_NAME = 'task-dispatcher';

const queuedData = z.object({
  taskType: z.string(),
  pool: z.string(),
  priority: z.enum(['high', 'normal', 'low']).default('normal'),
  payload: z.unknown(),
  maxAttempts: z.number().int().positive().default(3),
  timeoutMs: z.number().int().positive().default(1_800_000),
});
const retryData = z.object({ nextAttempt: z.number().int().positive(), dueAt: z.string() });

type QueuedTask = z.infer<typeof queuedData>;

interface PendingRetry {
  readonly timer: NodeJS.Timeout;
  /** Resume point that replays this retry's event. */
  readonly resumeAfter: GlobalPosition | undefined;
}

export interface TaskDispatcherOptions {
  readonly store: EventStore;
  readonly queue: WorkQueue;
  readonly checkpoints: CheckpointStore;
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly prefix?: string;
}

export class TaskDispatcher {
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private readonly tasks = new Map<string, QueuedTask>();
  private readonly retries = new Map<string, PendingRetry>();
  private last: GlobalPosition | undefined;
  private saved: GlobalPosition | undefined;

  constructor(private readonly options: TaskDispatcherOptions) {}

  async start(): Promise<void> {
    this.saved = this.last = await this.options.checkpoints.load(CHECKPOINT_NAME);
    this.subscription = this.options.store.subscribe({ category: 'task', ...(this.last ? { after: this.last } : {}) });
    const subscription = this.subscription;
    this.loop = (async () => {
      for await (const message of subscription) {
        if (message.kind !== 'event') {
          if (message.kind === 'checkpoint') await this.saveCheckpoint();
          continue;
        }
        await this.handle(message.event).catch((error: unknown) =>
          this.options.logger.error({ err: error, eventId: message.event.id, type: message.event.type }, 'dispatch failed'),
        );
        this.last = message.event.position;
      }
    })();
  }

  async stop(): Promise<void> {
    await this.subscription?.close();
    await this.loop;
    for (const retry of this.retries.values()) clearTimeout(retry.timer);
    await this.saveCheckpoint();
  }

  private async handle(event: RecordedEvent): Promise<void> {
    const taskId = parseStreamName(event.stream).id;
    switch (event.type) {
      case 'TaskQueued': {
        const task = queuedData.parse(event.data);
        this.tasks.set(taskId, task);
        await this.enqueue(taskId, task, 1);
        return;
      }
      case 'TaskRetryScheduled': {
        const { nextAttempt, dueAt } = retryData.parse(event.data);
        const delay = Math.max(0, Date.parse(dueAt) - Date.now());
        const resumeAfter = this.last;
        const timer = setTimeout(() => {
          this.retries.delete(taskId);
          void this.taskData(taskId)
            .then((task) => this.enqueue(taskId, task, nextAttempt))
            .catch((error: unknown) => this.options.logger.error({ err: error, taskId }, 'retry enqueue failed'));
        }, delay);
        clearTimeout(this.retries.get(taskId)?.timer);
        this.retries.set(taskId, { timer, resumeAfter });
        return;
      }
      case 'TaskCancelled':
        this.forget(taskId);
        this.options.nc.publish(`${this.options.prefix ?? 'orch'}.signal.task.${taskId}`, new TextEncoder().encode('cancel'));
        return;
      case 'TaskCompleted':
        this.forget(taskId);
        return;
      case 'TaskFailed':
        if ((event.data as { final?: boolean }).final) this.forget(taskId);
        return;
      default:
        return;
    }
  }

  private forget(taskId: string): void {
    const retry = this.retries.get(taskId);
    if (retry) clearTimeout(retry.timer);
    this.retries.delete(taskId);
    this.tasks.delete(taskId);
  }

  private async enqueue(taskId: string, task: QueuedTask, attempt: number): Promise<void> {
    await this.options.queue.enqueue({
      taskId,
      attempt,
      maxAttempts: task.maxAttempts,
      taskType: task.taskType,
      pool: task.pool,
      priority: task.priority as Priority,
      payload: task.payload,
      timeoutMs: task.timeoutMs,
    });
  }

  /** The queued task's data, from memory or, after a restart past its TaskQueued, from its stream. */
  private async taskData(taskId: string): Promise<QueuedTask> {
    const known = this.tasks.get(taskId);
    if (known) return known;
    const { events } = await this.options.store.read(streamName('task', taskId), { maxCount: 1 });
    const queued = events[0];
    if (!queued || queued.type !== 'TaskQueued') throw new Error(`task ${taskId} has no TaskQueued event`);
    const task = queuedData.parse(queued.data);
    this.tasks.set(taskId, task);
    return task;
  }

  private async saveCheckpoint(): Promise<void> {
    // Never past a pending retry: resume just before the oldest one so a restart re-arms it.
    let position = this.last;
    for (const retry of this.retries.values()) {
      if (retry.resumeAfter === undefined) return;
      if (position === undefined || comparePositions(retry.resumeAfter, position) < 0) position = retry.resumeAfter;
    }
    if (position === undefined || position === this.saved) return;
    await this.options.checkpoints.save(CHECKPOINT_NAME, position);
    this.saved = position;
  }
}

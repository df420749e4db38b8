import type { NatsConnection } from 'nats';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.ts';
import type { Priority, WorkQueue } from '../domain/ports/work-queue.ts';
import { parseStreamName, streamName } from '../domain/streams.ts';
import { taskEventReactor, type EventReactor, type Hold } from './runtime/event-reactor.ts';
import { KeyedMailbox } from './runtime/keyed-mailbox.ts';
import { taskEventIn } from '../domain/events/typed-events.ts';
import type { TaskEventData } from '../domain/task/events.ts';

// Process manager between the task aggregate and the work queues: TaskQueued becomes an item
// on the pool's queue, TaskRetryScheduled becomes the next attempt at its due time, and
// TaskCancelled reaches the worker running the task. Enqueue is idempotent per attempt, so a
// replay after a crash sends nothing twice; the checkpoint never passes a retry that has not
// fired yet, so a restart finds every pending retry again. Events of different tasks are
// handled concurrently, each task's in order; a hold per event keeps the checkpoint before
// an enqueue that has not finished.

const CHECKPOINT_NAME = 'task-dispatcher';

/** What the queue needs of a task: its TaskQueued, read through the domain's typed reader. */
type QueuedTask = TaskEventData<'TaskQueued'>;

export interface TaskDispatcherOptions {
  readonly store: EventStore;
  readonly queue: WorkQueue;
  readonly checkpoints: CheckpointStore;
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly prefix?: string;
}

export class TaskDispatcher {
  private readonly tasks = new Map<string, QueuedTask>();
  /** Pending retries; each holds the checkpoint before its event so a restart re-arms it. */
  private readonly retries = new Map<string, { readonly timer: NodeJS.Timeout; readonly hold: Hold }>();
  private readonly reactor: EventReactor;
  private readonly mailbox = new KeyedMailbox();
  /** Aborted by stop(): an enqueue still retrying gives up (its hold keeps the checkpoint before it). */
  private readonly stopping = new AbortController();

  constructor(private readonly options: TaskDispatcherOptions) {
    this.reactor = taskEventReactor(CHECKPOINT_NAME, options, (event, hold) => {
      // Both holds are taken now, while the reactor is at this event; the work may run later.
      const handling = hold();
      const retryHold = event.type === 'TaskRetryScheduled' ? hold() : undefined;
      void this.mailbox
        .run(parseStreamName(event.stream).id, () => this.handle(event, retryHold))
        .catch((error: unknown) => options.logger.error({ err: error, eventId: event.id, type: event.type }, 'dispatch failed'))
        .finally(() => handling.release());
    });
  }

  start(): Promise<void> {
    return this.reactor.start();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.reactor.stop();
    await this.mailbox.idle();
    // Timers cleared without releasing their holds: the checkpoint stays before them.
    for (const retry of this.retries.values()) clearTimeout(retry.timer);
  }

  /** `retryHold`: for TaskRetryScheduled, the hold its timer keeps until the retry is enqueued. */
  private async handle(recorded: RecordedEvent, retryHold: Hold | undefined): Promise<void> {
    const typed = taskEventIn(recorded);
    if (!typed) {
      retryHold?.release();
      // Not a task event this product wrote (the typed reader refuses it): nothing to dispatch.
      return this.options.logger.warn({ eventId: recorded.id, type: recorded.type }, 'dispatcher skipped a task event it cannot read');
    }
    const { id: taskId, event } = typed;
    switch (event.type) {
      case 'TaskQueued': {
        const task = event.data;
        this.tasks.set(taskId, task);
        await this.enqueue(taskId, task, 1);
        return;
      }
      case 'TaskRetryScheduled': {
        const { nextAttempt, dueAt } = event.data;
        const delay = Math.max(0, Date.parse(dueAt) - Date.now());
        const held = retryHold!;
        const timer = setTimeout(() => {
          this.retries.delete(taskId);
          void this.untilDone(() => this.taskData(taskId), taskId, 'reading the queued task failed; retrying')
            .then((task) => this.enqueue(taskId, task, nextAttempt))
            .catch((error: unknown) => this.options.logger.error({ err: error, taskId }, 'retry enqueue failed'))
            .finally(() => held.release());
        }, delay);
        this.forgetRetry(taskId);
        this.retries.set(taskId, { timer, hold: held });
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
        if (event.data.final) this.forget(taskId);
        return;
      default:
        return;
    }
  }

  private forget(taskId: string): void {
    this.forgetRetry(taskId);
    this.tasks.delete(taskId);
  }

  private forgetRetry(taskId: string): void {
    const retry = this.retries.get(taskId);
    if (!retry) return;
    clearTimeout(retry.timer);
    retry.hold.release();
    this.retries.delete(taskId);
  }

  /**
   * Retried with jittered backoff until the queue takes it: while the broker restarts, a dropped
   * enqueue would leave the task queued forever. Enqueue is idempotent per attempt.
   */
  private enqueue(taskId: string, task: QueuedTask, attempt: number): Promise<void> {
    return this.untilDone(() => this.enqueueOnce(taskId, task, attempt), taskId, 'enqueue failed; retrying');
  }

  /** `work` retried with jittered backoff until it succeeds or the dispatcher stops. */
  private untilDone<T>(work: () => Promise<T>, taskId: string, message: string): Promise<T> {
    return pRetry(work, {
      retries: Number.POSITIVE_INFINITY,
      minTimeout: 100,
      maxTimeout: 5_000,
      randomize: true,
      signal: this.stopping.signal,
      onFailedAttempt: ({ error, attemptNumber }) => this.options.logger[attemptNumber > 3 ? 'warn' : 'debug']({ err: error, taskId, tries: attemptNumber }, message),
    });
  }

  private async enqueueOnce(taskId: string, task: QueuedTask, attempt: number): Promise<void> {
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
    const queued = events[0] && taskEventIn(events[0])?.event;
    // Not worth retrying: AbortError ends untilDone at once.
    if (queued?.type !== 'TaskQueued') throw new AbortError(`task ${taskId} has no TaskQueued event`);
    const task = queued.data;
    this.tasks.set(taskId, task);
    return task;
  }
}

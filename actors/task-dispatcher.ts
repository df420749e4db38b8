import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.ts';
import type { Priority, WorkQueue } from '../domain/ports/work-queue.ts';
import { streamName } from '../domain/streams.ts';
import {
  nextPendingRetry,
  pendingRetryState,
  taskDispatch,
  type DispatchEffect,
  type DispatchEvent,
  type DispatchState,
  type PendingRetry,
  type QueuedTask,
} from '../domain/process/task-dispatch.ts';
import { taskEventIn } from '../domain/events/typed-events.ts';
import type { TaskRetryAgenda } from '../projections/models/task-retry-timers.ts';
import { AbortError, ProcessManagerHost } from './runtime/process-manager-host.ts';

// The task dispatcher: task dispatch (domain/process/task-dispatch.ts) on the process-manager
// host. Its ports: the work queue (enqueue is idempotent per attempt) and the worker's cancel
// signal. Pending retries live on the durable agenda, rebuilt at start from the
// `task-retry-timers` read model; the checkpoint stays before a TaskRetryScheduled only until the
// model holds that retry (without a model, until the retry is enqueued), so a restart finds every
// pending retry again.

const CHECKPOINT_NAME = 'task-dispatcher';

export interface TaskDispatcherOptions {
  readonly store: EventStore;
  readonly queue: WorkQueue;
  readonly checkpoints: CheckpointStore;
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly prefix?: string;
  /** Where pending retries are rebuilt from at start; without it, from the log alone (the checkpoint waits for each retry to be enqueued). */
  readonly retries?: TaskRetryAgenda;
}

type DispatchHost = ProcessManagerHost<DispatchEvent, DispatchState, DispatchEffect, unknown, { readonly nextAttempt: number }>;

export class TaskDispatcher {
  private readonly host: DispatchHost;

  constructor(private readonly options: TaskDispatcherOptions) {
    const retries = options.retries;
    this.host = new ProcessManagerHost({
      manager: taskDispatch,
      follows: [{ category: 'task', checkpoint: CHECKPOINT_NAME, read: (recorded) => this.read(recorded) }],
      store: options.store,
      checkpoints: options.checkpoints,
      logger: options.logger,
      perform: (effect) => this.perform(effect),
      ...(retries && { restore: () => this.restore(retries) }),
      confirm: {
        needs: ({ event }) => event.type === 'TaskRetryScheduled',
        holding: async (keys) => {
          if (!retries) return new Set();
          const held = await Promise.all(
            keys.map(async ({ key, state }) => ((await retries.get(key))?.nextAttempt === state.retry?.nextAttempt ? key : undefined)),
          );
          return new Set(held.filter((key) => key !== undefined));
        },
      },
    });
  }

  start(): Promise<void> {
    return this.host.start();
  }

  stop(): Promise<void> {
    return this.host.stop();
  }

  private read(recorded: RecordedEvent): { key: string; event: DispatchEvent } | undefined {
    const typed = taskEventIn(recorded);
    // Not a task event this product wrote (the typed reader refuses it): nothing to dispatch.
    if (!typed) return void this.options.logger.warn({ eventId: recorded.id, type: recorded.type }, 'dispatcher skipped a task event it cannot read');
    return { key: typed.id, event: { taskId: typed.id, event: typed.event } };
  }

  private async perform(effect: DispatchEffect): Promise<void> {
    if (effect.kind === 'signal-cancel') {
      this.options.nc.publish(`${this.options.prefix ?? 'orch'}.signal.task.${effect.taskId}`, new TextEncoder().encode('cancel'));
      return;
    }
    const task = effect.task ?? (await this.queuedTask(effect.taskId));
    await this.options.queue.enqueue({
      taskId: effect.taskId,
      attempt: effect.attempt,
      maxAttempts: task.maxAttempts,
      taskType: task.taskType,
      pool: task.pool,
      priority: task.priority as Priority,
      payload: task.payload,
      timeoutMs: task.timeoutMs,
    });
  }

  /** A retried task's TaskQueued when it was before the checkpoint: the first event of its stream. */
  private async queuedTask(taskId: string): Promise<QueuedTask> {
    const { events } = await this.options.store.read(streamName('task', taskId), { maxCount: 1 });
    const queued = events[0] && taskEventIn(events[0])?.event;
    // Not worth retrying: the host gives up at once (and logs it).
    if (queued?.type !== 'TaskQueued') throw new AbortError(`task ${taskId} has no TaskQueued event`);
    return queued.data;
  }

  /** Every pending retry the model holds, brought up to the end of its task's stream. */
  private async restore(retries: TaskRetryAgenda): Promise<[string, DispatchState][]> {
    const pending = await retries.pending();
    const restored: [string, DispatchState][] = [];
    for (let i = 0; i < pending.length; i += 32) {
      await Promise.all(
        pending.slice(i, i + 32).map(async (doc) => {
          const { events } = await this.options.store.read(streamName('task', doc.taskId), { fromRevision: BigInt(doc.revision + 1) });
          let current: PendingRetry | undefined = doc;
          for (const recorded of events) {
            const typed = taskEventIn(recorded);
            if (typed) current = nextPendingRetry(current, typed.id, typed.event, Number(recorded.revision));
          }
          if (current) restored.push([current.taskId, pendingRetryState(current)]);
        }),
      );
    }
    return restored;
  }
}

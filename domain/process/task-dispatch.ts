import { match } from 'ts-pattern';
import type { TaskEvent, TaskEventData } from '../task/events.ts';
import type { EffectIntent, ManagerInput, TimedProcessManager } from './process-manager.ts';

// Task dispatch: the process manager between the task aggregate and the work queues, one key per
// task. TaskQueued becomes an item on the pool's queue (attempt 1); TaskRetryScheduled becomes a
// timer at its due time whose firing enqueues the next attempt; TaskCancelled reaches the worker
// running the task as a cancel signal; a task that ended is forgotten (its pending retry with
// it). Enqueue is idempotent per attempt (the queue's message id), so a replay after a crash or
// a retry timer fired twice sends nothing twice.

/** What the queue needs of a task: its TaskQueued. */
export type QueuedTask = TaskEventData<'TaskQueued'>;

export type DispatchEffect =
  /** `task` is undefined when the TaskQueued was before the checkpoint: the port reads it (the stream's first event). */
  | { readonly kind: 'enqueue'; readonly taskId: string; readonly attempt: number; readonly task?: QueuedTask }
  | { readonly kind: 'signal-cancel'; readonly taskId: string };

/** The task event and the id of the task it happened to (the key). */
export interface DispatchEvent {
  readonly taskId: string;
  readonly event: TaskEvent;
}

export interface RetryDue {
  readonly nextAttempt: number;
}

export type DispatchInput = ManagerInput<DispatchEvent, unknown, RetryDue, DispatchEffect>;

export interface DispatchState {
  readonly taskId?: string;
  readonly task?: QueuedTask;
  /** The retry waiting for its due time. */
  readonly retry?: { readonly nextAttempt: number; readonly dueAt: string };
  readonly ended: boolean;
}

export const retryTimerName = (nextAttempt: number): string => `retry:${nextAttempt}`;

const enqueue = (taskId: string, attempt: number, task: QueuedTask | undefined): EffectIntent<DispatchEffect> => ({
  kind: 'effect',
  key: `enqueue-${taskId}-${attempt}`,
  effect: { kind: 'enqueue', taskId, attempt, ...(task !== undefined && { task }) },
});

function decide(input: DispatchInput, state: DispatchState): readonly EffectIntent<DispatchEffect>[] {
  return match(input)
    .with({ kind: 'event' }, ({ event: { taskId, event } }) =>
      match(event)
        .with({ type: 'TaskQueued' }, ({ data }) => [enqueue(taskId, 1, data)])
        .with({ type: 'TaskCancelled' }, () => [
          { kind: 'effect' as const, key: `cancel-signal-${taskId}`, effect: { kind: 'signal-cancel' as const, taskId } },
        ])
        .otherwise(() => []),
    )
    .with({ kind: 'due' }, ({ timer }) =>
      // Fired for a retry the state no longer waits on (the task ended meanwhile): nothing to queue.
      state.retry?.nextAttempt === timer.payload.nextAttempt && state.taskId !== undefined && !state.ended
        ? [enqueue(state.taskId, timer.payload.nextAttempt, state.task)]
        : [],
    )
    .with({ kind: 'reply' }, () => [])
    .exhaustive();
}

function evolve(state: DispatchState, input: DispatchInput): DispatchState {
  return match(input)
    .with({ kind: 'event' }, ({ event: { taskId, event } }) =>
      match(event)
        .returnType<DispatchState>()
        .with({ type: 'TaskQueued' }, ({ data }) => ({ ...state, taskId, task: data }))
        .with({ type: 'TaskRetryScheduled' }, ({ data }) => ({ ...state, taskId, retry: { nextAttempt: data.nextAttempt, dueAt: data.dueAt } }))
        .with({ type: 'TaskCancelled' }, { type: 'TaskCompleted' }, () => ({ taskId, ended: true }))
        .with({ type: 'TaskFailed' }, ({ data }) => (data.final ? { taskId, ended: true } : state))
        .otherwise(() => state),
    )
    .with({ kind: 'due' }, ({ timer }) => (state.retry?.nextAttempt === timer.payload.nextAttempt ? withoutRetry(state) : state))
    .with({ kind: 'reply' }, () => state)
    .exhaustive();
}

const withoutRetry = ({ retry: _, ...rest }: DispatchState): DispatchState => rest;

export const taskDispatch: TimedProcessManager<DispatchInput, DispatchState, RetryDue, DispatchEffect> = {
  name: 'task-dispatcher',
  initialState: () => ({ ended: false }),
  evolve,
  decide,
  timers: (state) =>
    state.retry && !state.ended
      ? [{ name: retryTimerName(state.retry.nextAttempt), dueAt: state.retry.dueAt, payload: { nextAttempt: state.retry.nextAttempt } }]
      : [],
  // Kept while it may be enqueued again (a retry to come); a task whose TaskQueued is not known and has no retry waiting holds nothing.
  finished: (state) => state.ended || (state.task === undefined && state.retry === undefined),
};

/** A retry waiting for its due time, as the `task-retry-timers` read model keeps it (plain JSON). */
export type PendingRetry = {
  readonly taskId: string;
  readonly nextAttempt: number;
  readonly dueAt: string;
  /** The task stream revision of the last event folded in; an event at or before it changes nothing. */
  readonly revision: number;
};

/**
 * The task's pending retry after `event` (at stream revision `revision`): from TaskRetryScheduled
 * until that attempt is taken by a worker or the task ends. One fold for the read model and the
 * dispatcher's restart, so what the model stores and what the dispatcher arms cannot drift apart.
 */
export function nextPendingRetry(before: PendingRetry | undefined, taskId: string, event: TaskEvent, revision: number): PendingRetry | undefined {
  if (before !== undefined && revision <= before.revision) return before;
  return (
    match(event)
      .returnType<PendingRetry | undefined>()
      .with({ type: 'TaskRetryScheduled' }, ({ data }) => ({ taskId, nextAttempt: data.nextAttempt, dueAt: data.dueAt, revision }))
      .with({ type: 'TaskAssigned' }, ({ data }) => (before !== undefined && data.attempt >= before.nextAttempt ? undefined : before))
      .with({ type: 'TaskCompleted' }, { type: 'TaskCancelled' }, () => undefined)
      .with({ type: 'TaskFailed' }, ({ data }) => (data.final ? undefined : before))
      // Unchanged (no write per progress report): a reader folding the rest of the stream sees these again, harmlessly.
      .otherwise(() => before)
  );
}

/** The dispatcher's state for a task the read model holds a pending retry for. */
export const pendingRetryState = (pending: PendingRetry): DispatchState => ({
  taskId: pending.taskId,
  retry: { nextAttempt: pending.nextAttempt, dueAt: pending.dueAt },
  ended: false,
});

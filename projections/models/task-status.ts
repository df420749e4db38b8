import { match } from 'ts-pattern';
import type { TaskEvent } from '../../domain/task/events.ts';
import type { TaskStatus } from '../../domain/task/state.ts';

// The status each task event leads to, as domain/task/evolve.ts decides it, for read models
// that track status without keeping the whole task.

export type RecordedTaskStatus = Exclude<TaskStatus, 'none'>;

export const TASK_STATUSES: readonly RecordedTaskStatus[] = ['queued', 'running', 'retryScheduled', 'outcomeUnknown', 'completed', 'failed', 'cancelled'];

/** Undefined when the event does not change the status (progress reports). */
export const statusAfter = (event: TaskEvent): RecordedTaskStatus | undefined =>
  match(event)
    .returnType<RecordedTaskStatus | undefined>()
    .with({ type: 'TaskQueued' }, () => 'queued')
    .with({ type: 'TaskAssigned' }, () => 'running')
    .with({ type: 'TaskAttemptAbandoned' }, { type: 'TaskTimedOut' }, () => 'queued')
    .with({ type: 'TaskProgressed' }, { type: 'TaskAttemptEvidenceRecorded' }, () => undefined)
    .with({ type: 'TaskOutcomeUnknown' }, () => 'outcomeUnknown')
    // The event after it in the same append (retry, completion, failure) says where the task went.
    .with({ type: 'TaskOutcomeResolved' }, () => undefined)
    .with({ type: 'TaskCompleted' }, () => 'completed')
    .with({ type: 'TaskFailed' }, ({ data }) => (data.final ? 'failed' : 'queued'))
    .with({ type: 'TaskRetryScheduled' }, () => 'retryScheduled')
    .with({ type: 'TaskCancelled' }, () => 'cancelled')
    .exhaustive();

/** Nothing follows these in a task's stream. */
export const isTerminal = (status: RecordedTaskStatus): boolean => status === 'completed' || status === 'failed' || status === 'cancelled';

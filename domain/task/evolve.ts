import { match } from 'ts-pattern';
import type { TaskEvent, TaskEventData } from './events.ts';
import type { Attempt, AttemptOutcome, Task, TaskState } from './state.ts';

export const evolve = (state: TaskState, event: TaskEvent): TaskState =>
  match(event)
    .with({ type: 'TaskQueued' }, ({ data }) => queued(data))
    .with({ type: 'TaskAssigned' }, ({ data }) =>
      onTask(state, (task) => ({
        ...task,
        status: 'running',
        attempt: data.attempt,
        retry: undefined,
        attempts: [...task.attempts, { attempt: data.attempt, workerId: data.workerId, assignedAt: data.at, timesOutAt: data.timesOutAt, outcome: 'running' }],
      })),
    )
    .with({ type: 'TaskAttemptAbandoned' }, ({ data }) => onTask(state, (task) => ({ ...endAttempt(task, data.attempt, 'abandoned'), status: 'queued' })))
    .with({ type: 'TaskAttemptEvidenceRecorded' }, ({ data }) =>
      onTask(state, (task) => {
        const updated = updateAttempt(task, data.attempt, (a) => ({ ...a, evidence: { ...a.evidence, ...data.evidence } }));
        const unknown = task.outcomeUnknown;
        return unknown?.attempt === data.attempt
          ? { ...updated, outcomeUnknown: { ...unknown, evidence: { ...unknown.evidence, ...data.evidence } } }
          : updated;
      }),
    )
    .with({ type: 'TaskOutcomeUnknown' }, ({ data }) =>
      onTask(state, (task) => ({
        ...updateAttempt(task, data.attempt, (a) => ({ ...a, unknownOutcome: { reason: data.reason } })),
        status: 'outcomeUnknown',
        retry: undefined,
        outcomeUnknown: {
          attempt: data.attempt,
          workerId: data.workerId,
          reason: data.reason,
          ...(data.evidence !== undefined && { evidence: data.evidence }),
        },
      })),
    )
    // The event that follows in the same append (retry, completion or failure) sets the status.
    .with({ type: 'TaskOutcomeResolved' }, ({ data }) =>
      onTask(state, (task) => ({
        ...updateAttempt(task, data.attempt, (a) => ({
          ...a,
          unknownOutcome: {
            reason: a.unknownOutcome?.reason ?? '',
            decision: { resolution: data.resolution, resolvedBy: data.resolvedBy, via: data.via, ...(data.reason !== undefined && { reason: data.reason }) },
          },
        })),
        outcomeUnknown: undefined,
        resolved: { attempt: data.attempt, resolution: data.resolution },
        ...(data.resolution === 'rerun' && { rerunAttempt: data.attempt + 1 }),
      })),
    )
    .with({ type: 'TaskProgressed' }, ({ data }) =>
      onTask(state, (task) => updateAttempt(task, data.attempt, (a) => ({ ...a, progress: { stage: data.stage, percent: data.percent, at: data.at } }))),
    )
    .with({ type: 'TaskCompleted' }, ({ data }) =>
      onTask(state, (task) => ({ ...endAttempt(task, data.attempt, 'completed'), status: 'completed', finishedAt: data.at })),
    )
    .with({ type: 'TaskFailed' }, ({ data }) =>
      onTask(state, (task) => {
        const ended = endAttempt(task, data.attempt, 'failed');
        return data.final ? { ...ended, status: 'failed', finishedAt: data.at, error: data.error } : { ...ended, status: 'queued' };
      }),
    )
    .with({ type: 'TaskTimedOut' }, ({ data }) => onTask(state, (task) => ({ ...endAttempt(task, data.attempt, 'timedOut'), status: 'queued' })))
    .with({ type: 'TaskRetryScheduled' }, ({ data }) =>
      onTask(state, (task) => ({ ...task, status: 'retryScheduled', retry: { nextAttempt: data.nextAttempt, dueAt: data.dueAt } })),
    )
    .with({ type: 'TaskCancelled' }, ({ data }) =>
      onTask(state, (task) => ({
        ...(data.attempt === undefined ? task : endAttempt(task, data.attempt, 'cancelled')),
        status: 'cancelled',
        retry: undefined,
        finishedAt: data.at,
        cancellation: { reason: data.reason, requestedBy: data.requestedBy },
      })),
    )
    .exhaustive();

const queued = ({ at, ...task }: TaskEventData<'TaskQueued'>): Task => ({ ...task, status: 'queued', queuedAt: at, attempt: 0, attempts: [] });

/** Events other than TaskQueued only ever follow it; a stray one leaves the state as it was. */
const onTask = (state: TaskState, change: (task: Task) => Task): TaskState => (state.status === 'none' ? state : change(state));

const updateAttempt = (task: Task, attempt: number, change: (a: Attempt) => Attempt): Task => ({
  ...task,
  attempts: task.attempts.map((a) => (a.attempt === attempt ? change(a) : a)),
});

const endAttempt = (task: Task, attempt: number, outcome: AttemptOutcome): Task => updateAttempt(task, attempt, (a) => ({ ...a, outcome }));

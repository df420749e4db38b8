import { flatMap, left, map, right, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { match } from 'ts-pattern';
import type { Rejection } from '../decider.ts';
import type { TaskCommandOf } from './commands.ts';
import { taskEventOf, type TaskEvent } from './events.ts';
import { attemptInProgress, existingTask, stillOpen } from './guards.ts';
import { outcomeAlreadyKnown } from './rejections.ts';
import type { Attempt, Task, TaskState } from './state.ts';

// At most once for side effects: a worker records what its attempt started outside (evidence)
// before waiting on it; an attempt of a task that is not safe to run again and that ended
// without an outcome (its worker went silent, or it timed out) becomes `outcomeUnknown`, and
// only a resolution — by a person, or by a worker that checked the evidence — moves it on.

type Decision = Either<Rejection, readonly TaskEvent[]>;

export const unknownOutcome = (task: Task, attempt: Attempt, reason: string, at: string): TaskEvent =>
  taskEventOf('TaskOutcomeUnknown', {
    taskId: task.taskId,
    attempt: attempt.attempt,
    workerId: attempt.workerId,
    reason,
    ...(attempt.evidence !== undefined && { evidence: { ...attempt.evidence } }),
    at,
  });

type UnknownAttempt = NonNullable<Task['outcomeUnknown']>;

/**
 * The outcome of the attempt whose outcome is unknown, reported after all by its own worker
 * (it was cut off, not dead): that is the real outcome, so it resolves the task.
 */
export const lateReport = (task: Task, attempt: number): UnknownAttempt | undefined =>
  task.status === 'outcomeUnknown' && task.outcomeUnknown?.attempt === attempt ? task.outcomeUnknown : undefined;

export const resolvedByItsWorker = (task: Task, unknown: UnknownAttempt, resolution: 'completed' | 'failed', at: string): TaskEvent =>
  taskEventOf('TaskOutcomeResolved', {
    taskId: task.taskId,
    attempt: unknown.attempt,
    resolution,
    resolvedBy: `worker:${unknown.workerId}`,
    via: 'check',
    reason: 'the worker of the attempt reported its outcome after all',
    at,
  });

/** Evidence already recorded with the same values changes nothing. */
/** From the running attempt, or from the attempt whose outcome is unknown (its worker was only cut off): more to check by. */
export const recordAttemptEvidence = ({ taskId, attempt, evidence, at }: TaskCommandOf<'RecordAttemptEvidence'>, state: TaskState): Decision =>
  pipe(
    existingTask(state, taskId),
    flatMap(stillOpen),
    flatMap((task) => {
      const late = lateReport(task, attempt);
      return late
        ? right(late.evidence)
        : pipe(
            attemptInProgress(attempt)(task),
            map(({ current }) => current.evidence),
          );
    }),
    map((recorded) =>
      Object.entries(evidence).every(([key, value]) => recorded?.[key] === value)
        ? []
        : [taskEventOf('TaskAttemptEvidenceRecorded', { taskId, attempt, evidence, at })],
    ),
  );

/** Only an unknown outcome can be resolved; the same resolution repeated changes nothing. */
export const resolveTaskOutcome = (c: TaskCommandOf<'ResolveTaskOutcome'>, state: TaskState): Decision =>
  pipe(
    existingTask(state, c.taskId),
    flatMap((task): Decision => {
      if (task.status !== 'outcomeUnknown') return task.resolved?.resolution === c.resolution ? right([]) : left(outcomeAlreadyKnown(task));
      const attempt = task.outcomeUnknown?.attempt ?? task.attempt;
      const workerId = task.outcomeUnknown?.workerId ?? c.resolvedBy;
      const resolved = taskEventOf('TaskOutcomeResolved', {
        taskId: c.taskId,
        attempt,
        resolution: c.resolution,
        resolvedBy: c.resolvedBy,
        via: c.via,
        ...(c.reason !== undefined && { reason: c.reason }),
        at: c.at,
      });
      const next = match(c.resolution)
        // A person may ask for another run even past maxAttempts; the dispatcher queues it now.
        .with('rerun', () => taskEventOf('TaskRetryScheduled', { taskId: c.taskId, nextAttempt: attempt + 1, dueAt: c.at, delayMs: 0, at: c.at }))
        .with('completed', () => taskEventOf('TaskCompleted', { taskId: c.taskId, attempt, workerId, result: c.result ?? null, durationMs: 0, at: c.at }))
        .with('failed', () =>
          taskEventOf('TaskFailed', {
            taskId: c.taskId,
            attempt,
            error: { code: 'OutcomeUnknown', message: c.reason ?? 'marked as failed' },
            retryable: false,
            final: true,
            at: c.at,
          }),
        )
        .exhaustive();
      return right([resolved, next]);
    }),
  );

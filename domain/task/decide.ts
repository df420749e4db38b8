import { flatMap, left, map, right, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { match } from 'ts-pattern';
import type { Rejection } from '../decider.ts';
import type { TaskCommand, TaskCommandOf } from './commands.ts';
import { taskEventOf, type TaskEvent } from './events.ts';
import { attemptInProgress, existingTask, notAwaitingResolution, progressMovesForward, stillOpen } from './guards.ts';
import { lateReport, recordAttemptEvidence, resolvedByItsWorker, resolveTaskOutcome, unknownOutcome } from './outcomes.ts';
import { attemptAssignedToAnotherWorker, outcomeUnknown, staleAttempt, taskAlreadyExists, taskAlreadyFinished } from './rejections.ts';
import { addMilliseconds, attemptsRemain, retryScheduled } from './retry.ts';
import { attemptNumbered, isFinished, runningAttempt, type Attempt, type Task, type TaskState } from './state.ts';

type Decision = Either<Rejection, readonly TaskEvent[]>;

const nothing: Decision = right([]);

export const decide = (command: TaskCommand, state: TaskState): Decision =>
  match(command)
    .with({ type: 'QueueTask' }, (c) => queueTask(c, state))
    .with({ type: 'AssignTask' }, (c) => assignTask(c, state))
    .with({ type: 'ReportProgress' }, (c) => reportProgress(c, state))
    .with({ type: 'CompleteTask' }, (c) => completeTask(c, state))
    .with({ type: 'FailTask' }, (c) => failTask(c, state))
    .with({ type: 'TimeOutTask' }, (c) => timeOutTask(c, state))
    .with({ type: 'CancelTask' }, (c) => cancelTask(c, state))
    .with({ type: 'RecordAttemptEvidence' }, (c) => recordAttemptEvidence(c, state))
    .with({ type: 'ResolveTaskOutcome' }, (c) => resolveTaskOutcome(c, state))
    .exhaustive();

const queueTask = ({ type: _, ...c }: TaskCommandOf<'QueueTask'>, state: TaskState): Decision =>
  state.status !== 'none' ? left(taskAlreadyExists(state)) : right([taskEventOf('TaskQueued', c)]);

/**
 * A worker took the task from its pool's queue; `attempt` is the queue's delivery count.
 * A higher attempt while one is running means the queue redelivered because the first
 * worker went silent: that attempt is abandoned and counts against `maxAttempts`. When running
 * the task again could repeat a side effect (`rerunSafe: false`), the abandoned attempt's
 * outcome is unknown instead: nothing runs it again until someone resolves it.
 */
const assignTask = (c: TaskCommandOf<'AssignTask'>, state: TaskState): Decision =>
  pipe(
    existingTask(state, c.taskId),
    flatMap(stillOpen),
    flatMap(notAwaitingResolution),
    flatMap((task) => {
      const holder = runningAttempt(task);
      if (holder && c.attempt === holder.attempt) {
        return holder.workerId === c.workerId ? nothing : left(attemptAssignedToAnotherWorker(task, c.workerId, holder.workerId));
      }
      if (c.attempt <= task.attempt) return left(staleAttempt(task, c.attempt));
      if (holder && c.rerunSafe === false) {
        const reason = `worker ${holder.workerId} went silent during attempt ${holder.attempt}; running the task again could repeat what it did`;
        return right([abandoned(task, holder, c.at), unknownOutcome(task, holder, reason, c.at)]);
      }
      const exhausted = c.attempt > task.maxAttempts && c.attempt !== task.rerunAttempt;
      return right([...(holder ? [abandoned(task, holder, c.at)] : []), exhausted ? attemptsExhausted(task, c) : assigned(task, c)]);
    }),
  );

const abandoned = (task: Task, silent: Attempt, at: string): TaskEvent =>
  taskEventOf('TaskAttemptAbandoned', { taskId: task.taskId, attempt: silent.attempt, workerId: silent.workerId, reason: 'worker went silent', at });

const assigned = (task: Task, { workerId, attempt, at }: TaskCommandOf<'AssignTask'>): TaskEvent =>
  taskEventOf('TaskAssigned', { taskId: task.taskId, attempt, workerId, timesOutAt: addMilliseconds(at, task.timeoutMs), at });

const attemptsExhausted = (task: Task, { attempt, at }: TaskCommandOf<'AssignTask'>): TaskEvent =>
  taskEventOf('TaskFailed', {
    taskId: task.taskId,
    attempt,
    error: { code: 'AttemptsExhausted', message: `delivery ${attempt} exceeds the ${task.maxAttempts} attempts allowed` },
    retryable: false,
    final: true,
    at,
  });

const reportProgress = ({ taskId, attempt, stage, percent, details, counters, at }: TaskCommandOf<'ReportProgress'>, state: TaskState): Decision =>
  pipe(
    existingTask(state, taskId),
    flatMap(stillOpen),
    // Its worker was only cut off: it should go on and report the outcome, which resolves the task.
    flatMap((task) => (lateReport(task, attempt) ? left(outcomeUnknown(task)) : right(task))),
    flatMap(attemptInProgress(attempt)),
    flatMap(progressMovesForward(percent)),
    map(() => [
      taskEventOf('TaskProgressed', {
        taskId,
        attempt,
        stage,
        percent,
        ...(details !== undefined && { details }),
        ...(counters !== undefined && { counters }),
        at,
      }),
    ]),
  );

const completeTask = (c: TaskCommandOf<'CompleteTask'>, state: TaskState): Decision =>
  pipe(
    existingTask(state, c.taskId),
    flatMap((task) => {
      const late = lateReport(task, c.attempt);
      if (late) {
        return right([
          resolvedByItsWorker(task, late, 'completed', c.at),
          taskEventOf('TaskCompleted', { taskId: c.taskId, attempt: c.attempt, workerId: late.workerId, result: c.result, durationMs: c.durationMs, at: c.at }),
        ]);
      }
      return task.status === 'completed' && task.attempt === c.attempt
        ? nothing
        : pipe(
            stillOpen(task),
            flatMap(attemptInProgress(c.attempt)),
            map(({ current }) => [
              taskEventOf('TaskCompleted', {
                taskId: c.taskId,
                attempt: c.attempt,
                workerId: current.workerId,
                result: c.result,
                durationMs: c.durationMs,
                at: c.at,
              }),
            ]),
          );
    }),
  );

/** Retryable with attempts left: the attempt failed and the next one is scheduled. Otherwise the task failed for good. */
const failTask = (c: TaskCommandOf<'FailTask'>, state: TaskState): Decision =>
  pipe(
    existingTask(state, c.taskId),
    flatMap((task) => {
      const late = lateReport(task, c.attempt);
      if (late) {
        // Not retried on its own: whatever it did before failing may have happened.
        return right([
          resolvedByItsWorker(task, late, 'failed', c.at),
          taskEventOf('TaskFailed', { taskId: c.taskId, attempt: c.attempt, error: c.error, retryable: false, final: true, at: c.at }),
        ]);
      }
      return attemptNumbered(task, c.attempt)?.outcome === 'failed'
        ? nothing
        : pipe(
            stillOpen(task),
            flatMap(attemptInProgress(c.attempt)),
            map(({ task: t }) => {
              const final = !c.retryable || !attemptsRemain(t, c.attempt);
              const failed = taskEventOf('TaskFailed', { taskId: t.taskId, attempt: c.attempt, error: c.error, retryable: c.retryable, final, at: c.at });
              return final ? [failed] : [failed, retryScheduled(t, c.attempt, c.at, c.retryDelayMs)];
            }),
          );
    }),
  );

/**
 * A timeout is retried like a retryable failure; the last attempt timing out fails the task for
 * good. Unless running it again could repeat a side effect: the executor was stopped, but what
 * it started outside may have happened, so the outcome is unknown.
 */
const timeOutTask = (c: TaskCommandOf<'TimeOutTask'>, state: TaskState): Decision =>
  pipe(
    existingTask(state, c.taskId),
    flatMap((task) =>
      attemptNumbered(task, c.attempt)?.outcome === 'timedOut'
        ? nothing
        : pipe(
            stillOpen(task),
            flatMap(attemptInProgress(c.attempt)),
            map(({ task: t, current }) => {
              const timedOut = taskEventOf('TaskTimedOut', {
                taskId: t.taskId,
                attempt: c.attempt,
                workerId: current.workerId,
                timeoutMs: t.timeoutMs,
                at: c.at,
              });
              if (c.rerunSafe === false) {
                const reason = `attempt ${c.attempt} timed out after ${t.timeoutMs} ms and was stopped; what it started outside may still have happened`;
                return [timedOut, unknownOutcome(t, current, reason, c.at)];
              }
              return [timedOut, attemptsRemain(t, c.attempt) ? retryScheduled(t, c.attempt, c.at, c.retryDelayMs) : lastAttemptTimedOut(t, c)];
            }),
          ),
    ),
  );

const lastAttemptTimedOut = (task: Task, { attempt, at }: TaskCommandOf<'TimeOutTask'>): TaskEvent =>
  taskEventOf('TaskFailed', {
    taskId: task.taskId,
    attempt,
    error: { code: 'TimedOut', message: `attempt ${attempt} of ${task.maxAttempts} timed out after ${task.timeoutMs} ms; no attempts left` },
    retryable: true,
    final: true,
    at,
  });

const cancelTask = ({ taskId, reason, requestedBy, at }: TaskCommandOf<'CancelTask'>, state: TaskState): Decision =>
  pipe(
    existingTask(state, taskId),
    flatMap((task) => {
      if (task.status === 'cancelled') return nothing;
      if (isFinished(task)) return left(taskAlreadyFinished(task));
      const running = runningAttempt(task);
      return right([
        taskEventOf('TaskCancelled', {
          taskId,
          reason,
          requestedBy,
          wasRunning: running !== undefined,
          ...(running && { attempt: running.attempt, workerId: running.workerId }),
          at,
        }),
      ]);
    }),
  );

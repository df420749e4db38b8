import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { Rejection } from '../decider.ts';
import { outcomeUnknown, progressWentBackwards, staleAttempt, taskAlreadyFinished, taskCancelled, taskNotFound, taskNotStarted } from './rejections.ts';
import { isFinished, runningAttempt, type Attempt, type Task, type TaskState } from './state.ts';

// Checks several rules share, each passing the task on or naming why the command is refused.

export const existingTask = (state: TaskState, taskId: string): Either<Rejection, Task> =>
  state.status === 'none' ? left(taskNotFound(taskId)) : right(state);

/** A cancelled task answers `TaskCancelled`, so a worker still running it knows to stop. */
export const stillOpen = (task: Task): Either<Rejection, Task> =>
  task.status === 'cancelled' ? left(taskCancelled(task)) : isFinished(task) ? left(taskAlreadyFinished(task)) : right(task);

/** An attempt whose outcome is unknown blocks every new attempt until someone resolves it. */
export const notAwaitingResolution = (task: Task): Either<Rejection, Task> => (task.status === 'outcomeUnknown' ? left(outcomeUnknown(task)) : right(task));

export interface InProgress {
  readonly task: Task;
  readonly current: Attempt;
}

/** Only the latest attempt, while a worker runs it, may report progress or an outcome. */
export const attemptInProgress =
  (attempt: number) =>
  (task: Task): Either<Rejection, InProgress> => {
    if (attempt > task.attempt) return left(taskNotStarted(task, attempt));
    const current = runningAttempt(task);
    return current?.attempt === attempt ? right({ task, current }) : left(staleAttempt(task, attempt));
  };

export const progressMovesForward =
  (percent: number) =>
  (running: InProgress): Either<Rejection, InProgress> => {
    const last = running.current.progress?.percent;
    return last !== undefined && percent < last ? left(progressWentBackwards(running.task, percent, last)) : right(running);
  };

import type { Rejection } from '../decider.ts';
import type { Task } from './state.ts';

export type TaskRejectionCode =
  | 'TaskAlreadyExists'
  | 'TaskNotFound'
  | 'TaskAlreadyFinished'
  | 'TaskCancelled'
  | 'TaskNotStarted'
  | 'StaleAttempt'
  | 'AttemptAssignedToAnotherWorker'
  | 'ProgressWentBackwards'
  | 'OutcomeUnknown'
  | 'OutcomeAlreadyKnown';

export type TaskRejection = Rejection<TaskRejectionCode>;

const rejection = (code: TaskRejectionCode, message: string): TaskRejection => ({ code, message });

export const taskAlreadyExists = (task: Task): TaskRejection => rejection('TaskAlreadyExists', `task ${task.taskId} was already queued at ${task.queuedAt}`);

export const taskNotFound = (taskId: string): TaskRejection => rejection('TaskNotFound', `task ${taskId} has not been queued`);

export const taskAlreadyFinished = (task: Task): TaskRejection => rejection('TaskAlreadyFinished', `task ${task.taskId} has already ${task.status}`);

export const taskCancelled = (task: Task): TaskRejection =>
  rejection('TaskCancelled', `task ${task.taskId} was cancelled${task.cancellation ? `: ${task.cancellation.reason}` : ''}`);

export const taskNotStarted = (task: Task, attempt: number): TaskRejection =>
  rejection('TaskNotStarted', `attempt ${attempt} of task ${task.taskId} has not been assigned to a worker`);

export const staleAttempt = (task: Task, attempt: number): TaskRejection =>
  rejection('StaleAttempt', `attempt ${attempt} of task ${task.taskId} is over; the latest is attempt ${task.attempt} (${task.status})`);

export const attemptAssignedToAnotherWorker = (task: Task, workerId: string, holder: string): TaskRejection =>
  rejection('AttemptAssignedToAnotherWorker', `attempt ${task.attempt} of task ${task.taskId} is held by ${holder}, not ${workerId}`);

export const progressWentBackwards = (task: Task, percent: number, last: number): TaskRejection =>
  rejection('ProgressWentBackwards', `attempt ${task.attempt} of task ${task.taskId} reported ${percent}% after ${last}%`);

export const outcomeUnknown = (task: Task): TaskRejection =>
  rejection(
    'OutcomeUnknown',
    `the outcome of attempt ${task.outcomeUnknown?.attempt ?? task.attempt} of task ${task.taskId} is unknown; it runs again only when someone resolves it`,
  );

export const outcomeAlreadyKnown = (task: Task): TaskRejection =>
  rejection('OutcomeAlreadyKnown', `task ${task.taskId} has no unknown outcome to resolve (it is ${task.status})`);

import { backoffCeilingMs } from '../backoff.ts';
import { taskEventOf, type TaskEvent } from './events.ts';
import type { Task } from './state.ts';

// What follows an attempt that ended without ending the task. The caller may pass its own
// delay (backoff with jitter); the default doubles per attempt from one second.

export const defaultRetryDelayMs = (attempt: number): number => backoffCeilingMs(attempt - 1, { initialMs: 1_000, maxMs: Number.POSITIVE_INFINITY });

export const addMilliseconds = (at: string, ms: number): string => new Date(Date.parse(at) + ms).toISOString();

export const attemptsRemain = (task: Task, attempt: number): boolean => attempt < task.maxAttempts;

export const retryScheduled = (task: Task, attempt: number, at: string, retryDelayMs: number | undefined): TaskEvent => {
  const delayMs = retryDelayMs ?? defaultRetryDelayMs(attempt);
  return taskEventOf('TaskRetryScheduled', { taskId: task.taskId, nextAttempt: attempt + 1, dueAt: addMilliseconds(at, delayMs), delayMs, at });
};

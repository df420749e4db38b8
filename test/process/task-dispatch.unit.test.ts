import { describe, expect, it } from 'vitest';
import { taskDispatch, type DispatchInput, type QueuedTask } from '../../domain/process/task-dispatch.ts';
import type { TaskEvent, TaskEventData, TaskEventType } from '../../domain/task/events.ts';
import { managerSpecFor } from '../support/manager-spec.ts';

// Task dispatch as a specification: what each task event asks of the work queues and workers.

const { given } = managerSpecFor(taskDispatch);
const taskId = 'T1';
const at = '2026-12-07T10:00:00.000Z';
const dueAt = '2026-12-07T10:00:05.000Z';

const queued: QueuedTask = {
  taskId,
  at,
  taskType: 'run-tests',
  pool: 'local',
  priority: 'normal',
  payload: { repository: 'acme' },
  maxAttempts: 3,
  timeoutMs: 60_000,
  requestedBy: 'U1',
};
const on = <K extends TaskEventType>(type: K, data: Omit<TaskEventData<K>, 'taskId' | 'at'>): DispatchInput => ({
  kind: 'event',
  event: { taskId, event: { type, data: { taskId, at, ...data } } as unknown as TaskEvent },
  at,
});
const taskQueued = on('TaskQueued', queued);
const retryScheduled = (nextAttempt: number, when = dueAt) => on('TaskRetryScheduled', { nextAttempt, dueAt: when, delayMs: 5_000 });
const retryDue = (nextAttempt: number): DispatchInput => ({ kind: 'due', timer: { name: `retry:${nextAttempt}`, dueAt, payload: { nextAttempt } }, at: dueAt });
const failed = (final: boolean) => on('TaskFailed', { attempt: 1, error: { code: 'Flaky', message: 'flaked' }, retryable: true, final });
const cancelled = on('TaskCancelled', { reason: 'no longer needed', requestedBy: 'U1', wasRunning: true });
const completed = on('TaskCompleted', { attempt: 1, workerId: 'w1', result: null, durationMs: 10 });
const assigned = on('TaskAssigned', { attempt: 1, workerId: 'w1', timesOutAt: dueAt });

describe('task dispatch', () => {
  it('queues a task as its first attempt, with what TaskQueued recorded', () => {
    given()
      .when(taskQueued)
      .then({ kind: 'effect', key: `enqueue-${taskId}-1`, effect: { kind: 'enqueue', taskId, attempt: 1, task: queued } });
  });

  it('a scheduled retry sends nothing at once: it is a timer at its due time', () => {
    given(taskQueued).when(retryScheduled(2)).thenNothing();
    expect(taskDispatch.timers(given(taskQueued).when(retryScheduled(2)).state())).toEqual([{ name: 'retry:2', dueAt, payload: { nextAttempt: 2 } }]);
  });

  it('the retry coming due enqueues the next attempt with the queued task, and the timer is done', () => {
    given(taskQueued, retryScheduled(2))
      .when(retryDue(2))
      .then({ kind: 'effect', key: `enqueue-${taskId}-2`, effect: { kind: 'enqueue', taskId, attempt: 2, task: queued } });
    expect(taskDispatch.timers(given(taskQueued, retryScheduled(2)).when(retryDue(2)).state())).toEqual([]);
  });

  it('a retry of a task queued before the checkpoint enqueues without the task: the port reads its TaskQueued', () => {
    given(retryScheduled(3))
      .when(retryDue(3))
      .then({ kind: 'effect', key: `enqueue-${taskId}-3`, effect: { kind: 'enqueue', taskId, attempt: 3 } });
  });

  it('a later retry replaces the earlier one; the earlier timer firing late enqueues nothing', () => {
    given(taskQueued, retryScheduled(2), retryScheduled(3, '2026-12-07T10:01:00.000Z')).when(retryDue(2)).thenNothing();
    expect(taskDispatch.timers(given(taskQueued, retryScheduled(2)).when(retryScheduled(3, '2026-12-07T10:01:00.000Z')).state())).toEqual([
      { name: 'retry:3', dueAt: '2026-12-07T10:01:00.000Z', payload: { nextAttempt: 3 } },
    ]);
  });

  it('a cancelled task is signalled to its worker, and forgotten with its pending retry', () => {
    given(taskQueued)
      .when(cancelled)
      .then({ kind: 'effect', key: `cancel-signal-${taskId}`, effect: { kind: 'signal-cancel', taskId } });
    const after = given(taskQueued, retryScheduled(2)).when(cancelled).state();
    expect(taskDispatch.finished(after)).toBe(true);
    expect(taskDispatch.timers(after)).toEqual([]);
    given(taskQueued, retryScheduled(2), cancelled).when(retryDue(2)).thenNothing();
  });

  it('a completed task, or one whose failure is final, is forgotten', () => {
    expect(taskDispatch.finished(given(taskQueued).when(completed).state())).toBe(true);
    expect(taskDispatch.finished(given(taskQueued).when(failed(true)).state())).toBe(true);
    given(taskQueued).when(completed).thenNothing();
  });

  it('a failure that is not final keeps the task: its retry is coming', () => {
    const after = given(taskQueued).when(failed(false)).state();
    expect(taskDispatch.finished(after)).toBe(false);
    expect(after.task).toEqual(queued);
  });

  it('other task events ask nothing of the queues', () => {
    given(taskQueued).when(assigned).thenNothing();
    given(taskQueued).when(failed(false)).thenNothing();
  });

  it('holds nothing for a task it knows nothing to enqueue for', () => {
    expect(taskDispatch.finished(given().when(assigned).state())).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { unknownOutcomeOf } from '../../actors/unknown-outcomes.ts';
import { fold } from '../../domain/decider.ts';
import { taskDecider, type Task, type TaskEvent, type TaskEventData, type TaskEventOf } from '../../domain/task/index.ts';

// The decision desk checks a click on an unknown outcome against the task's state (from its
// aggregate host): which attempt waits, which was decided by whom, which ended undecided.

const at = '2026-11-21T10:00:00.000Z';
const event = <K extends TaskEvent['type']>(type: K, data: Omit<TaskEventData<K>, 'taskId' | 'at'>): TaskEventOf<K> =>
  ({ type, data: { taskId: 'T1', ...data, at } }) as TaskEventOf<K>;
const queued = event('TaskQueued', {
  taskType: 'sf-deploy',
  pool: 'salesforce',
  priority: 'normal',
  payload: {},
  maxAttempts: 3,
  timeoutMs: 60_000,
  requestedBy: 'U123',
});
const assigned = (attempt: number) => event('TaskAssigned', { attempt, workerId: `w${attempt}`, timesOutAt: at });
const unknown = (attempt: number) => event('TaskOutcomeUnknown', { attempt, workerId: `w${attempt}`, reason: `attempt ${attempt} went silent` });
const resolved = (attempt: number, resolution: 'rerun' | 'completed' | 'failed', resolvedBy = 'U_BOB') =>
  event('TaskOutcomeResolved', { attempt, resolution, resolvedBy, via: 'person' });
const retry = (nextAttempt: number) => event('TaskRetryScheduled', { nextAttempt, dueAt: at, delayMs: 0 });
const cancelled = event('TaskCancelled', { reason: 'no longer needed', requestedBy: 'U_ALICE', wasRunning: false });

const taskAfter = (...events: TaskEvent[]): Task => {
  const state = fold(taskDecider, [queued, ...events]);
  return state.status === 'none' ? expect.fail('queued') : state;
};

describe('unknownOutcomeOf: an attempt whose outcome was unknown, from the task state', () => {
  it('waits while nobody decided', () => expect(unknownOutcomeOf(taskAfter(assigned(1), unknown(1)), 1)).toEqual({ open: true }));
  it('says who decided it and how', () =>
    expect(unknownOutcomeOf(taskAfter(assigned(1), unknown(1), resolved(1, 'completed')), 1)).toEqual({
      open: false,
      decision: { resolution: 'completed', resolvedBy: 'U_BOB', via: 'person' },
    }));
  it('keeps an earlier attempt decided after a later one became unknown too', () => {
    const task = taskAfter(assigned(1), unknown(1), resolved(1, 'rerun', 'U_CAROL'), retry(2), assigned(2), unknown(2));
    expect(unknownOutcomeOf(task, 1)).toEqual({ open: false, decision: { resolution: 'rerun', resolvedBy: 'U_CAROL', via: 'person' } });
    expect(unknownOutcomeOf(task, 2)).toEqual({ open: true });
  });
  it('ends undecided when the task was cancelled while it waited', () =>
    expect(unknownOutcomeOf(taskAfter(assigned(1), unknown(1), cancelled), 1)).toEqual({ open: false, endedUndecided: 'the task was cancelled by U_ALICE' }));
  it('knows no unknown outcome for an attempt that had none', () => expect(unknownOutcomeOf(taskAfter(assigned(1), unknown(1)), 2)).toBeUndefined());
});

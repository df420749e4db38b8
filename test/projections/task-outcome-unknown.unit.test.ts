import { describe, expect, it } from 'vitest';
import type { TaskEventData, TaskEventType } from '../../domain/task/index.ts';
import { taskProgress } from '../../projections/models/task-progress.ts';
import { taskStats } from '../../projections/models/task-stats.ts';
import { at, EventLog, fold, taskEvents } from './fixtures.ts';

// Read models of a task whose attempt ended without a known outcome: it shows as
// `outcomeUnknown` (open, run by nobody) with the evidence, until someone resolves it.

const deployJob = { deployJobId: '0Af5g00000ABCDE' };

function history() {
  const log = new EventLog();
  const t1 = taskEvents(log, 'T1');
  const record = <K extends TaskEventType>(type: K, seconds: number, data: Omit<TaskEventData<K>, 'taskId' | 'at'>) =>
    log.record('task-T1', type, { taskId: 'T1', at: at(seconds), ...data }, at(seconds));
  const unknown = [
    t1.queued({ taskType: 'sf-deploy', pool: 'salesforce' }),
    t1.assigned({ attempt: 1, at: 10 }),
    record('TaskAttemptEvidenceRecorded', 12, { attempt: 1, evidence: deployJob }),
    t1.progressed({ attempt: 1, percent: 40, at: 20 }),
    t1.abandoned({ attempt: 1, at: 90 }),
    record('TaskOutcomeUnknown', 90, { attempt: 1, workerId: 'worker-1', reason: 'worker worker-1 went silent during attempt 1', evidence: deployJob }),
  ];
  const resolved = (resolution: 'rerun' | 'completed' | 'failed', seconds: number) =>
    record('TaskOutcomeResolved', seconds, { attempt: 1, resolution, resolvedBy: 'worker:w2', via: 'check' });
  return { t1, record, unknown, resolved };
}

describe('task-progress with an unknown outcome', () => {
  it('shows the task as outcomeUnknown, with which attempt, why, and its evidence', async () => {
    const { unknown } = history();
    const doc = (await fold(taskProgress, unknown)).doc('T1')!;
    expect(doc).toMatchObject({
      status: 'outcomeUnknown',
      evidence: deployJob,
      outcomeUnknown: { attempt: 1, workerId: 'worker-1', reason: 'worker worker-1 went silent during attempt 1', evidence: deployJob },
      attempts: [{ attempt: 1, outcome: 'abandoned' }],
      lastUpdate: at(90),
    });
    expect(doc).not.toHaveProperty('eta');
  });

  it('completes with the result a check found, saying how it was resolved', async () => {
    const { t1, unknown, resolved } = history();
    const doc = (
      await fold(taskProgress, [...unknown, resolved('completed', 100), t1.completed({ attempt: 1, at: 100, durationMs: 0, result: { success: true } })])
    ).doc('T1')!;
    expect(doc).toMatchObject({
      status: 'completed',
      result: { success: true },
      resolution: { resolution: 'completed', resolvedBy: 'worker:w2', via: 'check', at: at(100) },
    });
    expect(doc).not.toHaveProperty('outcomeUnknown');
  });

  it('a re-run someone asked for waits as a retry, then runs as a new attempt without the old evidence', async () => {
    const { t1, unknown, resolved } = history();
    const rerun = [...unknown, resolved('rerun', 100), t1.retryScheduled({ nextAttempt: 2, at: 100, dueAt: 100 })];
    expect((await fold(taskProgress, rerun)).doc('T1')).toMatchObject({ status: 'retryScheduled', retry: { nextAttempt: 2 } });
    const running = (await fold(taskProgress, [...rerun, t1.assigned({ attempt: 2, at: 101 })])).doc('T1')!;
    expect(running).toMatchObject({ status: 'running', attempt: 2, percent: 0 });
    expect(running).not.toHaveProperty('evidence');
    expect(running).not.toHaveProperty('outcomeUnknown');
  });
});

describe('task-stats with an unknown outcome', () => {
  it('counts the task as outcomeUnknown until it is resolved', async () => {
    const { t1, unknown, resolved } = history();
    const waiting = await fold(taskStats, unknown);
    expect((waiting.doc('totals') as { byStatus: Record<string, number> }).byStatus).toMatchObject({ outcomeUnknown: 1, running: 0, queued: 0 });
    const done = await fold(taskStats, [...unknown, resolved('completed', 100), t1.completed({ attempt: 1, at: 100, durationMs: 0 })]);
    expect((done.doc('totals') as { byStatus: Record<string, number> }).byStatus).toMatchObject({ outcomeUnknown: 0, completed: 1 });
  });
});

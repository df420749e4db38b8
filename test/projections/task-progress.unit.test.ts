import { describe, expect, it } from 'vitest';
import { taskProgress } from '../../projections/models/task-progress.ts';
import { at, EventLog, fold, taskEvents } from './fixtures.ts';

const setup = () => {
  const log = new EventLog();
  return { log, t1: taskEvents(log, 'T1') };
};

describe('task-progress: one document per task', () => {
  it('a queued task shows who asked, where it reports, and no progress yet', async () => {
    const { t1 } = setup();
    const model = await fold(taskProgress, [
      t1.queued({ conversationId: 'conv-1', replyTo: { kind: 'slack', channel: 'C1', threadTs: '1.2' }, priority: 'high' }),
    ]);
    expect(model.doc('T1')).toEqual({
      taskId: 'T1',
      taskType: 'analyze-codebase',
      pool: 'local-ops',
      status: 'queued',
      priority: 'high',
      requestedBy: 'U123',
      conversationId: 'conv-1',
      replyTo: { kind: 'slack', channel: 'C1', threadTs: '1.2' },
      queuedAt: at(0),
      maxAttempts: 3,
      attempt: 0,
      attempts: [],
      percent: 0,
      lastUpdate: at(0),
    });
  });

  it('percent only moves forward within an attempt, and a new attempt starts again from nothing', async () => {
    const { t1 } = setup();
    const firstAttempt = [
      t1.queued(),
      t1.assigned({ attempt: 1, at: 10 }),
      t1.progressed({ attempt: 1, percent: 20, at: 30 }),
      t1.progressed({ attempt: 1, percent: 50, at: 60, stage: 'test' }),
    ];
    const model = await fold(taskProgress, firstAttempt);
    expect(model.doc('T1')).toMatchObject({ status: 'running', attempt: 1, stage: 'test', percent: 50, startedAt: at(10), lastUpdate: at(60) });

    await model.fold(taskProgress, [t1.progressed({ attempt: 1, percent: 40, at: 70, stage: 'test' })]);
    expect(model.doc('T1')).toMatchObject({ percent: 50, lastUpdate: at(70) });

    await model.fold(taskProgress, [
      t1.timedOut({ attempt: 1, at: 100 }),
      t1.retryScheduled({ nextAttempt: 2, at: 100, dueAt: 110 }),
      t1.assigned({ attempt: 2, at: 120 }),
    ]);
    const second = model.doc('T1')!;
    expect(second).toMatchObject({ status: 'running', attempt: 2, percent: 0, startedAt: at(120) });
    expect(second).not.toHaveProperty('stage');
    expect(second).not.toHaveProperty('eta');
    expect(second.attempts).toEqual([
      { attempt: 1, workerId: 'worker-1', assignedAt: at(10), outcome: 'timedOut' },
      { attempt: 2, workerId: 'worker-2', assignedAt: at(120), outcome: 'running' },
    ]);

    // A late report from the first attempt describes work nobody is doing any more.
    await model.fold(taskProgress, [t1.progressed({ attempt: 1, percent: 90, at: 125 })]);
    expect(model.doc('T1')).toMatchObject({ attempt: 2, percent: 0 });
  });

  it('shows an ETA mid-run from the attempt start and the report time, with details and counters', async () => {
    const { t1 } = setup();
    const model = await fold(taskProgress, [
      t1.queued(),
      t1.assigned({ attempt: 1, at: 10 }),
      t1.progressed({ attempt: 1, percent: 25, at: 40, details: 'scanning src/', counters: { files: 12, tokens: 900 } }),
      t1.progressed({ attempt: 1, percent: 40, at: 58, counters: { files: 30 } }),
    ]);
    // 40% after 48 s leaves 72 s.
    expect(model.doc('T1')).toMatchObject({ percent: 40, eta: { remainingMs: 72_000, etaAt: at(130) }, counters: { files: 30, tokens: 900 } });
    expect(model.doc('T1')).not.toHaveProperty('details');
  });

  it('completion shows 100%, the recorded outcome, and no ETA', async () => {
    const { t1 } = setup();
    const model = await fold(taskProgress, [
      t1.queued(),
      t1.assigned({ attempt: 1, at: 10 }),
      t1.progressed({ attempt: 1, percent: 25, at: 40 }),
      t1.completed({ attempt: 1, at: 130, durationMs: 119_500, result: { findings: 3 } }),
    ]);
    const doc = model.doc('T1')!;
    expect(doc).toMatchObject({ status: 'completed', percent: 100, finishedAt: at(130), durationMs: 119_500, result: { findings: 3 }, lastUpdate: at(130) });
    expect(doc).not.toHaveProperty('eta');
    expect(doc.attempts).toEqual([{ attempt: 1, workerId: 'worker-1', assignedAt: at(10), outcome: 'completed' }]);
  });

  it('a scheduled retry shows when and which attempt, and why the last one failed', async () => {
    const { t1 } = setup();
    const model = await fold(taskProgress, [
      t1.queued(),
      t1.assigned({ attempt: 1, at: 10 }),
      t1.progressed({ attempt: 1, percent: 30, at: 20 }),
      t1.failed({ attempt: 1, at: 50, final: false }),
      t1.retryScheduled({ nextAttempt: 2, at: 50, dueAt: 52 }),
    ]);
    const doc = model.doc('T1')!;
    expect(doc).toMatchObject({
      status: 'retryScheduled',
      retry: { nextAttempt: 2, dueAt: at(52) },
      error: { code: 'ExitCode', message: 'npm test exited with 1' },
    });
    expect(doc).not.toHaveProperty('eta');
    expect(doc).not.toHaveProperty('finishedAt');

    await model.fold(taskProgress, [t1.assigned({ attempt: 2, at: 53 })]);
    expect(model.doc('T1')).toMatchObject({ status: 'running', attempt: 2 });
    expect(model.doc('T1')).not.toHaveProperty('retry');
    expect(model.doc('T1')).not.toHaveProperty('error');
  });

  it('a final failure ends the task with its error', async () => {
    const { t1 } = setup();
    const model = await fold(taskProgress, [t1.queued(), t1.assigned({ attempt: 1, at: 10 }), t1.failed({ attempt: 1, at: 50, final: true })]);
    expect(model.doc('T1')).toMatchObject({ status: 'failed', finishedAt: at(50), error: { code: 'ExitCode' }, attempts: [{ attempt: 1, outcome: 'failed' }] });
  });

  it('an attempt abandoned by a silent worker puts the task back in the queue', async () => {
    const { t1 } = setup();
    const model = await fold(taskProgress, [
      t1.queued(),
      t1.assigned({ attempt: 1, at: 10 }),
      t1.progressed({ attempt: 1, percent: 10, at: 20 }),
      t1.abandoned({ attempt: 1, at: 90 }),
    ]);
    expect(model.doc('T1')).toMatchObject({ status: 'queued', attempts: [{ attempt: 1, outcome: 'abandoned' }] });
    expect(model.doc('T1')).not.toHaveProperty('eta');
  });

  it('cancelling a running task records who and why, ends the attempt, and nothing moves it afterwards', async () => {
    const { t1 } = setup();
    const model = await fold(taskProgress, [
      t1.queued(),
      t1.assigned({ attempt: 1, at: 10 }),
      t1.progressed({ attempt: 1, percent: 25, at: 40 }),
      t1.cancelled({ at: 45, running: 1 }),
      t1.progressed({ attempt: 1, percent: 60, at: 50 }),
    ]);
    const doc = model.doc('T1')!;
    expect(doc).toMatchObject({
      status: 'cancelled',
      percent: 25,
      finishedAt: at(45),
      lastUpdate: at(45),
      cancellation: { reason: 'no longer needed', requestedBy: 'U123' },
    });
    expect(doc.attempts).toEqual([{ attempt: 1, workerId: 'worker-1', assignedAt: at(10), outcome: 'cancelled' }]);
    expect(doc).not.toHaveProperty('eta');
  });

  it('cancelling while a retry waits drops the retry', async () => {
    const { t1 } = setup();
    const model = await fold(taskProgress, [
      t1.queued(),
      t1.assigned({ attempt: 1, at: 10 }),
      t1.failed({ attempt: 1, at: 20, final: false }),
      t1.retryScheduled({ nextAttempt: 2, at: 20, dueAt: 30 }),
      t1.cancelled({ at: 25 }),
    ]);
    expect(model.doc('T1')).toMatchObject({ status: 'cancelled', attempts: [{ attempt: 1, outcome: 'failed' }] });
    expect(model.doc('T1')).not.toHaveProperty('retry');
  });

  it('ignores unknown event types, data that fails its schema, strays, and data naming another task', async () => {
    const { log, t1 } = setup();
    const model = await fold(taskProgress, [t1.queued(), t1.assigned({ attempt: 1, at: 10 })]);
    const before = model.doc('T1');
    const ignored = [
      log.record('task-T1', 'TaskExploded', { taskId: 'T1', at: at(20) }),
      log.record('task-T1', 'TaskProgressed', { taskId: 'T1', at: at(20), attempt: 1, stage: 'scan', percent: 'fifty' }),
      log.record('task-T1', 'TaskProgressed', { taskId: 'T2', at: at(20), attempt: 1, stage: 'scan', percent: 50 }),
      log.record('task-T9', 'TaskProgressed', { taskId: 'T9', at: at(20), attempt: 1, stage: 'scan', percent: 50 }),
      log.record('task-T1.x', 'TaskProgressed', { taskId: 'T1.x', at: at(20), attempt: 1, stage: 'scan', percent: 50 }),
      log.record('task-T1', 'TaskQueued', {
        taskId: 'T1',
        at: at(20),
        taskType: 'other',
        pool: 'p',
        priority: 'low',
        payload: null,
        maxAttempts: 1,
        timeoutMs: 1,
        requestedBy: 'U9',
      }),
    ];
    for (const event of ignored) expect(await taskProgress.apply(event, model)).toEqual([]);
    expect(model.doc('T1')).toBe(before);
  });
});

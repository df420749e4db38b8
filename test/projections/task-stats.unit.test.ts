import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { taskStats, type TaskTotals, type TaskTypeStats } from '../../projections/models/task-stats.ts';
import { at, EventLog, MemoryReadModel, taskEvents } from './fixtures.ts';

const setup = () => {
  const log = new EventLog();
  return { log, t1: taskEvents(log, 'T1'), t2: taskEvents(log, 'T2'), t3: taskEvents(log, 'T3') };
};
const counts = (over: Partial<Record<string, number>> = {}) => ({
  queued: 0,
  running: 0,
  retryScheduled: 0,
  outcomeUnknown: 0,
  completed: 0,
  failed: 0,
  cancelled: 0,
  ...over,
});

/** Folds event by event, checking after each that every task sits in exactly one status. */
async function foldChecked(events: readonly RecordedEvent[], model = new MemoryReadModel()): Promise<MemoryReadModel> {
  for (const event of events) {
    await model.fold(taskStats, [event]);
    const totals = model.doc('totals') as TaskTotals;
    const types = [...model.docs].filter(([key]) => key.startsWith('type.')).map(([, doc]) => doc as TaskTypeStats);
    const sum = (byStatus: Record<string, number>) => Object.values(byStatus).reduce((a, b) => a + b, 0);
    expect(Object.values(totals.byStatus).every((n) => n >= 0)).toBe(true);
    expect(sum(totals.byStatus)).toBe(totals.count);
    for (const type of types) expect(sum(type.byStatus)).toBe(type.count);
    expect(types.reduce((n, t) => n + t.count, 0)).toBe(totals.count);
  }
  return model;
}

describe('task-stats: counts by status and type, durations of finished tasks', () => {
  it('a queued task is counted once, overall and under its type', async () => {
    const { t1, t2 } = setup();
    const model = await foldChecked([t1.queued(), t2.queued({ taskType: 'run-tests' })]);
    expect(model.doc('totals')).toEqual({ byStatus: counts({ queued: 2 }), count: 2 });
    expect(model.doc('type.analyze-codebase')).toEqual({
      taskType: 'analyze-codebase',
      byStatus: counts({ queued: 1 }),
      count: 1,
      completed: { count: 0, totalMs: 0 },
      failed: { count: 0, totalMs: 0 },
      cancelled: { count: 0, totalMs: 0 },
    });
    expect(model.doc('task.T1')).toEqual({ taskType: 'analyze-codebase', status: 'queued', queuedAt: at(0) });
  });

  it('each transition moves the task from one count to the next, through retries', async () => {
    const { t1 } = setup();
    const model = await foldChecked([t1.queued(), t1.assigned({ attempt: 1, at: 10 })]);
    expect((model.doc('totals') as TaskTotals).byStatus).toEqual(counts({ running: 1 }));

    await foldChecked([t1.failed({ attempt: 1, at: 20, final: false })], model);
    expect((model.doc('totals') as TaskTotals).byStatus).toEqual(counts({ queued: 1 }));
    await foldChecked([t1.retryScheduled({ nextAttempt: 2, at: 20, dueAt: 22 })], model);
    expect((model.doc('totals') as TaskTotals).byStatus).toEqual(counts({ retryScheduled: 1 }));
    await foldChecked([t1.assigned({ attempt: 2, at: 23 }), t1.timedOut({ attempt: 2, at: 40 }), t1.assigned({ attempt: 3, at: 41 })], model);
    expect((model.doc('totals') as TaskTotals).byStatus).toEqual(counts({ running: 1 }));
    await foldChecked([t1.completed({ attempt: 3, at: 50, durationMs: 9_000 })], model);
    expect(model.doc('totals')).toEqual({ byStatus: counts({ completed: 1 }), count: 1 });
    expect((model.doc('type.analyze-codebase') as TaskTypeStats).byStatus).toEqual(counts({ completed: 1 }));
  });

  it('durations: the recorded run time of completed tasks, time since queued for failed and cancelled ones', async () => {
    const { log, t1, t2, t3 } = setup();
    const t4 = taskEvents(log, 'T4');
    const model = await foldChecked([
      t1.queued(),
      t2.queued(),
      t3.queued(),
      t4.queued({ at: 10 }),
      t1.assigned({ attempt: 1, at: 1 }),
      t1.completed({ attempt: 1, at: 100, durationMs: 90_000 }),
      t2.assigned({ attempt: 1, at: 2 }),
      t2.completed({ attempt: 1, at: 40, durationMs: 30_000 }),
      t3.assigned({ attempt: 1, at: 3 }),
      t3.failed({ attempt: 1, at: 300, final: true }),
      t4.cancelled({ at: 15 }),
    ]);
    expect(model.doc('type.analyze-codebase')).toEqual({
      taskType: 'analyze-codebase',
      byStatus: counts({ completed: 2, failed: 1, cancelled: 1 }),
      count: 4,
      completed: { count: 2, totalMs: 120_000, minMs: 30_000, maxMs: 90_000 },
      failed: { count: 1, totalMs: 300_000, minMs: 300_000, maxMs: 300_000 },
      cancelled: { count: 1, totalMs: 5_000, minMs: 5_000, maxMs: 5_000 },
    });
    // Nothing follows a finished task, so its index is gone.
    expect([...model.docs.keys()].filter((k) => k.startsWith('task.'))).toEqual([]);
  });

  it('progress reports, and anything after a task finished, change no count', async () => {
    const { t1 } = setup();
    const model = await foldChecked([t1.queued(), t1.assigned({ attempt: 1, at: 1 })]);
    expect(await taskStats.apply(t1.progressed({ attempt: 1, percent: 50, at: 2 }), model)).toEqual([]);
    await foldChecked([t1.completed({ attempt: 1, at: 3, durationMs: 2_000 })], model);
    expect(await taskStats.apply(t1.completed({ attempt: 1, at: 4, durationMs: 3_000 }), model)).toEqual([]);
    expect(await taskStats.apply(t1.queued({ at: 5 }), model)).toEqual([]);
  });

  it('ignores unknown event types, data that fails its schema, a task type that could not be a key, and strays', async () => {
    const { log, t1, t2 } = setup();
    const model = await foldChecked([t1.queued()]);
    const ignored = [
      t2.queued({ taskType: 'run.tests' }),
      log.record('task-T1', 'TaskExploded', { taskId: 'T1', at: at(1) }),
      log.record('task-T1', 'TaskCompleted', { taskId: 'T1', at: at(1), attempt: 1, workerId: 'w', durationMs: '1s' }),
      log.record('task-T8', 'TaskCancelled', { taskId: 'T8', at: at(1), reason: 'r', requestedBy: 'U1', wasRunning: false }),
    ];
    for (const event of ignored) expect(await taskStats.apply(event, model)).toEqual([]);
  });
});

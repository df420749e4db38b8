import { describe, expect, it } from 'vitest';
import { conversationTasks } from '../../projections/models/conversation-tasks.ts';
import { at, EventLog, fold, taskEvents } from './fixtures.ts';

const setup = () => {
  const log = new EventLog();
  return { log, t1: taskEvents(log, 'T1'), t2: taskEvents(log, 'T2'), t3: taskEvents(log, 'T3'), t4: taskEvents(log, 'T4') };
};

describe('conversation-tasks: the tasks each conversation started', () => {
  it('lists a task under the conversation that queued it; tasks with no conversation are not listed', async () => {
    const { t1, t2, t3, t4 } = setup();
    const model = await fold(conversationTasks, [
      t1.queued({ at: 0, conversationId: 'conv-A' }),
      t2.queued({ at: 1, conversationId: 'conv-A', taskType: 'run-tests' }),
      t3.queued({ at: 2, conversationId: 'conv-B' }),
      t4.queued({ at: 3 }),
    ]);
    expect(model.doc('conv-A')).toEqual({
      conversationId: 'conv-A',
      tasks: [
        { taskId: 'T1', taskType: 'analyze-codebase', status: 'queued', queuedAt: at(0) },
        { taskId: 'T2', taskType: 'run-tests', status: 'queued', queuedAt: at(1) },
      ],
    });
    expect(model.doc('conv-B')).toMatchObject({ tasks: [{ taskId: 'T3' }] });
    expect([...model.docs.keys()].sort()).toEqual(['conv-A', 'conv-B', 'task.T1', 'task.T2', 'task.T3']);
  });

  it('follows status changes through the task index, and drops the index once the task finishes', async () => {
    const { t1, t2 } = setup();
    const model = await fold(conversationTasks, [t1.queued({ conversationId: 'conv-A' }), t2.queued({ at: 1, conversationId: 'conv-A' })]);
    expect(model.doc('task.T1')).toEqual({ conversationId: 'conv-A' });
    const statusOfT1 = () => (model.doc('conv-A')!.tasks as { taskId: string; status: string }[]).find((t) => t.taskId === 'T1')!.status;

    await model.fold(conversationTasks, [t1.assigned({ attempt: 1, at: 10 })]);
    expect(statusOfT1()).toBe('running');
    await model.fold(conversationTasks, [t1.failed({ attempt: 1, at: 20, final: false })]);
    expect(statusOfT1()).toBe('queued');
    await model.fold(conversationTasks, [t1.retryScheduled({ nextAttempt: 2, at: 20, dueAt: 22 })]);
    expect(statusOfT1()).toBe('retryScheduled');
    await model.fold(conversationTasks, [t1.assigned({ attempt: 2, at: 23 }), t1.completed({ attempt: 2, at: 60, durationMs: 37_000 })]);

    expect(model.doc('conv-A')!.tasks).toEqual([
      { taskId: 'T1', taskType: 'analyze-codebase', status: 'completed', queuedAt: at(0), finishedAt: at(60) },
      { taskId: 'T2', taskType: 'analyze-codebase', status: 'queued', queuedAt: at(1) },
    ]);
    expect(model.doc('task.T1')).toBeUndefined();
    expect(model.doc('task.T2')).toEqual({ conversationId: 'conv-A' });
  });

  it('cancelled and failed tasks show when they ended', async () => {
    const { t1, t2 } = setup();
    const model = await fold(conversationTasks, [
      t1.queued({ conversationId: 'conv-A' }),
      t2.queued({ conversationId: 'conv-A' }),
      t1.cancelled({ at: 5 }),
      t2.assigned({ attempt: 1, at: 6 }),
      t2.failed({ attempt: 1, at: 9, final: true }),
    ]);
    expect(model.doc('conv-A')!.tasks).toMatchObject([
      { taskId: 'T1', status: 'cancelled', finishedAt: at(5) },
      { taskId: 'T2', status: 'failed', finishedAt: at(9) },
    ]);
  });

  it("a task queued again after it finished is not listed again (only a stream's first event creates a task)", async () => {
    const { t1 } = setup();
    const model = await fold(conversationTasks, [t1.queued({ conversationId: 'conv-A' }), t1.cancelled({ at: 5 })]);
    expect(await conversationTasks.apply(t1.queued({ at: 6, conversationId: 'conv-A' }), model)).toEqual([]);
  });

  it('progress reports change nothing', async () => {
    const { t1 } = setup();
    const model = await fold(conversationTasks, [t1.queued({ conversationId: 'conv-A' }), t1.assigned({ attempt: 1, at: 1 })]);
    expect(await conversationTasks.apply(t1.progressed({ attempt: 1, percent: 50, at: 2 }), model)).toEqual([]);
  });

  it('ignores a conversation id that could not be a key, unknown event types, data that fails its schema, and strays', async () => {
    const { log, t1, t2 } = setup();
    const model = await fold(conversationTasks, [t1.queued({ conversationId: 'conv-A' })]);
    const ignored = [
      t2.queued({ conversationId: 'conv.A' }),
      log.record('task-T1', 'TaskExploded', { taskId: 'T1', at: at(1) }),
      log.record('task-T1', 'TaskAssigned', { taskId: 'T1', at: at(1), attempt: 'one', workerId: 'w', timesOutAt: at(9) }),
      log.record('task-T7', 'TaskAssigned', { taskId: 'T7', at: at(1), attempt: 1, workerId: 'w', timesOutAt: at(9) }),
    ];
    for (const event of ignored) expect(await conversationTasks.apply(event, model)).toEqual([]);
  });
});

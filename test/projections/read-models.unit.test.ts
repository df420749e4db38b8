import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { parseStreamName } from '../../domain/streams.ts';
import { readModels } from '../../projections/models/index.ts';
import { event, fixturesFor, task, tree, workflowId } from '../domain/workflow-fixtures.ts';
import { at, conversationEvents, EventLog, fold, MemoryReadModel, taskEvents } from './fixtures.ts';

// What holds for every read model: the runner's contract (a category, a pure fold) and the
// shape of the list the runner and the query side read.

function mixedLog(): readonly RecordedEvent[] {
  const log = new EventLog();
  const [t1, t2, t3, c1] = [taskEvents(log, 'T1'), taskEvents(log, 'T2'), taskEvents(log, 'T3'), conversationEvents(log, 'conv-A')];
  c1.started();
  t1.queued({ conversationId: 'conv-A' });
  c1.message({ n: 1, at: 1 });
  t1.assigned({ attempt: 1, at: 2 });
  t2.queued({ at: 3, taskType: 'run-tests' });
  t1.progressed({ attempt: 1, percent: 30, at: 10 });
  c1.contextSet({ name: 'lastTaskIds', value: ['T1'], at: 11 });
  t1.failed({ attempt: 1, at: 20, final: false });
  t1.retryScheduled({ nextAttempt: 2, at: 20, dueAt: 21 });
  t1.assigned({ attempt: 2, at: 22 });
  t2.cancelled({ at: 23 });
  t1.completed({ attempt: 2, at: 40, durationMs: 17_000 });
  c1.archived({ at: 50 });
  // A retry still waiting at the end of the log (the task-retry-timers model holds it).
  t3.queued({ at: 51, taskType: 'lint' });
  t3.failed({ attempt: 1, at: 52, final: false });
  t3.retryScheduled({ nextAttempt: 2, at: 52, dueAt: 90 });
  const w1 = fixturesFor(tree(task('build'), { type: 'approval', id: 'gate' }));
  for (const { type, data } of [
    w1.started(),
    w1.scheduled('build'),
    event('StepCompleted', { stepId: 'build', attempt: 1, taskId: `${workflowId}_build_1`, output: null }),
    event('ApprovalRequested', { stepId: 'gate', visit: 1, approvers: [], quorum: 1, requesterMayApprove: true, requestedBy: 'U-req', dueAt: at(700) }),
  ]) {
    log.record(`workflow-${workflowId}`, type, data, data.at);
  }
  // The same event types recorded outside their own category, and data shaped for one aggregate in another's stream.
  log.record('workflow-W1', 'TaskQueued', {
    taskId: 'W1',
    at: at(60),
    taskType: 'x',
    pool: 'p',
    priority: 'low',
    payload: null,
    maxAttempts: 1,
    timeoutMs: 1,
    requestedBy: 'U1',
  });
  log.record('task-T1', 'MessageAdded', { conversationId: 'T1', at: at(61), messageId: 'm9', role: 'user', text: 'hi' });
  log.record('conversation-conv-A', 'TaskCancelled', { taskId: 'conv-A', at: at(62), reason: 'r', requestedBy: 'U1', wasRunning: false });
  return log.events;
}

describe('read models', () => {
  it('are listed once each, at version 1, with names usable as query subjects', () => {
    const names = readModels.map((m) => m.name);
    expect(names).toEqual(['task-progress', 'conversation-view', 'conversation-tasks', 'task-stats', 'workflow-timers', 'task-retry-timers', 'metrics-totals']);
    for (const model of readModels) {
      expect(model.name).toMatch(/^[a-z0-9-]+$/);
      expect(model.version).toBe(1);
      // A model of one aggregate names its category; one that spans them (the metrics totals) sees every event.
      if (model.name === 'metrics-totals') expect(model.category).toBeUndefined();
      else expect(model.category).toMatch(/^(task|conversation|workflow)$/);
    }
  });

  describe.each(readModels.filter((m) => m.category !== undefined).map((m) => [m.name, m] as const))('%s, of one category', (_name, model) => {
    it('changes nothing for an event outside its category, however full the model is', async () => {
      const events = mixedLog();
      const view = await fold(
        model,
        events.filter((e) => parseStreamName(e.stream).category === model.category),
      );
      expect(view.docs.size).toBeGreaterThan(0);
      const outside = events.filter((e) => parseStreamName(e.stream).category !== model.category);
      expect(outside.length).toBeGreaterThan(0);
      for (const event of outside) expect(await model.apply(event, view), `${event.stream} ${event.type}`).toEqual([]);
    });
  });

  describe.each(readModels.map((m) => [m.name, m] as const))('%s', (_name, model) => {
    it('folds to the same documents whether the log arrives at once or in two batches stored in between', async () => {
      const events = mixedLog();
      const whole = await fold(model, events);
      for (let split = 1; split < events.length; split++) {
        const first = await fold(model, events.slice(0, split));
        const resumed = await first.reloaded().fold(model, events.slice(split));
        expect(Object.fromEntries(resumed.docs), `split at ${split}`).toEqual(Object.fromEntries(whole.docs));
      }
    });

    it('is a function of (event, view): the same event on the same view gives the same changes', async () => {
      const events = mixedLog();
      const view = new MemoryReadModel();
      for (const event of events) {
        const once = await model.apply(event, view);
        expect(await model.apply(event, view)).toEqual(once);
        await view.fold(model, [event]);
      }
    });
  });
});

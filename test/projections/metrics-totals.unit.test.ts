import { isLeft } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { workflowDecider, type WorkflowCommand, type WorkflowCommandOf, type WorkflowState } from '../../domain/workflow/index.ts';
import { cumulativeBuckets, QUEUE_WAIT_BOUNDS, TASK_DURATION_BOUNDS } from '../../projections/models/metrics-histogram.ts';
import { labelKey, metricsTotals, type ModelTotals, type TaskTotals, type WorkflowTotals } from '../../projections/models/metrics-totals.ts';
import { minute, requester, task, tree } from '../domain/workflow-fixtures.ts';
import { at, EventLog, fold, taskEvents } from './fixtures.ts';
import { statusPlan } from '../support/plan-fixtures.ts';

// metrics-totals: the read model behind the event-derived Prometheus metrics. Task events from
// the fixtures' builders, workflow events from the real Workflow decider.

const tasksOf = (model: { doc(key: string): unknown }) => model.doc('tasks') as TaskTotals;
const countAt = (hist: { counts: readonly number[]; sum: number; count: number }, bounds: readonly number[], le: string) =>
  cumulativeBuckets(hist, bounds).find((b) => b.le === le)?.count;

describe('metrics-totals: tasks', () => {
  it('counts finished tasks by type, pool and outcome, with run time and schedule-to-start', async () => {
    const log = new EventLog();
    const ok = taskEvents(log, 'T1');
    const bad = taskEvents(log, 'T2');
    const cancelled = taskEvents(log, 'T3');
    const events = [
      ok.queued({ at: 0 }),
      ok.assigned({ attempt: 1, at: 2 }),
      ok.completed({ attempt: 1, at: 10, durationMs: 7_500 }),
      bad.queued({ at: 0, taskType: 'run-tests' }),
      bad.assigned({ attempt: 1, at: 1 }),
      bad.failed({ attempt: 1, at: 4, final: false }),
      bad.retryScheduled({ nextAttempt: 2, at: 4, dueAt: 34 }),
      bad.assigned({ attempt: 2, at: 35 }),
      bad.failed({ attempt: 2, at: 95, final: true }),
      cancelled.queued({ at: 0 }),
      cancelled.cancelled({ at: 5 }),
    ];
    const model = await fold(metricsTotals, events);
    const totals = tasksOf(model);
    expect(totals.finished).toEqual({
      [labelKey('analyze-codebase', 'local-ops', 'completed')]: 1,
      [labelKey('run-tests', 'local-ops', 'failed')]: 1,
      [labelKey('analyze-codebase', 'local-ops', 'cancelled')]: 1,
    });
    // Completed: the worker's 7.5 s; failed: from the last take to the end (60 s); cancelled before running: no run time.
    const analyze = totals.duration[labelKey('analyze-codebase', 'local-ops')]!;
    expect(analyze).toMatchObject({ count: 1, sum: 7.5 });
    expect(countAt(analyze, TASK_DURATION_BOUNDS, '5')).toBe(0);
    expect(countAt(analyze, TASK_DURATION_BOUNDS, '10')).toBe(1);
    expect(totals.duration[labelKey('run-tests', 'local-ops')]).toMatchObject({ count: 1, sum: 60 });
    // Queue waits: 2 s for T1; 1 s and then 1 s after the retry fell due for T2.
    expect(totals.queueWait[labelKey('analyze-codebase', 'local-ops')]).toMatchObject({ count: 1, sum: 2 });
    const runTestsWait = totals.queueWait[labelKey('run-tests', 'local-ops')]!;
    expect(runTestsWait).toMatchObject({ count: 2, sum: 2 });
    expect(countAt(runTestsWait, QUEUE_WAIT_BOUNDS, '1')).toBe(2);
    expect(countAt(runTestsWait, QUEUE_WAIT_BOUNDS, '+Inf')).toBe(2);
    // Nothing is kept of finished tasks but the totals.
    expect([...model.docs.keys()].filter((k) => k.startsWith('task.'))).toEqual([]);
  });

  it('replaying the same events (a redelivery) counts nothing twice, and a TaskQueued that does not open its stream is ignored', async () => {
    const log = new EventLog();
    const t = taskEvents(log, 'T1');
    const queued = t.queued({ at: 0 });
    const again: RecordedEvent = { ...t.queued({ at: 1 }) };
    const done = [t.assigned({ attempt: 1, at: 2 }), t.completed({ attempt: 1, at: 3, durationMs: 1_000 })];
    const model = await fold(metricsTotals, [queued, again, ...done, ...done]);
    expect(tasksOf(model).finished).toEqual({ [labelKey('analyze-codebase', 'local-ops', 'completed')]: 1 });
    expect(tasksOf(model).queueWait[labelKey('analyze-codebase', 'local-ops')]).toMatchObject({ count: 1, sum: 2 });
  });
});

const gate = { type: 'approval', id: 'gate', approvers: ['U-boss'], quorum: 1, timeoutMs: 600_000 };
const definition = tree(task('build', 'run-tests'), gate, task('deploy', 'sf-deploy'));

function workflow(workflowId: string, log: EventLog) {
  let state: WorkflowState = workflowDecider.initialState();
  const run = <K extends WorkflowCommand['type']>(type: K, fields: Omit<WorkflowCommandOf<K>, 'type' | 'workflowId' | 'at'>, when: string): RecordedEvent[] => {
    const decision = workflowDecider.decide({ type, workflowId, at: when, ...fields } as WorkflowCommand, state);
    if (isLeft(decision)) throw new Error(`${type} rejected: ${decision.left.message}`);
    return decision.right.map((event) => {
      state = workflowDecider.evolve(state, event);
      return log.record(`workflow-${workflowId}`, event.type, event.data, when);
    });
  };
  return {
    start: (when = minute(0)) => run('StartWorkflow', { definition, inputs: {}, requestedBy: requester, maxExecutionMs: 3_600_000, dryRun: false }, when),
    started: (stepId: string, when: string) => run('RecordStepStarted', { stepId, attempt: 1, workerId: 'w1' }, when),
    completed: (stepId: string, when: string) => run('RecordStepCompleted', { stepId, attempt: 1, output: { ok: true } }, when),
    grant: (when: string) => run('GrantApproval', { stepId: 'gate', approver: 'U-boss' }, when),
    cancel: (when: string) => run('CancelWorkflow', { reason: 'not needed', requestedBy: requester }, when),
  };
}

describe('metrics-totals: workflows and approvals', () => {
  it('a gate waiting counts as one pending approval until granted; finished workflows count by template and outcome with their duration', async () => {
    const log = new EventLog();
    const a = workflow('W1', log);
    const b = workflow('W2', log);
    const toGate = [...a.start(minute(0)), ...a.started('build', minute(1)), ...a.completed('build', minute(2))];
    const pending = await fold(metricsTotals, toGate);
    expect((pending.doc('workflows') as unknown as WorkflowTotals).approvalsPending).toBe(1);

    const rest = [...a.grant(minute(3)), ...a.started('deploy', minute(4)), ...a.completed('deploy', minute(5))];
    // W2 is cancelled while its gate waits: the gate will never be decided, so it is no longer pending.
    const second = [...b.start(minute(0)), ...b.started('build', minute(1)), ...b.completed('build', minute(2)), ...b.cancel(minute(10))];
    const model = await fold(metricsTotals, [...toGate, ...rest, ...second]);
    const totals = model.doc('workflows') as unknown as WorkflowTotals;
    expect(totals.approvalsPending).toBe(0);
    const name = definition.name as string;
    expect(totals.finished).toEqual({ [labelKey(name, 'completed')]: 1, [labelKey(name, 'cancelled')]: 1 });
    expect(totals.duration[labelKey(name)]).toMatchObject({ count: 2, sum: 5 * 60 + 10 * 60 });
  });
});

describe('metrics-totals: planner tokens and cost', () => {
  it("adds each plan version's tokens by model and kind, and its cost by model", async () => {
    const log = new EventLog();
    const approval = { required: false, reasons: [], requesterMayApprove: true };
    const spend = (model: string, inputTokens: number, outputTokens: number, costUsd: number) => ({ model, usage: { inputTokens, outputTokens }, costUsd });
    const proposed = log.record('plan-P1', 'PlanProposed', {
      planId: 'P1',
      at: at(0),
      conversationId: 'conv-1',
      requestedBy: 'U1',
      request: 'status',
      revision: 1,
      plan: statusPlan(),
      approval,
      ...spend('claude-opus-4-5', 1_000, 200, 0.01),
    });
    const amended = log.record('plan-P1', 'PlanAmended', {
      planId: 'P1',
      at: at(5),
      revision: 2,
      plan: statusPlan(),
      reason: 'shorter',
      amendedBy: 'U1',
      approval,
      ...spend('claude-opus-4-5', 500, 100, 0.005),
    });
    const offline = log.record('plan-P2', 'PlanProposed', {
      planId: 'P2',
      at: at(0),
      conversationId: 'conv-2',
      requestedBy: 'U1',
      request: 'status',
      revision: 1,
      plan: statusPlan(),
      approval,
      ...spend('offline', 0, 0, 0),
    });
    const model = await fold(metricsTotals, [proposed, amended, offline]);
    const totals = model.doc('models') as unknown as ModelTotals;
    expect(totals.tokens).toEqual({
      [labelKey('claude-opus-4-5', 'input')]: 1_500,
      [labelKey('claude-opus-4-5', 'output')]: 300,
      [labelKey('offline', 'input')]: 0,
      [labelKey('offline', 'output')]: 0,
    });
    expect(totals.costUsd[labelKey('claude-opus-4-5')]).toBeCloseTo(0.015, 10);
  });

  it('a plan event whose data does not read is not counted', async () => {
    const log = new EventLog();
    const unreadable = log.record('plan-P2', 'PlanProposed', { planId: 'P2', at: at(0), model: 'm', usage: { inputTokens: -1 } });
    expect((await fold(metricsTotals, [unreadable])).doc('models')).toBeUndefined();
  });
});

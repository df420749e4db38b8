import { isLeft } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { workflowDecider, type WorkflowCommand, type WorkflowCommandOf, type WorkflowState } from '../../domain/workflow/index.ts';
import { agendaOf, type WorkflowTimers } from '../../domain/workflow/timers.ts';
import { workflowTimers } from '../../projections/models/workflow-timers.ts';
import { minute, requester, task, tree } from '../domain/workflow-fixtures.ts';
import { EventLog, fold, type MemoryReadModel } from './fixtures.ts';

// workflow-timers: every running workflow's pending timers. The events come from the real
// Workflow decider, so the fold is specified against what the aggregate actually records.

const gate = { type: 'approval', id: 'gate', approvers: ['U-boss', 'U-ops'], quorum: 2, timeoutMs: 600_000, reminderBeforeMs: 60_000 };
const definition = tree(
  task('build', 'run-tests', { retry: { attempts: 3, backoffMs: 1_000, maxBackoffMs: 1_000 }, timeoutMs: 60_000 }),
  gate,
  task('deploy', 'sf-deploy'),
);

/** One workflow driven through the decider; each accepted command's events recorded on the log. */
function workflow(workflowId: string, log = new EventLog()) {
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
    log,
    start: (when = minute(0)) =>
      run('StartWorkflow', { definition, inputs: {}, requestedBy: requester, maxExecutionMs: 3_600_000, dryRun: false, conversationId: 'conv-A' }, when),
    started: (stepId: string, attempt: number, when: string) => run('RecordStepStarted', { stepId, attempt, workerId: 'w1' }, when),
    completed: (stepId: string, attempt: number, when: string) => run('RecordStepCompleted', { stepId, attempt, output: { ok: true } }, when),
    failed: (stepId: string, attempt: number, when: string) =>
      run('RecordStepFailed', { stepId, attempt, error: { code: 'ExitCode', message: 'exited with 1' }, retryable: true, jitter: 1 }, when),
    grant: (approver: string, when: string) => run('GrantApproval', { stepId: 'gate', approver }, when),
    reject: (approver: string, when: string) => run('RejectApproval', { stepId: 'gate', approver }, when),
    timeOut: (when: string) => run('TimeOutApproval', { stepId: 'gate' }, when),
    remind: (when: string) => run('RemindApprovers', { stepId: 'gate', visit: 1 }, when),
    cancel: (when: string) => run('CancelWorkflow', { reason: 'not needed', requestedBy: requester }, when),
  };
}

/** A workflow run up to its approval gate: build failed once, its retry passed. */
function atTheGate(w: ReturnType<typeof workflow>): RecordedEvent[] {
  return [
    ...w.start(),
    ...w.started('build', 1, minute(1)),
    ...w.failed('build', 1, minute(1, 30)),
    ...w.started('build', 2, minute(2)),
    ...w.completed('build', 2, minute(2, 30)),
  ];
}

const timersOf = (model: MemoryReadModel, workflowId = 'W1') => model.doc(workflowId) as WorkflowTimers | undefined;
const kinds = (model: MemoryReadModel, workflowId = 'W1') => timersOf(model, workflowId)?.timers.map((t) => t.kind);

describe('workflow-timers: the timers each running workflow waits on', () => {
  it('a started workflow waits on its maximum time; its requester and conversation are kept for the tasks a retry queues', async () => {
    const w = workflow('W1');
    const model = await fold(workflowTimers, w.start());
    expect(timersOf(model)).toEqual({
      workflowId: 'W1',
      requestedBy: requester,
      conversationId: 'conv-A',
      revision: 1, // WorkflowStarted, then StepScheduled of build
      timers: [{ kind: 'workflow-timeout', workflowId: 'W1', dueAt: minute(60) }],
    });
  });

  it("a step's timeout from its start, the retry from the failure, each gone once the attempt it times is over", async () => {
    const w = workflow('W1');
    const model = await fold(workflowTimers, [...w.start(), ...w.started('build', 1, minute(1))]);
    expect(timersOf(model)!.timers).toContainEqual({
      kind: 'step-timeout',
      workflowId: 'W1',
      stepId: 'build',
      attempt: 1,
      taskId: 'W1_build_1',
      dueAt: minute(2),
    });

    await model.fold(workflowTimers, w.failed('build', 1, minute(1, 30)));
    expect(kinds(model)).toEqual(['workflow-timeout', 'retry']);
    expect(timersOf(model)!.timers[1]).toEqual({
      kind: 'retry',
      workflowId: 'W1',
      stepId: 'build',
      attempt: 2,
      dueAt: minute(1, 31),
      task: { taskId: 'W1_build_2', taskType: 'run-tests', params: { repository: 'acme' }, timeoutMs: 60_000, dryRun: false, sideEffects: false },
    });

    await model.fold(workflowTimers, w.started('build', 2, minute(2)));
    expect(timersOf(model)!.timers.slice(1)).toEqual([
      { kind: 'step-timeout', workflowId: 'W1', stepId: 'build', attempt: 2, taskId: 'W1_build_2', dueAt: minute(3) },
    ]);

    await model.fold(workflowTimers, w.completed('build', 2, minute(2, 30)));
    expect(timersOf(model)!.timers.filter((t) => t.kind === 'retry' || t.kind === 'step-timeout')).toEqual([]);
  });

  it("an approval's timeout and reminder stay through a grant short of the quorum and go once the gate is approved", async () => {
    const w = workflow('W1');
    const model = await fold(workflowTimers, atTheGate(w));
    expect(timersOf(model)!.timers.slice(1)).toEqual([
      { kind: 'approval-timeout', workflowId: 'W1', stepId: 'gate', visit: 1, dueAt: minute(12, 30) },
      { kind: 'approval-reminder', workflowId: 'W1', stepId: 'gate', visit: 1, dueAt: minute(11, 30) },
    ]);
    await model.fold(workflowTimers, w.grant('U-boss', minute(5)));
    expect(kinds(model)).toEqual(['workflow-timeout', 'approval-timeout', 'approval-reminder']);
    await model.fold(workflowTimers, w.grant('U-ops', minute(6)));
    expect(kinds(model)).toEqual(['workflow-timeout']);
  });

  it('a reminder is done once the approvers were reminded; the gate keeps its timeout', async () => {
    const w = workflow('W1');
    const model = await fold(workflowTimers, atTheGate(w));
    await model.fold(workflowTimers, w.remind(minute(11, 30)));
    expect(w.log.events.at(-1)!.type).toBe('ApprovalReminderDue');
    expect(kinds(model)).toEqual(['workflow-timeout', 'approval-timeout']);
  });

  it('a rejected or timed-out gate ends the workflow, and with it every timer: the document goes', async () => {
    for (const decide of [(w: ReturnType<typeof workflow>) => w.reject('U-boss', minute(5)), (w: ReturnType<typeof workflow>) => w.timeOut(minute(12, 30))]) {
      const w = workflow('W1');
      const model = await fold(workflowTimers, atTheGate(w));
      const events = decide(w);
      expect(events.map((e) => e.type)).toContain('WorkflowFailed');
      await model.fold(workflowTimers, events);
      expect(model.docs.size).toBe(0);
    }
  });

  it('a completed or cancelled workflow leaves no document', async () => {
    const done = workflow('W1');
    const completed = await fold(workflowTimers, [
      ...atTheGate(done),
      ...done.grant('U-boss', minute(5)),
      ...done.grant('U-ops', minute(6)),
      ...done.started('deploy', 1, minute(7)),
      ...done.completed('deploy', 1, minute(8)),
    ]);
    expect(done.log.events.at(-1)!.type).toBe('WorkflowCompleted');
    expect(completed.docs.size).toBe(0);

    const cancelled = workflow('W2');
    expect((await fold(workflowTimers, [...cancelled.start(), ...cancelled.cancel(minute(1))])).docs.size).toBe(0);
  });

  it('keeps one document per running workflow; the agenda lists their timers soonest first', async () => {
    const log = new EventLog();
    const [w1, w2] = [workflow('W1', log), workflow('W2', log)];
    const model = await fold(workflowTimers, [...atTheGate(w1), ...w2.start(minute(1)), ...w2.started('build', 1, minute(1))]);
    expect([...model.docs.keys()].sort()).toEqual(['W1', 'W2']);
    const agenda = agendaOf([timersOf(model, 'W1')!, timersOf(model, 'W2')!]);
    expect(agenda.map((t) => `${t.workflowId} ${t.kind} ${t.dueAt}`)).toEqual([
      `W2 step-timeout ${minute(2)}`,
      `W1 approval-reminder ${minute(11, 30)}`,
      `W1 approval-timeout ${minute(12, 30)}`,
      `W1 workflow-timeout ${minute(60)}`,
      `W2 workflow-timeout ${minute(61)}`,
    ]);
  });

  it('an event at or before the revision a document records changes nothing, so replays are harmless', async () => {
    const w = workflow('W1');
    const events = atTheGate(w);
    const granted = [...w.grant('U-boss', minute(5)), ...w.grant('U-ops', minute(6))];
    const model = await fold(workflowTimers, [...events, ...granted]);
    const requested = events.find((e) => e.type === 'ApprovalRequested')!;
    expect(await workflowTimers.apply(requested, model)).toEqual([]);
    expect(await workflowTimers.apply(events[0]!, model)).toEqual([]);
    expect(timersOf(model)!.revision).toBe(Number(granted.at(-1)!.revision));
  });

  it('ignores events of a workflow whose start it never saw', async () => {
    const w = workflow('W1');
    const [, ...afterTheStart] = atTheGate(w);
    expect((await fold(workflowTimers, afterTheStart)).docs.size).toBe(0);
  });
});

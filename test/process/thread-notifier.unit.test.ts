import { describe, expect, it } from 'vitest';
import type { PlanEvent } from '../../domain/plan/index.ts';
import type { Intent } from '../../domain/process/process-manager.ts';
import {
  loadedNotifierState,
  notifierFinished,
  notifierKeepsEvents,
  threadNotifier,
  type NotifierEvent,
  type NotifierInput,
} from '../../domain/process/thread-notifier.ts';
import type { ChatAnswer, Thread, ThreadEffect } from '../../domain/process/thread-messages.ts';
import type { TaskEvent } from '../../domain/task/events.ts';
import { workflowDecider, type WorkflowEvent } from '../../domain/workflow/index.ts';
import { managerSpecFor } from '../support/manager-spec.ts';
import { statusPlan } from '../support/plan-fixtures.ts';
import { at, event as workflowEvent, fixturesFor, minute, requester, task, tree, workflowId } from '../domain/workflow-fixtures.ts';

// The thread notifier as a specification: which message each plan, workflow and task event
// shows or redraws in which thread, and how a message goes from looked up to posted and recorded.

const manager = threadNotifier({ taskTypes: [] });
const { given } = managerSpecFor(manager);

const conversationId = 'C1-1732183200_000100';
const thread: Thread = { source: 'slack', channel: 'C1', threadTs: '1732183200.000100' };
const message = (ts: string) => ({ channel: 'C1', ts });

let revision = 0;
const input = (e: NotifierEvent): NotifierInput => ({ kind: 'event', event: e, at });
const plan = (event: PlanEvent, rev = revision++): NotifierInput => input({ category: 'plan', id: 'P1', revision: rev, event });
const flow = (event: WorkflowEvent, rev = revision++): NotifierInput => input({ category: 'workflow', id: workflowId, revision: rev, event });
const taskEvent = (event: TaskEvent, rev = revision++): NotifierInput => input({ category: 'task', id: 'T1', revision: rev, event });

const effect = (e: ThreadEffect): Intent<ThreadEffect> => ({
  kind: 'effect',
  key: e.type === 'locate' ? `locate-${e.conversationId}` : `${e.type}-${e.deliveryId}`,
  effect: e,
  wantsReply: true,
});
const answer = (intent: Intent<ThreadEffect>, reply: ChatAnswer): NotifierInput => ({ kind: 'reply', intent, reply, at });
const locate = effect({ type: 'locate', conversationId });
const located = answer(locate, { kind: 'located', thread });
const lookUp = (deliveryId: string) => effect({ type: 'look-up', deliveryId, thread, marker: { kind: 'notice', deliveryId } });
const shownAs = (deliveryId: string, ts: string) => answer(lookUp(deliveryId), { kind: 'looked-up', message: message(ts), recorded: true });
const neverPosted = (deliveryId: string) => answer(lookUp(deliveryId), { kind: 'looked-up', recorded: false });
const begin = (deliveryId: string): Intent<ThreadEffect> => ({
  kind: 'command',
  category: 'delivery',
  id: deliveryId,
  commandId: `begin-message-${deliveryId}`,
  type: 'BeginProgressMessage',
  wantsReply: true,
  data: { channel: thread.channel, threadTs: thread.threadTs },
});
const record = (deliveryId: string, ts: string): Intent<ThreadEffect> => ({
  kind: 'command',
  category: 'delivery',
  id: deliveryId,
  commandId: `message-posted-${deliveryId}`,
  type: 'RecordProgressMessage',
  wantsReply: true,
  data: { channel: 'C1', ts },
});
const begun = (deliveryId: string, events = 1): NotifierInput => ({
  kind: 'reply',
  intent: begin(deliveryId),
  reply: { status: 'accepted', revision: '0', events },
  at,
});
/** An intent compared by the fields given. */
const like = (partial: object): Partial<Intent<ThreadEffect>> => partial as Partial<Intent<ThreadEffect>>;
const update = (deliveryId: string, ts: string) => like({ kind: 'effect', effect: { type: 'update', deliveryId, message: message(ts) } });

// ── plans ──────────────────────────────────────────────────────────────────────
const planEvent = (type: PlanEvent['type'], data: object) => ({ type, data: { planId: 'P1', at, ...data } }) as PlanEvent;
const approval = { required: true, reasons: ['it deploys'], requesterMayApprove: true };
const proposed = planEvent('PlanProposed', {
  conversationId,
  requestedBy: requester,
  request: 'status please',
  revision: 1,
  plan: statusPlan(),
  model: 'claude-opus-4-5',
  usage: { inputTokens: 1, outputTokens: 1 },
  costUsd: 0,
  approval,
});
const approved = planEvent('PlanApproved', { revision: 1, approver: 'U_LEAD', via: 'button' });

describe('a plan preview', () => {
  it('first locates the conversation’s thread', () => {
    given().when(plan(proposed)).then(locate);
  });

  it('looks the preview up before posting it (a crash may have posted it already)', () => {
    given(plan(proposed)).when(located).then(lookUp('plan-P1'));
  });

  it('is begun on its Delivery, posted, and where it landed recorded', () => {
    given(plan(proposed), located).when(neverPosted('plan-P1')).then(begin('plan-P1'));
    given(plan(proposed), located, neverPosted('plan-P1'))
      .when(begun('plan-P1'))
      .thenSends(like({ kind: 'effect', effect: { type: 'post', deliveryId: 'plan-P1', thread, marker: { kind: 'notice', deliveryId: 'plan-P1' } } }));
    const post = manager.decide(
      begun('plan-P1'),
      manager.evolve(manager.evolve(manager.evolve(manager.initialState(), plan(proposed)), located), neverPosted('plan-P1')),
    )[0]!;
    given(plan(proposed), located, neverPosted('plan-P1'), begun('plan-P1'))
      .when(answer(post, { kind: 'posted', message: message('9.1') }))
      .then(record('plan-P1', '9.1'));
  });

  it('is redrawn in place once a decision is made', () => {
    given(plan(proposed), located, shownAs('plan-P1', '9.1')).when(plan(approved)).thenSends(update('plan-P1', '9.1'));
  });

  it('found by its marker but not recorded: recorded, then redrawn', () => {
    given(plan(proposed), located)
      .when(answer(lookUp('plan-P1'), { kind: 'looked-up', message: message('9.1'), recorded: false }))
      .thenSends(record('plan-P1', '9.1'), update('plan-P1', '9.1'));
  });

  it('a decision on a preview never shown has nothing to redraw', () => {
    given(plan(approved)).when(plan(approved)).thenNothing();
    const s = manager.evolve(manager.initialState(), plan(proposed));
    expect(manager.decide(plan(approved), { ...s, messages: { located: { status: 'found', thread }, kept: {} } })).toMatchObject([
      { effect: { type: 'look-up', deliveryId: 'plan-P1' } },
    ]);
    given(plan(proposed), located, neverPosted('plan-P1')).when(plan(approved)).thenNothing();
  });

  it('says nothing in a conversation without a thread it can write', () => {
    given(plan(proposed), answer(locate, { kind: 'located' }))
      .when(plan(approved))
      .thenNothing();
  });

  it('keeps the latest drawing while the post is on its way, and redraws with it once posted', () => {
    const inputs = [plan(proposed), located, neverPosted('plan-P1'), begun('plan-P1')];
    const post = manager.decide(begun('plan-P1'), inputs.slice(0, 3).reduce(manager.evolve, manager.initialState()))[0]!;
    given(...inputs, plan(approved))
      .when(answer(post, { kind: 'posted', message: message('9.1') }))
      .thenSends(record('plan-P1', '9.1'), update('plan-P1', '9.1'));
    // Nothing new drawn while posting: no second drawing.
    given(...inputs)
      .when(answer(post, { kind: 'posted', message: message('9.1') }))
      .then(record('plan-P1', '9.1'));
  });
});

// ── workflows ──────────────────────────────────────────────────────────────────
const gate = { type: 'approval', id: 'go', title: 'Deploy?' };
const d = fixturesFor(tree(task('test'), gate, task('deploy', 'sf-deploy', { sideEffects: true })));
const started = d.started({ conversationId });
const requested = workflowEvent('ApprovalRequested', {
  stepId: 'go',
  visit: 1,
  title: 'Deploy?',
  approvers: [],
  quorum: 1,
  requesterMayApprove: true,
  requestedBy: requester,
  dueAt: minute(10),
  remindAt: minute(8),
});
const granted = workflowEvent('ApprovalGranted', { stepId: 'go', visit: 1, approver: 'U1', grantedBy: ['U1'], quorum: 1, approved: true });
const reminder = workflowEvent('ApprovalReminderDue', { stepId: 'go', visit: 1, approvers: ['U1'], dueAt: minute(10) });
const cancelled = workflowEvent('WorkflowCancelled', { reason: 'enough', requestedBy: requester, tasksToCancel: [] });
const shownWorkflow = [flow(started), located, shownAs(`workflow-${workflowId}`, '1.1')];

describe('a workflow in its thread', () => {
  it('says nothing for a workflow started outside any conversation', () => {
    given().when(flow(d.started())).thenNothing();
    given(flow(d.started())).when(flow(requested)).thenNothing();
  });

  it('posts its status message when it starts', () => {
    given(flow(started), located)
      .when(flow(d.scheduled('test')))
      .thenNothing(); // still looking the status message up: the latest drawing waits
    given(flow(started))
      .when(located)
      .then(lookUp(`workflow-${workflowId}`));
  });

  it('redraws the status and posts a gate message with its buttons when approval is asked', () => {
    given(...shownWorkflow)
      .when(flow(requested))
      .thenSends(update(`workflow-${workflowId}`, '1.1'), like({ effect: { type: 'look-up', deliveryId: `gate-${workflowId}-go-1` } }));
  });

  it('redraws the gate with the decision, and never posts one it did not show', () => {
    given(...shownWorkflow, flow(requested), shownAs(`gate-${workflowId}-go-1`, '2.2'))
      .when(flow(granted))
      .thenSends(update(`workflow-${workflowId}`, '1.1'), update(`gate-${workflowId}-go-1`, '2.2'));
    given(...shownWorkflow, flow(requested), neverPosted(`gate-${workflowId}-go-1`), begun(`gate-${workflowId}-go-1`))
      .when(flow(granted))
      .thenSends(update(`workflow-${workflowId}`, '1.1'));
  });

  it('posts a reminder before the gate times out', () => {
    given(...shownWorkflow, flow(requested))
      .when(flow(reminder))
      .thenSends(update(`workflow-${workflowId}`, '1.1'), like({ effect: { type: 'look-up', deliveryId: `reminder-${workflowId}-go-1` } }));
  });

  it('closes a gate still open when the workflow ends, then posts the closing reply', () => {
    given(...shownWorkflow, flow(requested), shownAs(`gate-${workflowId}-go-1`, '2.2'))
      .when(flow(cancelled))
      .thenSends(
        update(`workflow-${workflowId}`, '1.1'),
        update(`gate-${workflowId}-go-1`, '2.2'),
        like({ effect: { type: 'look-up', deliveryId: `workflow-end-${workflowId}` } }),
      );
  });

  it('does not fold twice what a loaded state already holds (a replay after a restart)', () => {
    const loaded = loadedNotifierState(
      { kind: 'workflow', workflow: workflowDecider.evolve(workflowDecider.evolve(workflowDecider.initialState(), started), requested) },
      5,
    );
    const after = manager.evolve(loaded, flow(requested, 1));
    expect(after.subject).toBe(loaded.subject);
    expect(manager.evolve(loaded, flow(granted, 6)).subject).not.toBe(loaded.subject);
  });

  it('is not finished while its thread is being located, even for a workflow that ended (a restart that loaded its final state)', () => {
    // Found by the chaos run: the key was forgotten before the locate answer came back, and the closing reply never went out.
    const ended = [flow(started), flow(cancelled)].reduce(manager.evolve, manager.initialState());
    const loaded = loadedNotifierState(ended.subject as Parameters<typeof loadedNotifierState>[0], 1);
    const replayed = manager.evolve(loaded, flow(started, 0));
    expect(manager.decide(flow(started, 0), loaded)).toEqual([locate]);
    expect(notifierFinished(replayed)).toBe(false);
    expect(manager.decide(located, replayed)).toEqual([lookUp(`workflow-${workflowId}`)]);
  });

  it('is finished once the workflow ended and its messages settled', () => {
    const s = [...shownWorkflow, flow(cancelled)].reduce(manager.evolve, manager.initialState());
    expect(notifierFinished(s)).toBe(false); // the closing reply is still being looked up
    expect(notifierFinished(manager.evolve(s, shownAs(`workflow-end-${workflowId}`, '3.3')))).toBe(true);
  });
});

// ── messages that cannot be written ───────────────────────────────────────────
describe('a thread that fails', () => {
  const status = `workflow-${workflowId}`;
  const updateStatus = effect({ type: 'update', deliveryId: status, thread, message: message('1.1'), document: {} as never });

  it('gives up on a message whose thread is gone', () => {
    given(...shownWorkflow, answer(updateStatus, { kind: 'gone', code: 'channel_not_found' }))
      .when(flow(requested))
      .thenSends(like({ effect: { type: 'look-up', deliveryId: `gate-${workflowId}-go-1` } }));
  });

  it('forgets a message whose calls kept failing, so the next event looks it up again', () => {
    given(...shownWorkflow)
      .when(answer(updateStatus, { kind: 'failed', error: 'ECONNRESET' }))
      .thenSends(like({ kind: 'effect', effect: { type: 'report', level: 'error', deliveryId: status } }));
    given(...shownWorkflow, answer(updateStatus, { kind: 'failed', error: 'ECONNRESET' }))
      .when(flow(requested))
      .thenSends(like({ effect: { type: 'look-up', deliveryId: status } }), like({ effect: { type: 'look-up', deliveryId: `gate-${workflowId}-go-1` } }));
  });
});

// ── unknown outcomes ───────────────────────────────────────────────────────────
const tEvent = (type: TaskEvent['type'], data: object) => ({ type, data: { taskId: 'T1', at, ...data } }) as TaskEvent;
const queued = (extra: object = { conversationId }) =>
  tEvent('TaskQueued', {
    taskType: 'sf-deploy',
    pool: 'salesforce',
    priority: 'normal',
    payload: { repository: 'acme', mode: 'deploy' },
    maxAttempts: 3,
    timeoutMs: 60_000,
    requestedBy: requester,
    ...extra,
  });
const unknown = tEvent('TaskOutcomeUnknown', { attempt: 1, workerId: 'w1', reason: 'worker went silent', evidence: { deployJobId: '0Af1' } });
const resolved = tEvent('TaskOutcomeResolved', { attempt: 1, resolution: 'completed', resolvedBy: 'U1', via: 'person' });
const taskCancelled = tEvent('TaskCancelled', { reason: 'no longer needed', requestedBy: 'U2', wasRunning: false });

describe('an unknown outcome in its thread', () => {
  it('posts a message for the attempt, drawn with its evidence and parameters', () => {
    given(taskEvent(queued())).when(taskEvent(unknown)).then(locate);
    given(taskEvent(queued()), taskEvent(unknown)).when(located).thenSends(lookUp('outcome-T1-1'));
  });

  it('speaks where the result goes in Slack when the task has no conversation', () => {
    const slack = { kind: 'slack', channel: 'C1', threadTs: thread.threadTs };
    given(taskEvent(queued({ replyTo: slack })))
      .when(taskEvent(unknown))
      .then(lookUp('outcome-T1-1'));
  });

  it('redraws it with the decision, and with the cancellation that ended the wait', () => {
    const shown = [taskEvent(queued()), taskEvent(unknown), located, shownAs('outcome-T1-1', '5.5')];
    given(...shown)
      .when(taskEvent(resolved))
      .thenSends(update('outcome-T1-1', '5.5'));
    given(...shown)
      .when(taskEvent(taskCancelled))
      .thenSends(like({ effect: { type: 'update', deliveryId: 'outcome-T1-1', document: expect.objectContaining({}) as never } }));
    const s = [...shown, taskEvent(taskCancelled)].reduce(manager.evolve, manager.initialState());
    expect(s.subject).toMatchObject({ task: { outcomes: [{ endedUndecided: 'the task was cancelled by U2' }] } });
  });

  it('says nothing for a task with neither a conversation nor a Slack reply target', () => {
    given(taskEvent(queued({ workflowId: 'W9', replyTo: { kind: 'nats', subject: 'results' } })))
      .when(taskEvent(unknown))
      .thenNothing();
  });

  it('says nothing for a task it never saw queued, nor for other task events', () => {
    given().when(taskEvent(unknown)).thenNothing();
    given(taskEvent(queued()))
      .when(taskEvent(tEvent('TaskCompleted', { attempt: 1, workerId: 'w1', durationMs: 5 })))
      .thenNothing();
  });

  it('keeps a task’s events until it ends', () => {
    const running = manager.evolve(manager.initialState(), taskEvent(queued()));
    expect(notifierKeepsEvents(running)).toBe(true);
    expect(notifierKeepsEvents(manager.evolve(running, taskEvent(taskCancelled)))).toBe(false);
  });
});

import { match } from 'ts-pattern';
import { planDecider, type PlanEvent, type PlanState } from '../plan/index.ts';
import { planPreviewReply } from '../replies/plan-preview-reply.ts';
import { outcomeDeliveryId, unknownOutcomeReply, type OutcomeCheckWordings } from '../replies/unknown-outcome-reply.ts';
import { approvalGateReply, approvalReminderReply, workflowEndReply, workflowStatusReply } from '../replies/workflow-replies.ts';
import type { TaskEvent } from '../task/events.ts';
import { isFinished, workflowDecider, type Workflow, type WorkflowEvent, type WorkflowState } from '../workflow/index.ts';
import type { Intent, ManagerInput, ProcessManager } from './process-manager.ts';
import { noTaskOutcomes, taskOutcomesAfter, type TaskOutcomesSeen } from './thread-task-outcomes.ts';
import {
  noThreadMessages,
  onThreadReply,
  showAll,
  type Show,
  type ThreadEffect,
  type ThreadMessages,
  type ThreadOrigin,
  type ThreadReply,
} from './thread-messages.ts';

// Plans and workflows speak in the thread they came from: the plan preview with "Run this
// plan", one workflow status message redrawn as steps move, a message per approval gate with
// Approve / Reject, redrawn with the decision once made (IF3), a reminder before a gate times
// out, and a closing reply; a workflow that ends while a gate waits redraws that gate without
// buttons. A task whose outcome became unknown (it changes something outside and its attempt
// stopped without an outcome) gets a message with Re-run / Mark as done / Fail in its thread,
// redrawn without buttons once decided or cancelled. A workflow started outside any
// conversation (a /workflow command, a benchmark) says nothing.
// Every message is drawn from the state after the event, one state per plan, workflow or task:
// the fold of that stream's events as they arrive (a plan or workflow first seen mid-stream,
// after a restart, is loaded from its aggregate host with the revision it folds, and replayed
// events it already holds are not folded twice; a task's events are followed from TaskQueued).

export type NotifierEvent =
  | { readonly category: 'plan'; readonly id: string; readonly revision: number; readonly event: PlanEvent }
  | { readonly category: 'workflow'; readonly id: string; readonly revision: number; readonly event: WorkflowEvent }
  | { readonly category: 'task'; readonly id: string; readonly revision: number; readonly event: TaskEvent };

export type NotifierSubject =
  | { readonly kind: 'none' }
  | { readonly kind: 'plan'; readonly plan: PlanState }
  | { readonly kind: 'workflow'; readonly workflow: WorkflowState }
  | { readonly kind: 'task'; readonly task: TaskOutcomesSeen };

export interface NotifierState {
  readonly subject: NotifierSubject;
  /** The last revision of the stream the subject folds; -1 before any. */
  readonly revision: number;
  readonly messages: ThreadMessages;
}

export type NotifierInput = ManagerInput<NotifierEvent, ThreadReply, never, ThreadEffect>;

export interface ThreadNotifierConfig {
  /** The registered task types: their descriptors say what a check of an attempt's evidence is called. */
  readonly taskTypes: OutcomeCheckWordings;
}

const GATE_EVENTS: readonly WorkflowEvent['type'][] = ['ApprovalRequested', 'ApprovalGranted', 'ApprovalRejected', 'ApprovalTimedOut'];
const END_EVENTS: readonly WorkflowEvent['type'][] = ['WorkflowCompleted', 'WorkflowFailed', 'WorkflowCancelled', 'WorkflowTimedOut'];
/** Task events that post or redraw an unknown outcome's message; a cancellation closes an open one. */
const OUTCOME_EVENTS: readonly TaskEvent['type'][] = ['TaskOutcomeUnknown', 'TaskOutcomeResolved', 'TaskCancelled'];

export const notifierKey = (input: Pick<NotifierEvent, 'category' | 'id'>): string => `${input.category}-${input.id}`;

export const initialNotifierState = (): NotifierState => ({ subject: { kind: 'none' }, revision: -1, messages: noThreadMessages() });

/** The state of a plan or workflow as its aggregate host answered it, at `revision`. */
export const loadedNotifierState = (subject: Extract<NotifierSubject, { kind: 'plan' | 'workflow' }>, revision: number): NotifierState => ({
  ...initialNotifierState(),
  subject,
  revision,
});

/** The subject after one more event of its stream; a replayed one it already folds changes nothing. */
export function subjectAfter(state: NotifierState, input: NotifierEvent): NotifierSubject {
  if (input.revision <= state.revision) return state.subject;
  const { subject } = state;
  return match(input)
    .returnType<NotifierSubject>()
    .with({ category: 'plan' }, ({ event }) => ({
      kind: 'plan',
      plan: planDecider.evolve(subject.kind === 'plan' ? subject.plan : planDecider.initialState(), event),
    }))
    .with({ category: 'workflow' }, ({ event }) => ({
      kind: 'workflow',
      workflow: workflowDecider.evolve(subject.kind === 'workflow' ? subject.workflow : workflowDecider.initialState(), event),
    }))
    .with({ category: 'task' }, ({ event }) => ({ kind: 'task', task: taskOutcomesAfter(subject.kind === 'task' ? subject.task : noTaskOutcomes(), event) }))
    .exhaustive();
}

/** Which messages an event shows, drawn from the subject after it, and where they go. */
export function showsFor(input: NotifierEvent, subject: NotifierSubject, config: ThreadNotifierConfig): { origin: ThreadOrigin; shows: Show[] } | undefined {
  if (input.category === 'plan' && subject.kind === 'plan') {
    const { plan } = subject;
    if (plan.status === 'none') return undefined;
    return {
      origin: { conversationId: plan.conversationId },
      shows: [notice(`plan-${input.id}`, planPreviewReply(plan), input.event.type === 'PlanProposed' ? 'post' : 'update-only')],
    };
  }
  if (input.category === 'workflow' && subject.kind === 'workflow') return workflowShows(input.event, subject.workflow);
  if (input.category === 'task' && subject.kind === 'task') return outcomeShows(input.id, input.event, subject.task, config);
  return undefined;
}

function workflowShows(event: WorkflowEvent, state: WorkflowState): { origin: ThreadOrigin; shows: Show[] } | undefined {
  if (state.status === 'none' || state.conversationId === undefined) return undefined;
  const workflowId = state.workflowId;
  const shows: Show[] = [notice(`workflow-${workflowId}`, workflowStatusReply(state), 'post')];
  if (GATE_EVENTS.includes(event.type) && 'stepId' in event.data && 'visit' in event.data) {
    const { stepId, visit } = event.data;
    shows.push(notice(gateDelivery(workflowId, stepId, visit), approvalGateReply(state, stepId), event.type === 'ApprovalRequested' ? 'post' : 'update-only'));
  }
  if (event.type === 'ApprovalReminderDue') {
    const reminder = event.data;
    shows.push(notice(`reminder-${workflowId}-${reminder.stepId}-${reminder.visit}`, approvalReminderReply(state, reminder), 'post'));
  }
  if (END_EVENTS.includes(event.type)) shows.push(...openGates(state), notice(`workflow-end-${workflowId}`, workflowEndReply(state), 'post'));
  return { origin: { conversationId: state.conversationId }, shows };
}

/** A workflow that ends while a gate waits leaves that gate undecided: redraw it without buttons. */
const openGates = (workflow: Workflow): Show[] =>
  Object.values(workflow.steps)
    .filter((run) => run.approval && run.status === 'awaitingApproval')
    .map((run) => notice(gateDelivery(workflow.workflowId, run.stepId, run.visit), approvalGateReply(workflow, run.stepId), 'update-only'));

function outcomeShows(
  taskId: string,
  event: TaskEvent,
  task: TaskOutcomesSeen,
  config: ThreadNotifierConfig,
): { origin: ThreadOrigin; shows: Show[] } | undefined {
  if (!OUTCOME_EVENTS.includes(event.type) || !task.queued) return undefined;
  const attempt = 'attempt' in event.data ? event.data.attempt : undefined;
  // A cancellation names no attempt: it closes the latest message, if one is waiting.
  const shown = typeof attempt === 'number' ? task.outcomes.findLast((o) => o.attempt === attempt) : task.outcomes.at(-1);
  if (!shown) return undefined;
  // A task speaks in its conversation's thread (a workflow step's task carries its workflow's), else where its result goes in Slack.
  const { conversationId, replyTo } = task.queued;
  const origin: ThreadOrigin | undefined = conversationId
    ? { conversationId }
    : replyTo?.kind === 'slack'
      ? { thread: { source: 'slack', channel: replyTo.channel, threadTs: replyTo.threadTs } }
      : undefined;
  if (!origin) return undefined;
  return {
    origin,
    shows: [
      {
        deliveryId: outcomeDeliveryId(taskId, shown.attempt),
        document: unknownOutcomeReply(shown, config.taskTypes),
        mode: event.type === 'TaskOutcomeUnknown' ? 'post' : 'update-only',
        marker: 'notice',
      },
    ],
  };
}

const notice = (deliveryId: string, document: Show['document'], mode: Show['mode']): Show => ({ deliveryId, document, mode, marker: 'notice' });

export const gateDelivery = (workflowId: string, stepId: string, visit: number): string => `gate-${workflowId}-${stepId}-${visit}`;

/** Where the subject's thread is, for answers that come back to the key. */
function originOf(subject: NotifierSubject): ThreadOrigin | undefined {
  if (subject.kind === 'plan' && subject.plan.status !== 'none') return { conversationId: subject.plan.conversationId };
  if (subject.kind === 'workflow' && subject.workflow.status !== 'none' && subject.workflow.conversationId !== undefined)
    return { conversationId: subject.workflow.conversationId };
  if (subject.kind === 'task' && subject.task.queued) {
    const { conversationId, replyTo } = subject.task.queued;
    if (conversationId) return { conversationId };
    if (replyTo?.kind === 'slack') return { thread: { source: 'slack', channel: replyTo.channel, threadTs: replyTo.threadTs } };
  }
  return undefined;
}

function step(config: ThreadNotifierConfig, state: NotifierState, input: NotifierInput): { state: NotifierState; intents: readonly Intent<ThreadEffect>[] } {
  if (input.kind === 'event') {
    const subject = subjectAfter(state, input.event);
    const next: NotifierState = { ...state, subject, revision: Math.max(state.revision, input.event.revision) };
    const decided = showsFor(input.event, subject, config);
    if (!decided) return { state: next, intents: [] };
    const shown = showAll(next.messages, decided.origin, decided.shows);
    return { state: { ...next, messages: shown.state }, intents: shown.intents };
  }
  if (input.kind === 'reply') {
    const origin = originOf(state.subject);
    const answered = origin && onThreadReply(state.messages, origin, input.intent, input.reply);
    return answered ? { state: { ...state, messages: answered.state }, intents: answered.intents } : { state, intents: [] };
  }
  return { state, intents: [] };
}

/** Nothing more will be shown for it: a workflow or task that ended, a plan compiled or rejected (their last messages were decided with the event that ended them). */
export function notifierFinished(state: NotifierState): boolean {
  const { subject } = state;
  // A message waiting for its thread to be located is not settled either: forgetting the key then would drop the answer.
  const settled =
    state.messages.located.status !== 'locating' &&
    Object.values(state.messages.kept).every((k) => k.phase === 'shown' || k.phase === 'absent' || k.phase === 'given-up');
  if (!settled) return false;
  // A workflow outside any conversation is kept as it is (small), so its every event is not a load again.
  if (subject.kind === 'workflow') return subject.workflow.status !== 'none' && subject.workflow.conversationId !== undefined && isFinished(subject.workflow);
  if (subject.kind === 'task') return subject.task.finished;
  if (subject.kind === 'plan') return subject.plan.status === 'rejected' || subject.plan.status === 'compiled';
  return false;
}

/** Whether the key's earlier events are needed to decide later ones: a task's, which no host can give back whole. */
export const notifierKeepsEvents = (state: NotifierState): boolean => state.subject.kind === 'task' && !state.subject.task.finished;

export const threadNotifier = (config: ThreadNotifierConfig): ProcessManager<NotifierInput, NotifierState, ThreadEffect> => ({
  name: 'thread-notifier',
  initialState: initialNotifierState,
  evolve: (state, input) => step(config, state, input).state,
  decide: (input, state) => step(config, state, input).intents,
  step: (input, state) => step(config, state, input),
});

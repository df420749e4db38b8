import { match } from 'ts-pattern';
import type { WorkflowEvent, WorkflowEventData } from './events.ts';

// The timers a running workflow waits on, and how each of its events changes them: the agenda
// the workflow engine arms (DESIGN, "Timers … fired by a scheduler that rebuilds its agenda
// from a read model at start"). One pure fold serves the `workflow-timers` read model and the
// engine, so what the model stores and what the engine arms cannot drift apart.
//
// A timer is added by the event that carries its due time and dropped once what it times was
// decided: a retry once its attempt started or ended, a step's timeout once the attempt ended
// or its outcome became unknown,
// an approval's reminder once the approvers were reminded, its timeout and reminder once the
// gate was decided, everything once the workflow ended. A timer kept a little too long is harmless: firing it sends a command with the same
// id as before to a decider that ignores what was already decided.

export type WorkflowTimerKind = 'retry' | 'approval-timeout' | 'approval-reminder' | 'step-timeout' | 'workflow-timeout';

/** What a retry queues at its due time: the next task attempt, as StepRetryScheduled described it. */
export type RetryTask = {
  readonly taskId: string;
  readonly taskType: string;
  readonly title?: string;
  readonly pool?: string;
  readonly params: WorkflowEventData<'StepRetryScheduled'>['params'];
  readonly timeoutMs?: number;
  readonly dryRun: boolean;
  readonly sideEffects?: boolean;
};

export type WorkflowTimer =
  | { readonly kind: 'workflow-timeout'; readonly workflowId: string; readonly dueAt: string }
  | { readonly kind: 'retry'; readonly workflowId: string; readonly stepId: string; readonly attempt: number; readonly dueAt: string; readonly task: RetryTask }
  | {
      readonly kind: 'step-timeout';
      readonly workflowId: string;
      readonly stepId: string;
      readonly attempt: number;
      readonly taskId: string;
      readonly dueAt: string;
    }
  | { readonly kind: 'approval-timeout'; readonly workflowId: string; readonly stepId: string; readonly visit: number; readonly dueAt: string }
  | { readonly kind: 'approval-reminder'; readonly workflowId: string; readonly stepId: string; readonly visit: number; readonly dueAt: string };

/** A running workflow's pending timers (plain JSON: it is also the read model's document). */
export type WorkflowTimers = {
  readonly workflowId: string;
  /** Who started it and from which conversation: what a retry's task is queued with. */
  readonly requestedBy: string;
  readonly conversationId?: string;
  /** The stream revision of the last event folded in; an event at or before it changes nothing. */
  readonly revision: number;
  readonly timers: readonly WorkflowTimer[];
};

/** Names a timer within its workflow: arming the same name again replaces it. */
export const timerKey = (timer: WorkflowTimer): string =>
  match(timer)
    .with({ kind: 'workflow-timeout' }, () => 'workflow-timeout')
    .with({ kind: 'retry' }, { kind: 'step-timeout' }, (t) => `${t.kind}:${t.stepId}:${t.attempt}`)
    .with({ kind: 'approval-timeout' }, { kind: 'approval-reminder' }, (t) => `${t.kind}:${t.stepId}:${t.visit}`)
    .exhaustive();

/**
 * The timers after `event` (the event at stream revision `revision`): undefined once the
 * workflow ended, or when its start was never seen. Returns `before` itself when the event was
 * folded in already, so replaying events changes nothing.
 */
export function nextTimers(before: WorkflowTimers | undefined, event: WorkflowEvent, revision: number): WorkflowTimers | undefined {
  if (event.type === 'WorkflowStarted') return before ?? started(event.data, revision);
  if (before === undefined || revision <= before.revision) return before;
  const timers = match(event)
    .returnType<readonly WorkflowTimer[] | 'ended'>()
    // A new visit of the step: whatever timed an earlier attempt is over.
    .with({ type: 'StepScheduled' }, { type: 'StepSkipped' }, ({ data }) => without(before.timers, (t) => stepTimer(t) && t.stepId === data.stepId))
    .with({ type: 'StepStarted' }, ({ data }) => {
      const rest = without(before.timers, (t) => attemptTimer(t) && t.stepId === data.stepId && t.attempt <= data.attempt);
      if (data.timesOutAt === undefined) return rest;
      return [
        ...rest,
        { kind: 'step-timeout', workflowId: data.workflowId, stepId: data.stepId, attempt: data.attempt, taskId: data.taskId, dueAt: data.timesOutAt },
      ];
    })
    // Nothing may run the attempt again on its own: its timeout is gone until someone resolves the task.
    .with({ type: 'StepOutcomeUnknown' }, ({ data }) =>
      without(before.timers, (t) => t.kind === 'step-timeout' && t.stepId === data.stepId && t.attempt <= data.attempt),
    )
    .with({ type: 'StepCompleted' }, { type: 'StepFailed' }, ({ data }) =>
      without(before.timers, (t) => attemptTimer(t) && t.stepId === data.stepId && t.attempt <= data.attempt),
    )
    .with({ type: 'StepRetryScheduled' }, ({ data }) => [
      ...without(before.timers, (t) => attemptTimer(t) && t.stepId === data.stepId && t.attempt <= data.attempt),
      { kind: 'retry', workflowId: data.workflowId, stepId: data.stepId, attempt: data.attempt, dueAt: data.dueAt, task: retryTask(data) },
    ])
    .with({ type: 'BranchTaken' }, () => before.timers)
    // The cost gate's timers went with its ApprovalGranted; the attempt is queued next.
    .with({ type: 'StepCostApproved' }, () => before.timers)
    .with({ type: 'ApprovalRequested' }, ({ data }) => [
      ...without(before.timers, (t) => gateTimer(t) && t.stepId === data.stepId),
      { kind: 'approval-timeout', workflowId: data.workflowId, stepId: data.stepId, visit: data.visit, dueAt: data.dueAt },
      ...(data.remindAt === undefined
        ? []
        : [{ kind: 'approval-reminder' as const, workflowId: data.workflowId, stepId: data.stepId, visit: data.visit, dueAt: data.remindAt }]),
    ])
    // A grant short of the quorum leaves the gate open.
    .with({ type: 'ApprovalGranted' }, ({ data }) => (data.approved ? withoutGate(before.timers, data) : before.timers))
    .with({ type: 'ApprovalRejected' }, { type: 'ApprovalTimedOut' }, ({ data }) => withoutGate(before.timers, data))
    // Reminded: the reminder is done; the gate's timeout still stands.
    .with({ type: 'ApprovalReminderDue' }, ({ data }) =>
      without(before.timers, (t) => t.kind === 'approval-reminder' && t.stepId === data.stepId && t.visit === data.visit),
    )
    .with({ type: 'WorkflowCompleted' }, { type: 'WorkflowFailed' }, { type: 'WorkflowCancelled' }, { type: 'WorkflowTimedOut' }, () => 'ended')
    .exhaustive();
  return timers === 'ended' ? undefined : { ...before, revision, timers };
}

/** Every pending timer of these workflows, soonest first. */
export const agendaOf = (workflows: Iterable<WorkflowTimers>): WorkflowTimer[] =>
  [...workflows].flatMap((w) => w.timers).sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt));

const started = (data: WorkflowEventData<'WorkflowStarted'>, revision: number): WorkflowTimers => ({
  workflowId: data.workflowId,
  requestedBy: data.requestedBy,
  ...(data.conversationId !== undefined && { conversationId: data.conversationId }),
  revision,
  timers: [{ kind: 'workflow-timeout', workflowId: data.workflowId, dueAt: data.timesOutAt }],
});

const retryTask = (data: WorkflowEventData<'StepRetryScheduled'>): RetryTask => ({
  taskId: data.taskId,
  taskType: data.taskType,
  ...(data.title !== undefined && { title: data.title }),
  ...(data.pool !== undefined && { pool: data.pool }),
  params: data.params,
  ...(data.timeoutMs !== undefined && { timeoutMs: data.timeoutMs }),
  dryRun: data.dryRun,
  ...(data.sideEffects !== undefined && { sideEffects: data.sideEffects }),
});

type StepTimer = Extract<WorkflowTimer, { stepId: string }>;
type AttemptTimer = Extract<WorkflowTimer, { attempt: number }>;
type GateTimer = Extract<WorkflowTimer, { visit: number }>;

const stepTimer = (t: WorkflowTimer): t is StepTimer => t.kind !== 'workflow-timeout';
const attemptTimer = (t: WorkflowTimer): t is AttemptTimer => t.kind === 'retry' || t.kind === 'step-timeout';
const gateTimer = (t: WorkflowTimer): t is GateTimer => t.kind === 'approval-timeout' || t.kind === 'approval-reminder';

const without = (timers: readonly WorkflowTimer[], drop: (t: WorkflowTimer) => boolean): readonly WorkflowTimer[] => timers.filter((t) => !drop(t));

/** A decided gate: its timeout and reminder, for this visit and any earlier one. */
const withoutGate = (timers: readonly WorkflowTimer[], gate: { stepId: string; visit: number }): readonly WorkflowTimer[] =>
  without(timers, (t) => gateTimer(t) && t.stepId === gate.stepId && t.visit <= gate.visit);

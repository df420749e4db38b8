import { z } from 'zod';
import type { DomainEvent } from '../decider.ts';
import { taskErrorSchema } from '../task/fields.ts';
import type { EventDataOf, EventsOf } from '../validation.ts';
import { workflowSourceSchema } from './commands.ts';
import { compiledWorkflowSchema } from './compiled.ts';
import { jsonParamsSchema } from './step-fields.ts';

// One schema per event type (AG3); every event carries the workflow id and the command's time.
// Every transition is an event (WF4), so a restarted engine rebuilds in-flight workflows, their
// timers (`dueAt`, `timesOutAt`, `remindAt`) and approvals from the log alone.
//
// A workflow ends with exactly one of WorkflowCompleted, WorkflowFailed, WorkflowCancelled or
// WorkflowTimedOut; the last three name the tasks that may still be queued or running, to cancel.

const workflowEvent = z.object({ workflowId: z.string(), at: z.string() });

/** What the engine queues for a task step: the task id is `${workflowId}_${stepId}_${attempt}`. */
const taskToRun = {
  stepId: z.string(),
  attempt: z.int(),
  taskId: z.string(),
  taskType: z.string(),
  title: z.string().optional(),
  pool: z.string().optional(),
  params: jsonParamsSchema,
  timeoutMs: z.int().optional(),
  /** A side-effecting step of a dry run: the engine runs a recorder instead of the executor (WF7). */
  dryRun: z.boolean(),
  /**
   * What the definition says of the step (gated when true). The engine refuses to run a step
   * whose executor changes things when this is false: a definition cannot understate its side
   * effects to slip past the gates. Absent in events recorded before it existed.
   */
  sideEffects: z.boolean().optional(),
};

const tasksToCancel = z.array(z.string());

export const workflowFailureCauseSchema = z.enum(['StepFailed', 'ApprovalRejected', 'ApprovalTimedOut', 'NoTransitionMatched', 'EndedInFailure']);
export type WorkflowFailureCause = z.infer<typeof workflowFailureCauseSchema>;

export const workflowEventSchemas = {
  WorkflowStarted: workflowEvent.extend({
    definition: compiledWorkflowSchema,
    inputs: z.record(z.string(), z.json()),
    requestedBy: z.string(),
    maxExecutionMs: z.int(),
    timesOutAt: z.string(),
    dryRun: z.boolean(),
    source: workflowSourceSchema.optional(),
    conversationId: z.string().optional(),
  }),
  /** `visit` counts how often the workflow came to this step (more than once only in a loop). */
  StepScheduled: workflowEvent.extend({ ...taskToRun, visit: z.int() }),
  StepStarted: workflowEvent.extend({
    stepId: z.string(),
    attempt: z.int(),
    taskId: z.string(),
    workerId: z.string().optional(),
    timesOutAt: z.string().optional(),
  }),
  StepCompleted: workflowEvent.extend({ stepId: z.string(), attempt: z.int(), taskId: z.string(), output: z.unknown() }),
  /** `final`: no retry follows, and WorkflowFailed comes next in the same append. */
  StepFailed: workflowEvent.extend({
    stepId: z.string(),
    attempt: z.int(),
    taskId: z.string(),
    error: taskErrorSchema,
    retryable: z.boolean(),
    final: z.boolean(),
  }),
  /** The attempt's task ended without a known outcome; the step waits (no timeout, no retry) until the task's outcome is resolved. */
  StepOutcomeUnknown: workflowEvent.extend({ stepId: z.string(), attempt: z.int(), taskId: z.string() }),
  /** The next attempt, to queue at `dueAt`. */
  StepRetryScheduled: workflowEvent.extend({ ...taskToRun, dueAt: z.string(), delayMs: z.int() }),
  /** The cost gate of a step was approved: the engine reserves over the cap in the approvers' names and queues the task. */
  StepCostApproved: workflowEvent.extend({ ...taskToRun, approvedBy: z.array(z.string()) }),
  /** A step on the branch a condition did not take, or an approval gate in a dry run. */
  StepSkipped: workflowEvent.extend({ stepId: z.string(), reason: z.enum(['branchNotTaken', 'dryRun']) }),
  /** A node with conditional transitions chose `to` (transition number `transition`, from 0). */
  BranchTaken: workflowEvent.extend({ nodeId: z.string(), to: z.string(), transition: z.int(), condition: z.string().optional() }),
  /** Approvers are reminded at `remindAt`; the gate times out at `dueAt`. No approvers named: anyone may decide. */
  ApprovalRequested: workflowEvent.extend({
    stepId: z.string(),
    visit: z.int(),
    title: z.string().optional(),
    approvers: z.array(z.string()),
    quorum: z.int(),
    requesterMayApprove: z.boolean(),
    requestedBy: z.string(),
    dueAt: z.string(),
    remindAt: z.string().optional(),
    /** A cost gate (AG5) on a task step whose paid run would cross a budget cap; absent on approval steps. */
    cost: z.object({ attempt: z.int(), amountUsd: z.number(), reason: z.string() }).optional(),
  }),
  /** One approver's grant; `approved` once the distinct approvers in `grantedBy` reach the quorum. */
  ApprovalGranted: workflowEvent.extend({
    stepId: z.string(),
    visit: z.int(),
    approver: z.string(),
    grantedBy: z.array(z.string()),
    quorum: z.int(),
    approved: z.boolean(),
  }),
  ApprovalRejected: workflowEvent.extend({ stepId: z.string(), visit: z.int(), approver: z.string(), reason: z.string().optional() }),
  ApprovalTimedOut: workflowEvent.extend({ stepId: z.string(), visit: z.int(), dueAt: z.string() }),
  /** The gate is still undecided close to its timeout: its approvers are reminded (once per request). */
  ApprovalReminderDue: workflowEvent.extend({ stepId: z.string(), visit: z.int(), approvers: z.array(z.string()), dueAt: z.string() }),
  WorkflowCompleted: workflowEvent.extend({ endState: z.string() }),
  WorkflowFailed: workflowEvent.extend({
    cause: workflowFailureCauseSchema,
    reason: z.string(),
    stepId: z.string().optional(),
    error: taskErrorSchema.optional(),
    tasksToCancel,
  }),
  WorkflowCancelled: workflowEvent.extend({ reason: z.string(), requestedBy: z.string(), tasksToCancel }),
  WorkflowTimedOut: workflowEvent.extend({ maxExecutionMs: z.int(), tasksToCancel }),
};

type Schemas = typeof workflowEventSchemas;
export type WorkflowEventType = keyof Schemas;
export type WorkflowEventData<K extends WorkflowEventType> = EventDataOf<Schemas, K>;
export type WorkflowEventOf<K extends WorkflowEventType> = DomainEvent<K, WorkflowEventData<K>>;
export type WorkflowEvent = EventsOf<Schemas>;

export const workflowEventOf = <K extends WorkflowEventType>(type: K, data: WorkflowEventData<K>): WorkflowEventOf<K> => ({ type, data });

import type { JsonValue } from '../conversation/events.ts';
import type { TaskError } from '../task/fields.ts';
import type { CompiledWorkflow } from './compiled.ts';
import type { StepParams } from './step-fields.ts';
import type { WorkflowFailureCause } from './events.ts';

export type WorkflowStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'timedOut';

/**
 * Task steps: `scheduled` (task queued), `running`, `retryScheduled` (waiting for the next
 * attempt's due time), `outcomeUnknown` (its task may have had side effects and waits for
 * someone to resolve it), then `completed` or `failed`. Approval gates: `awaitingApproval`, then
 * `approved`, `rejected` or `timedOut`. Either can be `skipped`.
 */
export type StepStatus =
  | 'scheduled'
  | 'running'
  | 'retryScheduled'
  | 'outcomeUnknown'
  | 'completed'
  | 'failed'
  | 'awaitingApproval'
  | 'approved'
  | 'rejected'
  | 'timedOut'
  | 'skipped';

export interface Approval {
  readonly approvers: readonly string[];
  readonly quorum: number;
  readonly requesterMayApprove: boolean;
  readonly dueAt: string;
  readonly remindAt?: string;
  /** Set once the approvers were reminded (ApprovalReminderDue). */
  readonly reminded?: boolean;
  /** Distinct approvers who granted, in order. */
  readonly grantedBy: readonly string[];
  readonly rejectedBy?: string;
  /** Set on a task step's cost gate (AG5): the attempt whose paid run waits for it. */
  readonly cost?: { readonly attempt: number; readonly amountUsd: number; readonly reason: string };
}

export interface StepRun {
  readonly stepId: string;
  readonly status: StepStatus;
  /** How often the workflow came to this step; above 1 only in a loop. */
  readonly visit: number;
  /** The latest task attempt (0 for approvals); numbered over the whole workflow, loops included. */
  readonly attempt: number;
  /** The first attempt of the current visit: retries are counted from it. */
  readonly firstAttempt: number;
  readonly taskId?: string;
  /** The parameters the current visit was scheduled with (earlier outputs already read); retries reuse them. */
  readonly params?: StepParams;
  /** How each attempt that ended, ended. */
  readonly outcomes: readonly { readonly attempt: number; readonly outcome: 'completed' | 'failed' }[];
  /** The output of the current visit's completed attempt; a new visit starts without one. */
  readonly output?: unknown;
  readonly error?: TaskError;
  readonly timesOutAt?: string;
  readonly retryDueAt?: string;
  readonly approval?: Approval;
}

export interface Workflow {
  readonly status: WorkflowStatus;
  readonly workflowId: string;
  readonly definition: CompiledWorkflow;
  readonly inputs: Readonly<Record<string, JsonValue>>;
  readonly requestedBy: string;
  readonly dryRun: boolean;
  readonly maxExecutionMs: number;
  readonly startedAt: string;
  readonly timesOutAt: string;
  readonly conversationId?: string;
  readonly steps: Readonly<Record<string, StepRun>>;
  readonly finishedAt?: string;
  readonly failure?: { readonly cause: WorkflowFailureCause; readonly reason: string; readonly stepId?: string };
  readonly cancellation?: { readonly reason: string; readonly requestedBy: string };
}

export type WorkflowState = { readonly status: 'none' } | Workflow;

/** A status as words: "timed out" for timedOut, the status itself otherwise. */
export const describeWorkflowStatus = (status: WorkflowStatus): string => (status === 'timedOut' ? 'timed out' : status);

export const initialState = (): WorkflowState => ({ status: 'none' });

export const isFinished = (state: WorkflowState): boolean => state.status !== 'none' && state.status !== 'running';

const ACTIVE: readonly StepStatus[] = ['scheduled', 'running', 'retryScheduled', 'outcomeUnknown', 'awaitingApproval'];

/** Waiting for an outcome: a task queued, running, due to retry or with its outcome unknown, or a gate awaiting decision. */
export const isActive = (run: StepRun | undefined): boolean => run !== undefined && ACTIVE.includes(run.status);

/** Tasks that may still be queued or running, for the engine to cancel when the workflow ends early. */
export const activeTaskIds = (workflow: Workflow, except?: string): string[] =>
  Object.values(workflow.steps)
    .filter((run) => run.stepId !== except && run.taskId !== undefined && isActive(run))
    .map((run) => run.taskId!);

/** What conditions and `$from` parameters read: `steps.<id>.{status, output, attempt, visit, grantedBy}` and `inputs`. */
export const conditionContext = (workflow: Workflow): { steps: Record<string, unknown>; inputs: unknown } => ({
  steps: Object.fromEntries(
    Object.values(workflow.steps).map((run) => [
      run.stepId,
      { status: run.status, output: run.output, attempt: run.attempt, visit: run.visit, ...(run.approval && { grantedBy: run.approval.grantedBy }) },
    ]),
  ),
  inputs: workflow.inputs,
});

export const taskIdFor = (workflowId: string, stepId: string, attempt: number): string => `${workflowId}_${stepId}_${attempt}`;

import type { Rejection } from '../decider.ts';
import type { DefinitionError } from './definition-errors.ts';
import { describeWorkflowStatus, type StepRun, type Workflow } from './state.ts';

export type WorkflowRejectionCode =
  | 'WorkflowNotFound'
  | 'WorkflowAlreadyStarted'
  | 'WorkflowAlreadyFinished'
  | 'InvalidDefinition'
  | 'UngatedSideEffect'
  | 'UnknownStep'
  | 'NotATaskStep'
  | 'NotAnApprovalStep'
  | 'StepNotScheduled'
  | 'StaleAttempt'
  | 'StepAlreadyFinished'
  | 'ApprovalNotRequested'
  | 'ApprovalAlreadyDecided'
  | 'NotAnApprover'
  | 'RequesterCannotApprove'
  | 'TimerNotDue';

export type WorkflowRejection = Rejection<WorkflowRejectionCode>;

export interface InvalidDefinition extends Rejection<'InvalidDefinition'> {
  readonly errors: readonly DefinitionError[];
}

const rejection = (code: WorkflowRejectionCode, message: string): WorkflowRejection => ({ code, message });

export const workflowNotFound = (workflowId: string): WorkflowRejection => rejection('WorkflowNotFound', `workflow ${workflowId} has not been started`);

export const workflowAlreadyStarted = (w: Workflow): WorkflowRejection =>
  rejection('WorkflowAlreadyStarted', `workflow ${w.workflowId} was already started at ${w.startedAt}`);

export const workflowAlreadyFinished = (w: Workflow): WorkflowRejection =>
  rejection('WorkflowAlreadyFinished', `workflow ${w.workflowId} has already ${describeWorkflowStatus(w.status)}`);

export const invalidDefinition = (errors: readonly DefinitionError[]): InvalidDefinition => ({
  code: 'InvalidDefinition',
  message: `the workflow definition is invalid: ${errors.map((e) => e.message).join('; ')}`,
  errors,
});

export const unknownStep = (w: Workflow, stepId: string): WorkflowRejection => rejection('UnknownStep', `workflow ${w.workflowId} has no step "${stepId}"`);

export const notATaskStep = (stepId: string): WorkflowRejection => rejection('NotATaskStep', `"${stepId}" is not a task step, so it has no task outcomes`);

export const notAnApprovalStep = (stepId: string): WorkflowRejection => rejection('NotAnApprovalStep', `"${stepId}" is not an approval gate`);

export const stepNotScheduled = (stepId: string, attempt: number, run: StepRun | undefined): WorkflowRejection =>
  rejection(
    'StepNotScheduled',
    `attempt ${attempt} of step "${stepId}" has not been scheduled${run ? ` (latest: attempt ${run.attempt}, ${run.status})` : ''}`,
  );

export const staleAttempt = (run: StepRun, attempt: number): WorkflowRejection =>
  rejection('StaleAttempt', `attempt ${attempt} of step "${run.stepId}" is over; the latest is attempt ${run.attempt} (${run.status})`);

export const stepAlreadyFinished = (run: StepRun): WorkflowRejection =>
  rejection('StepAlreadyFinished', `attempt ${run.attempt} of step "${run.stepId}" has already ${run.status}`);

export const approvalNotRequested = (stepId: string): WorkflowRejection => rejection('ApprovalNotRequested', `no approval has been requested at "${stepId}"`);

export const approvalAlreadyDecided = (run: StepRun, visit?: number): WorkflowRejection =>
  rejection(
    'ApprovalAlreadyDecided',
    visit !== undefined && visit < run.visit
      ? `request ${visit} of approval "${run.stepId}" was decided before; request ${run.visit} is the current one`
      : `approval "${run.stepId}" has already been decided: ${run.status}`,
  );

export const notAnApprover = (stepId: string, approver: string, approvers: readonly string[]): WorkflowRejection =>
  rejection('NotAnApprover', `${approver} is not an approver of "${stepId}" (approvers: ${approvers.join(', ')})`);

export const requesterCannotApprove = (stepId: string, requester: string): WorkflowRejection =>
  rejection('RequesterCannotApprove', `${requester} requested this workflow and cannot approve "${stepId}" alone; someone else must approve`);

export const timerNotDue = (what: string, dueAt: string, at: string): WorkflowRejection => rejection('TimerNotDue', `${what} is due at ${dueAt}, not at ${at}`);

/** WF3: whoever sends it (a template, a plan, a raw command), a definition that could reach a side effect without a gate does not start. */
export const ungatedSideEffectRejected = (stepIds: readonly string[]): WorkflowRejection =>
  rejection(
    'UngatedSideEffect',
    `step${stepIds.length > 1 ? 's' : ''} ${stepIds.map((id) => `"${id}"`).join(', ')} ${stepIds.length > 1 ? 'have' : 'has'} side effects and can be reached without passing an approval gate; put an approval gate before ${stepIds.length > 1 ? 'them' : 'it'}`,
  );

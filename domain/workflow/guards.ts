import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { Rejection } from '../decider.ts';
import type { ApprovalNode, TaskNode } from './compiled.ts';
import { indexMachine } from './machine-index.ts';
import {
  approvalNotRequested,
  notAnApprovalStep,
  notATaskStep,
  staleAttempt,
  stepAlreadyFinished,
  stepNotScheduled,
  unknownStep,
  workflowAlreadyFinished,
  workflowNotFound,
} from './rejections.ts';
import { isFinished, type StepRun, type Workflow, type WorkflowState } from './state.ts';

// Checks several rules share, each passing what it found on or naming why the command is refused.

export const existingWorkflow = (state: WorkflowState, workflowId: string): Either<Rejection, Workflow> =>
  state.status === 'none' ? left(workflowNotFound(workflowId)) : right(state);

export const stillRunning = (workflow: Workflow): Either<Rejection, Workflow> =>
  isFinished(workflow) ? left(workflowAlreadyFinished(workflow)) : right(workflow);

export const taskStep = (workflow: Workflow, stepId: string): Either<Rejection, TaskNode> => {
  const node = indexMachine(workflow.definition.machine).node(stepId)?.node;
  if (!node) return left(unknownStep(workflow, stepId));
  return node.kind === 'task' ? right(node) : left(notATaskStep(stepId));
};

/** An approval step with a request, or a task step whose paid run asked for a cost gate (AG5). */
export const approvalStep = (workflow: Workflow, stepId: string): Either<Rejection, { node: ApprovalNode | TaskNode; run: StepRun }> => {
  const node = indexMachine(workflow.definition.machine).node(stepId)?.node;
  if (!node) return left(unknownStep(workflow, stepId));
  if (node.kind === 'task') {
    const run = workflow.steps[stepId];
    return run?.approval?.cost ? right({ node, run }) : left(notAnApprovalStep(stepId));
  }
  if (node.kind !== 'approval') return left(notAnApprovalStep(stepId));
  const run = workflow.steps[stepId];
  return run?.approval ? right({ node, run }) : left(approvalNotRequested(stepId));
};

/** Did attempt `attempt` of the step already end this way? Repeated outcomes change nothing. */
export const attemptEnded = (workflow: Workflow, stepId: string, attempt: number, outcome: 'completed' | 'failed'): boolean =>
  workflow.steps[stepId]?.outcomes.some((o) => o.attempt === attempt && o.outcome === outcome) ?? false;

/** Only the step's latest attempt, while it is scheduled, running or due to retry, may report. */
export const currentAttempt = (workflow: Workflow, stepId: string, attempt: number): Either<Rejection, StepRun> => {
  const run = workflow.steps[stepId];
  if (!run || run.status === 'skipped' || attempt > run.attempt) return left(stepNotScheduled(stepId, attempt, run));
  if (attempt < run.attempt) return left(staleAttempt(run, attempt));
  if (run.status === 'completed' || run.status === 'failed') return left(stepAlreadyFinished(run));
  return right(run);
};

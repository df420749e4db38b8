import { flatMap, left, right } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { WorkflowCommandOf } from './commands.ts';
import type { TaskNode } from './compiled.ts';
import type { Decision } from './decision.ts';
import { workflowEventOf } from './events.ts';
import { existingWorkflow, stillRunning, taskStep } from './guards.ts';
import { stepNotScheduled } from './rejections.ts';
import { addMilliseconds } from './retry.ts';
import { taskIdFor, type StepRun, type Workflow, type WorkflowState } from './state.ts';
import { emit, taskToRun, type Walk } from './walk.ts';

// AG5: a task step whose paid run would cross a budget cap waits for a cost gate, an approval
// request on the step itself. The engine asks (RequestCostApproval) with the policy's cost
// approvers; people decide it with GrantApproval / RejectApproval like any gate (approvals.ts).

/** The engine asks: the step's paid run would cross a cap, so its attempt waits for a cost gate; asked again for the same attempt, nothing new. */
export const requestCostApproval = (c: WorkflowCommandOf<'RequestCostApproval'>, state: WorkflowState): Decision =>
  pipe(
    existingWorkflow(state, c.workflowId),
    flatMap(stillRunning),
    flatMap((workflow) =>
      pipe(
        taskStep(workflow, c.stepId),
        flatMap((node): Decision => {
          const run = workflow.steps[c.stepId];
          if (run?.approval?.cost?.attempt === c.attempt) return right([]);
          if (!run || run.attempt !== c.attempt || (run.status !== 'scheduled' && run.status !== 'retryScheduled'))
            return left(stepNotScheduled(c.stepId, c.attempt, run));
          const dueAt = addMilliseconds(c.at, c.timeoutMs);
          const remindAt = c.reminderBeforeMs !== undefined && c.reminderBeforeMs < c.timeoutMs ? addMilliseconds(dueAt, -c.reminderBeforeMs) : undefined;
          return right([
            workflowEventOf('ApprovalRequested', {
              workflowId: c.workflowId,
              stepId: c.stepId,
              visit: run.visit,
              title: clip(`Step ${node.title ?? node.id} may cost up to $${c.amountUsd.toFixed(2)}, over the budget (${c.reason}): approve the spend?`),
              approvers: [...c.approvers],
              quorum: c.quorum,
              requesterMayApprove: c.requesterMayApprove,
              requestedBy: workflow.requestedBy,
              dueAt,
              ...(remindAt !== undefined && { remindAt }),
              cost: { attempt: c.attempt, amountUsd: c.amountUsd, reason: c.reason },
              at: c.at,
            }),
          ]);
        }),
      ),
    ),
  );

const clip = (text: string): string => (text.length <= 500 ? text : `${text.slice(0, 499)}…`);

export const costApproved = (workflow: Workflow, node: TaskNode, run: StepRun, approvedBy: readonly string[], at: string) =>
  workflowEventOf('StepCostApproved', {
    workflowId: workflow.workflowId,
    stepId: node.id,
    attempt: run.attempt,
    taskId: run.taskId ?? taskIdFor(workflow.workflowId, node.id, run.attempt),
    ...taskToRun(node, run.params ?? node.params, workflow.dryRun),
    approvedBy: [...approvedBy],
    at,
  });

/** The attempt that waited for the cost gate fails for good; WorkflowFailed follows in the same append. */
export function failCostlyStep(walk: Walk, run: StepRun, attempt: number, error: { code: string; message: string }): void {
  const { workflowId } = walk.state;
  emit(
    walk,
    workflowEventOf('StepFailed', {
      workflowId,
      stepId: run.stepId,
      attempt,
      taskId: run.taskId ?? taskIdFor(workflowId, run.stepId, attempt),
      error,
      retryable: false,
      final: true,
      at: walk.at,
    }),
  );
}

import { flatMap, left, right, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { Rejection } from '../decider.ts';
import type { WorkflowCommandOf } from './commands.ts';
import type { Decision } from './decision.ts';
import type { ApprovalNode, TaskNode } from './compiled.ts';
import { workflowEventOf } from './events.ts';
import { costApproved, failCostlyStep } from './cost-gate.ts';
import { approvalStep, existingWorkflow, stillRunning } from './guards.ts';
import { approvalAlreadyDecided, approvalNotRequested, notAnApprover, requesterCannotApprove, timerNotDue } from './rejections.ts';
import type { Approval, StepRun, Workflow, WorkflowState } from './state.ts';
import { emit, failWorkflow, leave, startWalk } from './walk.ts';

// Approval gates (WF3): named approvers only (anyone when none are named), a quorum of distinct
// approvers, and where a gate's policy says so the requester never approves alone: their grant
// counts only beside someone else's. One rejection or the timeout fails the workflow, and a
// decided gate takes no further clicks.
//
// A cost gate (AG5) is the same request on a task step whose paid run would cross a budget cap:
// granted, the step's attempt is queued (StepCostApproved, the engine reserving over the cap in
// the approvers' names); rejected or timed out, the step fails with the reason.

interface OpenGate {
  readonly workflow: Workflow;
  readonly node: ApprovalNode | TaskNode;
  readonly run: StepRun;
  readonly approval: Approval;
}

const gateName = (node: ApprovalNode | TaskNode, approval: Approval): string =>
  approval.cost ? `the cost of step "${node.title ?? node.id}"` : `"${node.title ?? node.id}"`;

/** The gate's current request, still awaiting a decision, in a workflow still running. */
const openGate = (state: WorkflowState, c: { workflowId: string; stepId: string; visit?: number | undefined }): Either<Rejection, OpenGate> =>
  pipe(
    existingWorkflow(state, c.workflowId),
    flatMap((workflow) =>
      pipe(
        approvalStep(workflow, c.stepId),
        flatMap(({ node, run }): Either<Rejection, OpenGate> => {
          if (c.visit !== undefined && c.visit > run.visit) return left(approvalNotRequested(c.stepId));
          if ((c.visit !== undefined && c.visit < run.visit) || run.status !== 'awaitingApproval') return left(approvalAlreadyDecided(run, c.visit));
          return pipe(
            stillRunning(workflow),
            flatMap(() => right({ workflow, node, run, approval: run.approval! })),
          );
        }),
      ),
    ),
  );

const mayDecide = (gate: OpenGate, approver: string): Either<Rejection, OpenGate> =>
  gate.approval.approvers.length > 0 && !gate.approval.approvers.includes(approver)
    ? left(notAnApprover(gate.node.id, approver, gate.approval.approvers))
    : right(gate);

export const grantApproval = (c: WorkflowCommandOf<'GrantApproval'>, state: WorkflowState): Decision =>
  pipe(
    openGate(state, c),
    flatMap((gate) => mayDecide(gate, c.approver)),
    flatMap(({ workflow, node, run, approval }) => {
      // Distinct approvers count toward the quorum; a second click by the same person adds nothing.
      if (approval.grantedBy.includes(c.approver)) return right([]);
      const grantedBy = [...approval.grantedBy, c.approver];
      const approved = grantedBy.length >= approval.quorum;
      const requesterAlone = c.approver === workflow.requestedBy && approved && approval.grantedBy.length === 0;
      if (requesterAlone && !approval.requesterMayApprove) return left(requesterCannotApprove(node.id, c.approver));
      const walk = startWalk(workflow, c.at);
      emit(
        walk,
        workflowEventOf('ApprovalGranted', {
          workflowId: c.workflowId,
          stepId: node.id,
          visit: run.visit,
          approver: c.approver,
          grantedBy,
          quorum: approval.quorum,
          approved,
          at: c.at,
        }),
      );
      if (approved && node.kind === 'task') emit(walk, costApproved(workflow, node, run, grantedBy, c.at));
      else if (approved) leave(walk, node.id);
      return right(walk.events);
    }),
  );

/** One rejection decides the gate: what it guards does not happen, and the workflow fails. */
export const rejectApproval = (c: WorkflowCommandOf<'RejectApproval'>, state: WorkflowState): Decision =>
  pipe(
    openGate(state, c),
    flatMap((gate) => mayDecide(gate, c.approver)),
    flatMap(({ workflow, node, run, approval }) => {
      const walk = startWalk(workflow, c.at);
      emit(
        walk,
        workflowEventOf('ApprovalRejected', {
          workflowId: c.workflowId,
          stepId: node.id,
          visit: run.visit,
          approver: c.approver,
          ...(c.reason !== undefined && { reason: c.reason }),
          at: c.at,
        }),
      );
      const reason = `${c.approver} rejected ${gateName(node, approval)}${c.reason ? `: ${c.reason}` : ''}`;
      if (approval.cost) failCostlyStep(walk, run, approval.cost.attempt, { code: 'CostApprovalRejected', message: reason });
      failWorkflow(walk, { cause: 'ApprovalRejected', stepId: node.id, reason });
      return right(walk.events);
    }),
  );

/** Fired by the scheduler at the gate's `dueAt`; an undecided gate fails the workflow. */
export const timeOutApproval = (c: WorkflowCommandOf<'TimeOutApproval'>, state: WorkflowState): Decision =>
  pipe(
    openGate(state, c),
    flatMap(({ workflow, node, run, approval }) => {
      if (Date.parse(c.at) < Date.parse(approval.dueAt)) return left(timerNotDue(`the timeout of approval "${node.id}"`, approval.dueAt, c.at));
      const walk = startWalk(workflow, c.at);
      emit(walk, workflowEventOf('ApprovalTimedOut', { workflowId: c.workflowId, stepId: node.id, visit: run.visit, dueAt: approval.dueAt, at: c.at }));
      const reason = `no decision on ${gateName(node, approval)} ${node.kind === 'approval' ? `within ${node.timeoutMs} ms` : `by ${approval.dueAt}`}`;
      if (approval.cost) failCostlyStep(walk, run, approval.cost.attempt, { code: 'CostApprovalTimedOut', message: reason });
      failWorkflow(walk, { cause: 'ApprovalTimedOut', stepId: node.id, reason });
      return right(walk.events);
    }),
  );

/** Once per request, at or after its `remindAt`; a decided gate or an ended workflow needs no reminder. */
export const remindApprovers = (c: WorkflowCommandOf<'RemindApprovers'>, state: WorkflowState): Decision =>
  pipe(
    openGate(state, c),
    flatMap(({ node, run, approval }) => {
      if (approval.reminded || approval.remindAt === undefined) return right([]);
      if (Date.parse(c.at) < Date.parse(approval.remindAt)) return left(timerNotDue(`the reminder of approval "${node.id}"`, approval.remindAt, c.at));
      return right([
        workflowEventOf('ApprovalReminderDue', {
          workflowId: c.workflowId,
          stepId: node.id,
          visit: run.visit,
          approvers: [...approval.approvers],
          dueAt: approval.dueAt,
          at: c.at,
        }),
      ]);
    }),
  );

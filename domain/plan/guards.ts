import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { Rejection } from '../decider.ts';
import {
  notAnApprover,
  planAlreadyApproved,
  planAlreadyCompiled,
  planAlreadyRejected,
  planNotFound,
  requesterMayNotApprove,
  stalePlanRevision,
} from './rejections.ts';
import type { PlanState, ProposedPlan } from './state.ts';

// Checks several rules share, each passing the plan on or naming why the command is refused.

export const existingPlan = (state: PlanState, planId: string): Either<Rejection, ProposedPlan> =>
  state.status === 'none' ? left(planNotFound(planId)) : right(state);

/** Amending, approving and rejecting happen only while the plan waits for a decision. */
export const stillProposed = (plan: ProposedPlan): Either<Rejection, ProposedPlan> => {
  switch (plan.status) {
    case 'proposed':
      return right(plan);
    case 'approved':
      return left(planAlreadyApproved(plan));
    case 'rejected':
      return left(planAlreadyRejected(plan));
    case 'compiled':
      return left(planAlreadyCompiled(plan));
  }
};

export const revisionSeen =
  (revision: number | undefined) =>
  (plan: ProposedPlan): Either<Rejection, ProposedPlan> =>
    revision !== undefined && revision !== plan.revision ? left(stalePlanRevision(plan, revision)) : right(plan);

export const mayApprove =
  (approver: string) =>
  (plan: ProposedPlan): Either<Rejection, ProposedPlan> => {
    if (approver === plan.requestedBy && !plan.approval.requesterMayApprove) return left(requesterMayNotApprove(plan));
    if (plan.approval.approvers !== undefined && !plan.approval.approvers.includes(approver)) return left(notAnApprover(plan, approver));
    return right(plan);
  };

/** The requester may always withdraw their own plan; otherwise whoever may approve may reject. */
export const mayReject =
  (user: string) =>
  (plan: ProposedPlan): Either<Rejection, ProposedPlan> =>
    user === plan.requestedBy || plan.approval.approvers === undefined || plan.approval.approvers.includes(user)
      ? right(plan)
      : left(notAnApprover(plan, user));

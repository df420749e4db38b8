import type { Rejection } from '../decider.ts';
import type { ProposedPlan } from './state.ts';

export type PlanRejectionCode =
  | 'PlanAlreadyProposed'
  | 'PlanNotFound'
  | 'PlanAlreadyApproved'
  | 'PlanAlreadyRejected'
  | 'PlanAlreadyCompiled'
  | 'StalePlanRevision'
  | 'RequesterCannotApprove'
  | 'NotAnApprover'
  | 'PlanNotApproved';

export type PlanRejection = Rejection<PlanRejectionCode>;

const rejection = (code: PlanRejectionCode, message: string): PlanRejection => ({ code, message });

export const planAlreadyProposed = (p: ProposedPlan): PlanRejection =>
  rejection('PlanAlreadyProposed', `plan ${p.planId} was already proposed at ${p.proposedAt}`);

export const planNotFound = (planId: string): PlanRejection => rejection('PlanNotFound', `plan ${planId} has not been proposed`);

export const planAlreadyApproved = (p: ProposedPlan): PlanRejection =>
  rejection('PlanAlreadyApproved', `plan ${p.planId} was already approved by ${p.approved?.approver ?? 'someone'} at ${p.approved?.at ?? '?'}`);

export const planAlreadyRejected = (p: ProposedPlan): PlanRejection =>
  rejection('PlanAlreadyRejected', `plan ${p.planId} was rejected by ${p.rejected?.rejectedBy ?? 'someone'}: ${p.rejected?.reason ?? ''}`);

export const planAlreadyCompiled = (p: ProposedPlan): PlanRejection =>
  rejection('PlanAlreadyCompiled', `plan ${p.planId} was already compiled into workflow ${p.compiled?.workflowId ?? '?'}`);

export const stalePlanRevision = (p: ProposedPlan, seen: number): PlanRejection =>
  rejection(
    'StalePlanRevision',
    `plan ${p.planId} was amended since revision ${seen}; the current one is revision ${p.revision}, look at it again before deciding`,
  );

export const requesterMayNotApprove = (p: ProposedPlan): PlanRejection =>
  rejection('RequesterCannotApprove', `plan ${p.planId} needs someone other than the requester (${p.requestedBy}) to approve it`);

export const notAnApprover = (p: ProposedPlan, user: string): PlanRejection =>
  rejection('NotAnApprover', `${user} may not decide on plan ${p.planId}; its approvers are ${(p.approval.approvers ?? []).join(', ')}`);

export const planNotApproved = (p: ProposedPlan): PlanRejection =>
  rejection('PlanNotApproved', `plan ${p.planId} needs approval before it runs: ${p.approval.reasons.join('; ')}`);

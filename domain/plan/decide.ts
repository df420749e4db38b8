import { flatMap, left, map, right, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { match } from 'ts-pattern';
import type { Rejection } from '../decider.ts';
import type { PlanCommand, PlanCommandOf } from './commands.ts';
import { planEventOf, type PlanEvent } from './events.ts';
import { existingPlan, mayApprove, mayReject, revisionSeen, stillProposed } from './guards.ts';
import { planAlreadyCompiled, planAlreadyProposed, planAlreadyRejected, planNotApproved } from './rejections.ts';
import type { PlanState } from './state.ts';

type Decision = Either<Rejection, readonly PlanEvent[]>;

const nothing: Decision = right([]);

export const decide = (command: PlanCommand, state: PlanState): Decision =>
  match(command)
    .with({ type: 'ProposePlan' }, (c) => proposePlan(c, state))
    .with({ type: 'AmendPlan' }, (c) => amendPlan(c, state))
    .with({ type: 'ApprovePlan' }, (c) => approvePlan(c, state))
    .with({ type: 'RejectPlan' }, (c) => rejectPlan(c, state))
    .with({ type: 'RecordPlanCompiled' }, (c) => recordPlanCompiled(c, state))
    .exhaustive();

const proposePlan = ({ type: _, ...c }: PlanCommandOf<'ProposePlan'>, state: PlanState): Decision =>
  state.status !== 'none' ? left(planAlreadyProposed(state)) : right([planEventOf('PlanProposed', { ...c, revision: 1 })]);

/** A new version replaces the plan while it waits; approval is worked out again for it. */
const amendPlan = ({ type: _, ...c }: PlanCommandOf<'AmendPlan'>, state: PlanState): Decision =>
  pipe(
    existingPlan(state, c.planId),
    flatMap(stillProposed),
    map((plan) => [planEventOf('PlanAmended', { ...c, revision: plan.revision + 1 })]),
  );

/** The same approver pressing "run this plan" again (or typing APPROVE after the button) changes nothing. */
const approvePlan = ({ planId, approver, via, revision, at }: PlanCommandOf<'ApprovePlan'>, state: PlanState): Decision =>
  pipe(
    existingPlan(state, planId),
    flatMap((plan) =>
      plan.status === 'approved' && plan.approved?.approver === approver
        ? nothing
        : pipe(
            stillProposed(plan),
            flatMap(revisionSeen(revision)),
            flatMap(mayApprove(approver)),
            map((p) => [planEventOf('PlanApproved', { planId, revision: p.revision, approver, via, at })]),
          ),
    ),
  );

const rejectPlan = ({ planId, rejectedBy, reason, revision, at }: PlanCommandOf<'RejectPlan'>, state: PlanState): Decision =>
  pipe(
    existingPlan(state, planId),
    flatMap((plan) =>
      plan.status === 'rejected' && plan.rejected?.rejectedBy === rejectedBy
        ? nothing
        : pipe(
            stillProposed(plan),
            flatMap(revisionSeen(revision)),
            flatMap(mayReject(rejectedBy)),
            map((p) => [planEventOf('PlanRejected', { planId, revision: p.revision, rejectedBy, reason, at })]),
          ),
    ),
  );

/** An approved plan, or a proposed one that needs no approval, becomes one workflow, once. */
const recordPlanCompiled = ({ planId, workflowId, at }: PlanCommandOf<'RecordPlanCompiled'>, state: PlanState): Decision =>
  pipe(
    existingPlan(state, planId),
    flatMap((plan) => {
      if (plan.status === 'compiled') return plan.compiled?.workflowId === workflowId ? nothing : left(planAlreadyCompiled(plan));
      if (plan.status === 'rejected') return left(planAlreadyRejected(plan));
      if (plan.status === 'proposed' && plan.approval.required) return left(planNotApproved(plan));
      return right([planEventOf('PlanCompiled', { planId, revision: plan.revision, workflowId, at })]);
    }),
  );

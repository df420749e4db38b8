import { match } from 'ts-pattern';
import { addUsage } from '../cost/token-cost.ts';
import { toMicros, toUsd } from '../cost/usd.ts';
import type { PlanEvent, PlanEventData } from './events.ts';
import type { PlanState, ProposedPlan } from './state.ts';

export const evolve = (state: PlanState, event: PlanEvent): PlanState =>
  match(event)
    .with({ type: 'PlanProposed' }, ({ data }) => proposed(data))
    .with({ type: 'PlanAmended' }, ({ data }) =>
      onPlan(state, (plan) => ({
        ...plan,
        revision: data.revision,
        plan: data.plan,
        model: data.model,
        approval: data.approval,
        totalUsage: addUsage(plan.totalUsage, data.usage),
        totalCostUsd: toUsd(toMicros(plan.totalCostUsd) + toMicros(data.costUsd)),
      })),
    )
    .with({ type: 'PlanApproved' }, ({ data }) =>
      onPlan(state, (plan) => ({ ...plan, status: 'approved', approved: { approver: data.approver, via: data.via, revision: data.revision, at: data.at } })),
    )
    .with({ type: 'PlanRejected' }, ({ data }) =>
      onPlan(state, (plan) => ({
        ...plan,
        status: 'rejected',
        rejected: { rejectedBy: data.rejectedBy, reason: data.reason, revision: data.revision, at: data.at },
      })),
    )
    .with({ type: 'PlanCompiled' }, ({ data }) =>
      onPlan(state, (plan) => ({ ...plan, status: 'compiled', compiled: { workflowId: data.workflowId, revision: data.revision, at: data.at } })),
    )
    .exhaustive();

const proposed = ({ at, usage, costUsd, ...data }: PlanEventData<'PlanProposed'>): ProposedPlan => ({
  ...data,
  status: 'proposed',
  proposedAt: at,
  totalUsage: usage,
  totalCostUsd: costUsd,
});

/** Events other than PlanProposed only ever follow it; a stray one leaves the state as it was. */
const onPlan = (state: PlanState, change: (plan: ProposedPlan) => ProposedPlan): PlanState => (state.status === 'none' ? state : change(state));

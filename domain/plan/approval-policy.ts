import { z } from 'zod';
import { formatUsd } from '../cost/usd.ts';
import type { Plan } from './plan-schema.ts';
import { taskSteps } from './plan-steps.ts';
import type { RegisteredTaskType } from './registered-task-type.ts';

// Whether a plan waits for "run this plan" (OR2): any step with side effects (deploys, code
// changes), or an estimated cost over the threshold. Worked out where the registry is known
// and carried on the ProposePlan command, so the Plan decider can enforce it and the history
// shows why approval was asked for.

export const approvalPolicySchema = z.object({
  required: z.boolean(),
  /** Why approval is required, one line each, for the preview. Empty when it is not. */
  reasons: z.array(z.string().min(1).max(1_000)).max(200),
  /** False when policy wants someone other than the requester to approve. */
  requesterMayApprove: z.boolean(),
  /** When set, only these users may approve. */
  approvers: z.array(z.string().min(1).max(200)).min(1).max(50).optional(),
});
export type ApprovalPolicy = z.infer<typeof approvalPolicySchema>;

export interface ApprovalRules {
  /** Plans estimated to cost more than this (USD) need approval. */
  readonly costThresholdUsd: number;
  readonly requesterMayApprove?: boolean;
  readonly approvers?: readonly string[];
}

export function approvalPolicyFor(plan: Plan, registry: readonly RegisteredTaskType[], rules: ApprovalRules): ApprovalPolicy {
  // An unregistered task type fails validation anyway; if one slips through, assume the worst.
  const sideEffecting = taskSteps(plan).filter((step) => registry.find((r) => r.taskType === step.taskType)?.sideEffects ?? true);
  const { estimatedCostUsd } = plan.estimate;
  const reasons = [
    ...sideEffecting.map((step) => `step ${step.id} runs ${step.taskType}, which changes things outside (side effects)`),
    ...(estimatedCostUsd > rules.costThresholdUsd
      ? [`the estimated cost ${formatUsd(estimatedCostUsd)} is over the ${formatUsd(rules.costThresholdUsd)} threshold`]
      : []),
  ];
  return {
    required: reasons.length > 0,
    reasons,
    requesterMayApprove: rules.requesterMayApprove ?? true,
    ...(rules.approvers !== undefined && rules.approvers.length > 0 && { approvers: [...rules.approvers] }),
  };
}

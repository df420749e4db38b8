import { z } from 'zod';
import { formatUsd } from '../cost/usd.ts';
import type { Plan } from './plan-schema.ts';
import { taskSteps } from './plan-steps.ts';
import type { RegisteredTaskType } from './registered-task-type.ts';
import { gateKindFor, type GateRequirements, type SideEffectClass, type SideEffectClassifier } from '../workflow/gate-policy.ts';

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
  /**
   * The authorization policy's gates: "Run this plan" is decided by the approvers of the gate
   * kind the plan's work needs (deploy over code change), who replace `approvers` when it names
   * some. Whether the requester may press it stays `requesterMayApprove`: the gates compiled
   * into the workflow before its side effects keep the requester from approving those alone.
   */
  readonly gates?: GateRequirements;
  /** What each step does outside, for the gate kind; without it a side-effecting step counts as a code change. */
  readonly classify?: SideEffectClassifier;
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
  const classes = sideEffecting.map((step): SideEffectClass => rules.classify?.(step.taskType, step.params) ?? 'code-change');
  const kind = classes.includes('deploy') ? 'deploy' : classes.map(gateKindFor).find((k) => k !== undefined);
  const gate = kind !== undefined ? rules.gates?.[kind] : undefined;
  const approvers = gate !== undefined && gate.approvers.length > 0 ? gate.approvers : rules.approvers;
  return {
    required: reasons.length > 0,
    reasons,
    requesterMayApprove: rules.requesterMayApprove ?? true,
    ...(approvers !== undefined && approvers.length > 0 && { approvers: [...approvers] }),
  };
}

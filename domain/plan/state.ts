import type { TokenUsage } from '../cost/token-cost.ts';
import type { ApprovalPolicy } from './approval-policy.ts';
import type { ApprovalVia } from './fields.ts';
import type { Plan } from './plan-schema.ts';

/**
 * `proposed`: waiting for "run this plan" (or, when no approval is required, for compilation);
 * `approved` / `rejected`: decided; `compiled`: a workflow was started from it.
 */
export type PlanStatus = 'none' | 'proposed' | 'approved' | 'rejected' | 'compiled';

export interface ProposedPlan {
  readonly status: Exclude<PlanStatus, 'none'>;
  readonly planId: string;
  readonly conversationId: string;
  readonly requestedBy: string;
  readonly request: string;
  readonly proposedAt: string;
  /** The current version, from 1. */
  readonly revision: number;
  readonly plan: Plan;
  readonly model: string;
  readonly approval: ApprovalPolicy;
  /** Tokens and cost of every version so far. */
  readonly totalUsage: TokenUsage;
  readonly totalCostUsd: number;
  readonly approved?: { readonly approver: string; readonly via: ApprovalVia; readonly revision: number; readonly at: string };
  readonly rejected?: { readonly rejectedBy: string; readonly reason: string; readonly revision: number; readonly at: string };
  readonly compiled?: { readonly workflowId: string; readonly revision: number; readonly at: string };
}

export type PlanState = { readonly status: 'none' } | ProposedPlan;

export const initialState = (): PlanState => ({ status: 'none' });

import type { Rejection } from '../decider.ts';
import type { ModelSpend } from '../cost/token-cost.ts';

// Why a planner produced no plan. Each carries what the attempt already cost (`spent`), so
// the budget commits real spending even when planning fails: never silent spend (AG5).

export interface PlannerOutputInvalid extends Rejection<'PlannerOutputInvalid'> {
  /** One line per problem of the last answer, after the repair attempt. */
  readonly issues: readonly string[];
  readonly attempts: number;
  readonly spent: ModelSpend;
}

/** The model API stayed overloaded, rate-limited or unreachable through every retry. */
export interface PlannerUnavailable extends Rejection<'PlannerUnavailable'> {
  readonly status?: number;
  readonly attempts: number;
  readonly spent: ModelSpend;
}

/** The model API refused the request itself (bad key, bad request): retrying will not help. */
export interface PlannerRequestFailed extends Rejection<'PlannerRequestFailed'> {
  readonly status?: number;
  readonly spent: ModelSpend;
}

export type PlannerFailure = PlannerOutputInvalid | PlannerUnavailable | PlannerRequestFailed;

export const plannerOutputInvalid = (issues: readonly string[], attempts: number, spent: ModelSpend): PlannerOutputInvalid => ({
  code: 'PlannerOutputInvalid',
  message: `${attempts > 1 ? `the planner's plan was still invalid after ${attempts - 1} repair attempt${attempts === 2 ? '' : 's'}` : "the planner's plan is invalid"}: ${issues.slice(0, 5).join('; ')}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}`,
  issues,
  attempts,
  spent,
});

export const plannerUnavailable = (detail: string, attempts: number, spent: ModelSpend, status?: number): PlannerUnavailable => ({
  code: 'PlannerUnavailable',
  message: `the planner is unavailable (${detail}) after ${attempts} attempt${attempts === 1 ? '' : 's'}; try again in a few minutes`,
  attempts,
  spent,
  ...(status !== undefined && { status }),
});

export const plannerRequestFailed = (detail: string, spent: ModelSpend, status?: number): PlannerRequestFailed => ({
  code: 'PlannerRequestFailed',
  message: `the planner's model API refused the request: ${detail}`,
  spent,
  ...(status !== undefined && { status }),
});

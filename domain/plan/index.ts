import type { Decider } from '../decider.ts';
import type { PlanCommand } from './commands.ts';
import { decide } from './decide.ts';
import type { PlanEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState, type PlanState } from './state.ts';

export const planDecider: Decider<PlanCommand, PlanEvent, PlanState> = { decide, evolve, initialState };

export { approvalPolicyFor, approvalPolicySchema, type ApprovalPolicy, type ApprovalRules } from './approval-policy.ts';
export { parsePlanCommand, planCommandSchemas, type PlanCommand, type PlanCommandOf, type PlanCommandType } from './commands.ts';
export { planEventOf, planEventSchemas, type PlanEvent, type PlanEventData, type PlanEventOf, type PlanEventType } from './events.ts';
export { approvalViaSchema, tokenUsageSchema, type ApprovalVia } from './fields.ts';
export { describeIssues, type PlanIssue, type PlanIssueCode } from './plan-issues.ts';
export {
  planComplexitySchema,
  planEstimateSchema,
  planPhaseSchema,
  planSchema,
  planStepSchema,
  STEP_ID_PATTERN,
  type ApprovalStep,
  type ConditionalStep,
  type ParallelStep,
  type Plan,
  type PlanComplexity,
  type PlanEstimate,
  type PlanPhase,
  type PlanStep,
  type TaskStep,
} from './plan-schema.ts';
export { allSteps, childSteps, flattenSteps, taskSteps } from './plan-steps.ts';
export {
  plannerOutputInvalid,
  plannerRequestFailed,
  plannerUnavailable,
  type PlannerFailure,
  type PlannerOutputInvalid,
  type PlannerRequestFailed,
  type PlannerUnavailable,
} from './planner-errors.ts';
export type { RegisteredTaskType } from './registered-task-type.ts';
export type { PlanRejection, PlanRejectionCode } from './rejections.ts';
export { initialState, type PlanState, type PlanStatus, type ProposedPlan } from './state.ts';
export { stepReferences } from './step-references.ts';
export { MAX_PLAN_STEPS, parsePlan, validatePlan } from './validate-plan.ts';
export { escapesWorkspace } from './workspace-path.ts';
export type { InvalidCommand } from '../validation.ts';

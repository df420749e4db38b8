import type { Decider } from '../decider.ts';
import type { WorkflowCommand } from './commands.ts';
import { decide } from './decide.ts';
import type { WorkflowEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState, type WorkflowState } from './state.ts';

export const workflowDecider: Decider<WorkflowCommand, WorkflowEvent, WorkflowState> = { decide, evolve, initialState };

// ── aggregate ──────────────────────────────────────────────────────────────────
export {
  DEFAULT_MAX_EXECUTION_MS,
  parseWorkflowCommand,
  workflowCommandSchemas,
  workflowSourceSchema,
  type WorkflowCommand,
  type WorkflowCommandOf,
  type WorkflowCommandType,
} from './commands.ts';
export {
  workflowEventOf,
  workflowEventSchemas,
  type WorkflowEvent,
  type WorkflowEventData,
  type WorkflowEventOf,
  type WorkflowEventType,
  type WorkflowFailureCause,
} from './events.ts';
export type { InvalidDefinition, WorkflowRejection, WorkflowRejectionCode } from './rejections.ts';
export { retryDelayMs } from './retry.ts';
export {
  activeTaskIds,
  describeWorkflowStatus,
  initialState,
  isActive,
  isFinished,
  taskIdFor,
  type Approval,
  type StepRun,
  type StepStatus,
  type Workflow,
  type WorkflowState,
  type WorkflowStatus,
} from './state.ts';
export { describeStepStatus } from './status-words.ts';
export type { InvalidCommand } from '../validation.ts';

// ── definitions ────────────────────────────────────────────────────────────────
export { compileDefinition, DEFAULT_RETRY, type CompileOptions } from './compile.ts';
export { workflowOfPlan, type GateRules, type PlanToWorkflow } from './from-plan.ts';
export {
  compiledWorkflowSchema,
  type ApprovalNode,
  type CompiledWorkflow,
  type Machine,
  type RetryPolicy,
  type TaskNode,
  type Transition,
  type WorkflowNode,
} from './compiled.ts';
export type { DefinitionError, DefinitionErrorCode } from './definition-errors.ts';
export { workflowDefinitionSchema, type StepNode, type WorkflowDefinition, type WorkflowDefinitionInput } from './definition-schema.ts';
export { DEFAULT_APPROVAL_TIMEOUT_MS, STEP_ID } from './step-fields.ts';
export { checkCompiled, registerDefinition, type Registry } from './validate-definition.ts';

// ── conditions ─────────────────────────────────────────────────────────────────
export { evaluateCondition, type ConditionContext } from './condition-eval.ts';
export { parseCondition } from './condition-parser.ts';
export type { Expression, InvalidCondition } from './condition-syntax.ts';

// ── templates ──────────────────────────────────────────────────────────────────
export {
  checkTemplate,
  compileTemplate,
  instantiateTemplate,
  templateById,
  workflowTemplates,
  type SuppliedValues,
  type TemplateError,
  type WorkflowTemplate,
} from './templates/index.ts';

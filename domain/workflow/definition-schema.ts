import { z } from 'zod';
import { MAX_CONDITION_LENGTH } from './condition-syntax.ts';
import { approvalGateShape, checkGate, stepIdSchema, taskStepShape, type RetryPolicyInput, type StepParams } from './step-fields.ts';

// The two forms a workflow definition is written in (WF1). Both compile to the one machine
// in compiled.ts; these schemas check shape only, validate-definition.ts the rest.

export interface TaskStep {
  readonly id: string;
  readonly title?: string | undefined;
  readonly taskType: string;
  readonly params?: StepParams | undefined;
  readonly pool?: string | undefined;
  readonly retry?: RetryPolicyInput | undefined;
  readonly timeoutMs?: number | undefined;
  readonly sideEffects?: boolean | undefined;
}

export interface ApprovalGate {
  readonly id: string;
  readonly title?: string | undefined;
  readonly approvers?: readonly string[] | undefined;
  readonly quorum?: number | undefined;
  readonly requesterMayApprove?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
  readonly reminderBeforeMs?: number | undefined;
}

// ── step tree ────────────────────────────────────────────────────────────────
export type StepNode =
  | ({ readonly type: 'task' } & TaskStep)
  | ({ readonly type: 'approval' } & ApprovalGate)
  | { readonly type: 'sequence'; readonly steps: readonly StepNode[] }
  /** Every branch runs; the node completes when all of them have. */
  | { readonly type: 'parallel'; readonly id?: string | undefined; readonly branches: readonly StepNode[] }
  /** `then` runs when the condition holds, `else` (if any) otherwise; either way the tree goes on after it. */
  | {
      readonly type: 'conditional';
      readonly id?: string | undefined;
      readonly condition: string;
      readonly then: StepNode;
      readonly else?: StepNode | undefined;
    }
  /** Ends the workflow as failed, e.g. on the branch where checks did not pass. */
  | { readonly type: 'fail'; readonly id?: string | undefined; readonly reason: string };

const conditionSchema = z.string().min(1).max(MAX_CONDITION_LENGTH);

export const stepNodeSchema: z.ZodType<StepNode, StepNode> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('task'), ...taskStepShape }),
    z.object({ type: z.literal('approval'), ...approvalGateShape }).superRefine(checkGate),
    z.object({ type: z.literal('sequence'), steps: z.array(stepNodeSchema).min(1).max(200) }),
    z.object({ type: z.literal('parallel'), id: stepIdSchema.optional(), branches: z.array(stepNodeSchema).min(1).max(20) }),
    z.object({
      type: z.literal('conditional'),
      id: stepIdSchema.optional(),
      condition: conditionSchema,
      then: stepNodeSchema,
      else: stepNodeSchema.optional(),
    }),
    z.object({ type: z.literal('fail'), id: stepIdSchema.optional(), reason: z.string().min(1).max(1_000) }),
  ]),
);

const definitionHeader = {
  name: z.string().min(1).max(200),
  description: z.string().max(2_000).optional(),
};

export const stepTreeDefinitionSchema = z.object({ form: z.literal('stepTree'), ...definitionHeader, root: stepNodeSchema });

// ── state machine ────────────────────────────────────────────────────────────
/** Tried in order; the first whose condition holds (or that has none) is taken. */
export const transitionSchema = z.object({ to: z.string().min(1).max(200), when: conditionSchema.optional() });
const transitions = z.array(transitionSchema).max(20).default([]);

export const machineStateSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('task'), ...taskStepShape, transitions }),
  z.object({ type: z.literal('approval'), ...approvalGateShape, transitions }).superRefine(checkGate),
  z.object({
    type: z.literal('end'),
    id: stepIdSchema,
    outcome: z.enum(['completed', 'failed']).default('completed'),
    reason: z.string().max(1_000).optional(),
  }),
]);
export type MachineState = z.infer<typeof machineStateSchema>;

export const stateMachineDefinitionSchema = z.object({
  form: z.literal('stateMachine'),
  ...definitionHeader,
  start: z.string().min(1).max(200),
  states: z.array(machineStateSchema).min(1).max(200),
});

export const workflowDefinitionSchema = z.discriminatedUnion('form', [stepTreeDefinitionSchema, stateMachineDefinitionSchema]);
/** A definition as written (defaults not yet applied). */
export type WorkflowDefinitionInput = z.input<typeof workflowDefinitionSchema>;
export type WorkflowDefinition = z.output<typeof workflowDefinitionSchema>;
export type StepTreeDefinition = z.output<typeof stepTreeDefinitionSchema>;
export type StateMachineDefinition = z.output<typeof stateMachineDefinitionSchema>;

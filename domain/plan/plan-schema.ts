import { z } from 'zod';
import { STEP_ID } from '../workflow/step-fields.ts';

// The plan a request becomes (OR1): phases run in order; inside a phase, steps run in order;
// a parallel step runs its branches at once; a conditional step reads earlier steps' outputs
// and runs `then` or `else`; an approval step waits for a person. Task steps name a
// registered task type with its parameters; whether those exist and are valid is checked
// against the registry by validate-plan.ts, since this module cannot know it.
//
// The schema doubles as the planner model's tool input schema (z.toJSONSchema), so its
// descriptions are written for whoever fills it in.

/**
 * A plan becomes a workflow step for step, so its step ids follow the workflow's rule: names in
 * the condition form (`steps.<id>.output…`), and parts of task ids (`${workflowId}_${stepId}_${attempt}`).
 */
export const STEP_ID_PATTERN = STEP_ID;

const stepId = z
  .string()
  .max(64)
  .regex(STEP_ID_PATTERN, 'must be up to 64 letters and digits, joined by single "-", starting with a letter')
  .describe('Unique within the plan; conditions refer to it as steps.<id>.');

const text = (max: number) => z.string().trim().min(1).max(max);

export interface TaskStep {
  readonly kind: 'task';
  readonly id: string;
  readonly taskType: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly why: string;
}
export interface ParallelStep {
  readonly kind: 'parallel';
  readonly id: string;
  readonly branches: readonly (readonly PlanStep[])[];
}
export interface ConditionalStep {
  readonly kind: 'conditional';
  readonly id: string;
  readonly condition: string;
  readonly then: readonly PlanStep[];
  readonly else?: readonly PlanStep[];
}
export interface ApprovalStep {
  readonly kind: 'approval';
  readonly id: string;
  readonly reason: string;
}
export type PlanStep = TaskStep | ParallelStep | ConditionalStep | ApprovalStep;

const steps = (min: number) => z.array(planStepSchemaRef()).min(min).max(50);

const taskStepSchema = z.object({
  kind: z.literal('task'),
  id: stepId,
  taskType: text(100).describe('One of the registered task types, exactly as listed.'),
  params: z.record(z.string(), z.unknown()).describe("The task type's parameters; paths are relative to the workspace."),
  why: text(1_000).describe('One sentence: why this step is in the plan.'),
});

const parallelStepSchema = z.object({
  kind: z.literal('parallel'),
  id: stepId,
  get branches() {
    return z.array(steps(1)).min(2).max(10).describe('Sequences of steps that run at the same time.');
  },
});

const conditionalStepSchema = z.object({
  kind: z.literal('conditional'),
  id: stepId,
  condition: text(500).describe('An expression over outputs of steps that finish before this one, e.g. steps.tests.output.failed == 0'),
  get then() {
    return steps(1);
  },
  get else() {
    return steps(0).optional();
  },
});

const approvalStepSchema = z.object({
  kind: z.literal('approval'),
  id: stepId,
  reason: text(1_000).describe('What the approver is asked to agree to.'),
});

export const planStepSchema: z.ZodType<PlanStep> = z
  .discriminatedUnion('kind', [taskStepSchema, parallelStepSchema, conditionalStepSchema, approvalStepSchema])
  .meta({ id: 'PlanStep' });

// The getters above run after this module has loaded, so the reference is always defined.
function planStepSchemaRef(): z.ZodType<PlanStep> {
  return planStepSchema;
}

export const planEstimateSchema = z.object({
  estimatedMs: z
    .int()
    .nonnegative()
    .max(7 * 24 * 3_600_000)
    .describe('How long the whole plan should take to run, in milliseconds.'),
  estimatedCostUsd: z.number().nonnegative().max(100_000).describe('What running the plan should cost in US dollars (model and paid runs).'),
});
export type PlanEstimate = z.infer<typeof planEstimateSchema>;

export const planComplexitySchema = z.enum(['simple', 'complex']);
export type PlanComplexity = z.infer<typeof planComplexitySchema>;

export const planPhaseSchema = z.object({ name: text(200), steps: steps(1) });
export type PlanPhase = z.infer<typeof planPhaseSchema>;

export const planSchema = z.object({
  summary: text(2_000).describe('What the plan does, in one or two sentences for the person who asked.'),
  complexity: planComplexitySchema,
  phases: z.array(planPhaseSchema).min(1).max(20),
  estimate: planEstimateSchema,
});
export type Plan = z.infer<typeof planSchema>;

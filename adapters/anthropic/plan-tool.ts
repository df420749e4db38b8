import type Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import { planSchema } from '../../domain/plan/index.ts';

// Structured output through tool use: one tool whose input schema is the plan's JSON Schema,
// and `tool_choice` forcing the model to call it, so the answer is a plan-shaped object rather
// than prose. The schema is not `strict` (Anthropic's strict tool schemas do not take the
// recursive step tree); the plan schema and validatePlan check the answer instead.

export const PLAN_TOOL_NAME = 'submit_plan';

/** The plan schema as JSON Schema (draft 2020-12), without `$schema`, which tool schemas do not need. */
export const planInputSchema = (): Anthropic.Tool.InputSchema => {
  const { $schema: _, ...schema } = z.toJSONSchema(planSchema, { io: 'input' }) as Record<string, unknown>;
  return { ...schema, type: 'object' };
};

export const planTool: Anthropic.Tool = {
  name: PLAN_TOOL_NAME,
  description: 'Submit the plan for the request: phases of steps that name only the registered task types, with their parameters.',
  input_schema: planInputSchema(),
};

export const forcePlanTool: Anthropic.ToolChoiceTool = { type: 'tool', name: PLAN_TOOL_NAME };

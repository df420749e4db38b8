import type { z } from 'zod';

// What plan validation needs to know about a task type. The registry lives in
// adapters/executors; it is handed in, so the domain never imports it. Executors satisfy
// this shape as they are.

export interface RegisteredTaskType {
  readonly taskType: string;
  readonly parameters: z.ZodType;
  /** True when running it changes something outside (code, deployments): the plan then needs approval. */
  readonly sideEffects: boolean;
}

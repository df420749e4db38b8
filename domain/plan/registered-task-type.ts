import type { z } from 'zod';
import type { TaskTypeDescriptor } from '../task-types/descriptor.ts';

// What plan validation and the planners need to know about a task type. The registry lives in
// adapters/executors; it is handed in, so the domain never imports it. Executors satisfy
// this shape as they are (each carries its type's descriptor).

export interface RegisteredTaskType extends Pick<TaskTypeDescriptor, 'taskType' | 'description' | 'estimatedMs' | 'chat'> {
  readonly parameters: z.ZodType;
  /** True when running it changes something outside (code, deployments): the plan then needs approval. */
  readonly sideEffects: boolean;
}

import { z } from 'zod';
import type { CommandAdmission } from '../../actors/runtime/aggregate-definition.ts';
import { replyTargetSchema } from '../../domain/task/fields.ts';
import type { DoorFacts } from './door-facts.ts';
import { checkTask } from './task-checks.ts';

// The task aggregate's door: a QueueTask is let in only if a worker here can run it and its
// result can be delivered (task-checks.ts). Other task commands come from the product's own
// workers and reactors about tasks already let in.

// The host parsed the command before the door runs; this only reads the fields the door needs.
const queueTask = z.object({ taskType: z.string(), pool: z.string(), payload: z.unknown(), replyTo: replyTargetSchema.optional() });

export const taskDoor =
  (facts: DoorFacts): CommandAdmission =>
  (command) => {
    if (command.type !== 'QueueTask') return undefined;
    const data = queueTask.safeParse(command.data);
    if (!data.success) return undefined;
    const { taskType, pool, payload, replyTo } = data.data;
    // Tasks of workflow steps too, with their `$from` values filled in: a refusal fails the step with its reason.
    return checkTask({ taskType, pool, params: payload, replyTo, name: 'the task', paramsAt: 'payload' }, facts);
  };

import type { Either } from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { prioritySchema, replyTargetSchema, taskErrorSchema } from './fields.ts';
import { idField, parseCommandWith, timestampField, type CommandsOf, type InvalidCommand } from '../validation.ts';

const taskCommand = z.object({ taskId: idField, at: timestampField });
/** The queue's delivery count: 1 for the first worker, n + 1 after a redelivery or retry. */
const attempt = z.int().min(1);
const retryDelayMs = z.int().nonnegative().optional();

export const taskCommandSchemas = {
  QueueTask: taskCommand.extend({
    taskType: idField,
    pool: idField,
    priority: prioritySchema.default('normal'),
    payload: z.unknown(),
    maxAttempts: z.int().min(1).max(10).default(3),
    timeoutMs: z.int().positive(),
    replyTo: replyTargetSchema.optional(),
    conversationId: idField.optional(),
    workflowId: idField.optional(),
    stepId: idField.optional(),
    requestedBy: z.string().min(1).max(200),
  }),
  AssignTask: taskCommand.extend({ workerId: idField, attempt }),
  ReportProgress: taskCommand.extend({
    attempt,
    stage: z.string().min(1).max(200),
    percent: z.number().min(0).max(100),
    details: z.string().max(2_000).optional(),
    counters: z.record(z.string(), z.number()).optional(),
  }),
  CompleteTask: taskCommand.extend({ attempt, result: z.unknown(), durationMs: z.number().nonnegative() }),
  /** `retryDelayMs` is the caller's backoff with jitter; without it the delay doubles per attempt from 1 s. */
  FailTask: taskCommand.extend({ attempt, error: taskErrorSchema, retryable: z.boolean(), retryDelayMs }),
  TimeOutTask: taskCommand.extend({ attempt, retryDelayMs }),
  CancelTask: taskCommand.extend({ reason: z.string().min(1).max(1_000), requestedBy: z.string().min(1).max(200) }),
};

export type TaskCommand = CommandsOf<typeof taskCommandSchemas>;
export type TaskCommandType = TaskCommand['type'];
export type TaskCommandOf<K extends TaskCommandType> = Extract<TaskCommand, { type: K }>;

export const parseTaskCommand = (input: unknown): Either<InvalidCommand, TaskCommand> => parseCommandWith(taskCommandSchemas, input);

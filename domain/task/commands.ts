import type { Either } from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { prioritySchema, replyTargetSchema, taskErrorSchema } from './fields.ts';
import { idField, parseCommandWith, timestampField, type CommandsOf, type InvalidCommand } from '../validation.ts';

const taskCommand = z.object({ taskId: idField, at: timestampField });
/** The queue's delivery count: 1 for the first worker, n + 1 after a redelivery or retry. */
const attempt = z.int().min(1);
const retryDelayMs = z.int().nonnegative().optional();
/** Whether running the task again could repeat what it did outside (a deploy, code edits); declared by its executor. */
const rerunSafe = z.boolean().default(true);
/** What a worker recorded about what it started outside, to check it later: e.g. `{ deployJobId: "0Af…" }`. */
export const evidenceSchema = z
  .record(z.string().min(1).max(100), z.string().max(2_000))
  .refine((e) => Object.keys(e).length <= 20, { error: 'must have at most 20 entries' });
const person = z.string().min(1).max(200);

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
  AssignTask: taskCommand.extend({ workerId: idField, attempt, rerunSafe }),
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
  TimeOutTask: taskCommand.extend({ attempt, retryDelayMs, rerunSafe }),
  RecordAttemptEvidence: taskCommand.extend({ attempt, evidence: evidenceSchema }),
  /** A person (or a worker's check of the evidence) says how an attempt whose outcome was unknown ended. */
  ResolveTaskOutcome: taskCommand.extend({
    resolution: z.enum(['rerun', 'completed', 'failed']),
    resolvedBy: person,
    via: z.enum(['person', 'check']),
    result: z.unknown().optional(),
    reason: z.string().min(1).max(1_000).optional(),
  }),
  CancelTask: taskCommand.extend({ reason: z.string().min(1).max(1_000), requestedBy: person }),
};

export type TaskCommand = CommandsOf<typeof taskCommandSchemas>;
export type TaskCommandType = TaskCommand['type'];
export type TaskCommandOf<K extends TaskCommandType> = Extract<TaskCommand, { type: K }>;

export const parseTaskCommand = (input: unknown): Either<InvalidCommand, TaskCommand> => parseCommandWith(taskCommandSchemas, input);

import { z } from 'zod';
import type { DomainEvent } from '../decider.ts';
import type { EventDataOf, EventsOf } from '../validation.ts';
import { prioritySchema, replyTargetSchema, taskErrorSchema } from './fields.ts';

// One schema per event type; the TypeScript event types are inferred from this map, so a new
// event type is one new entry here. Every event carries the task id and the command's time.
//
// A task ends with exactly one of TaskCompleted, TaskCancelled or TaskFailed { final: true }.
// An attempt that ends without ending the task (TaskFailed { final: false }, TaskTimedOut) is
// followed in the same append by TaskRetryScheduled, or by the final TaskFailed, or — when
// running it again could repeat a side effect — by TaskOutcomeUnknown, which waits for
// TaskOutcomeResolved (followed in the same append by TaskRetryScheduled, TaskCompleted or
// the final TaskFailed) or TaskCancelled.

const taskEvent = z.object({ taskId: z.string(), at: z.string() });
const evidence = z.record(z.string(), z.string());

export const taskEventSchemas = {
  TaskQueued: taskEvent.extend({
    taskType: z.string(),
    pool: z.string(),
    priority: prioritySchema,
    payload: z.unknown(),
    maxAttempts: z.int(),
    timeoutMs: z.int(),
    replyTo: replyTargetSchema.optional(),
    conversationId: z.string().optional(),
    workflowId: z.string().optional(),
    stepId: z.string().optional(),
    requestedBy: z.string(),
  }),
  /** `timesOutAt` is the due time of the attempt's timeout timer. */
  TaskAssigned: taskEvent.extend({ attempt: z.int(), workerId: z.string(), timesOutAt: z.string() }),
  TaskAttemptAbandoned: taskEvent.extend({ attempt: z.int(), workerId: z.string(), reason: z.string() }),
  /** What the running attempt started outside (e.g. `{ deployJobId }`), recorded before it waits on it. */
  TaskAttemptEvidenceRecorded: taskEvent.extend({ attempt: z.int(), evidence: evidence }),
  /** An attempt that may have had side effects ended without a known outcome; nothing runs it again until resolved. */
  TaskOutcomeUnknown: taskEvent.extend({ attempt: z.int(), workerId: z.string(), reason: z.string(), evidence: evidence.optional() }),
  TaskOutcomeResolved: taskEvent.extend({
    attempt: z.int(),
    resolution: z.enum(['rerun', 'completed', 'failed']),
    resolvedBy: z.string(),
    via: z.enum(['person', 'check']),
    reason: z.string().optional(),
  }),
  TaskProgressed: taskEvent.extend({
    attempt: z.int(),
    stage: z.string(),
    percent: z.number(),
    details: z.string().optional(),
    counters: z.record(z.string(), z.number()).optional(),
  }),
  TaskCompleted: taskEvent.extend({ attempt: z.int(), workerId: z.string(), result: z.unknown(), durationMs: z.number() }),
  TaskFailed: taskEvent.extend({ attempt: z.int(), error: taskErrorSchema, retryable: z.boolean(), final: z.boolean() }),
  TaskTimedOut: taskEvent.extend({ attempt: z.int(), workerId: z.string(), timeoutMs: z.int() }),
  TaskRetryScheduled: taskEvent.extend({ nextAttempt: z.int(), dueAt: z.string(), delayMs: z.int() }),
  TaskCancelled: taskEvent.extend({
    reason: z.string(),
    requestedBy: z.string(),
    wasRunning: z.boolean(),
    attempt: z.int().optional(),
    workerId: z.string().optional(),
  }),
};

type Schemas = typeof taskEventSchemas;
export type TaskEventType = keyof Schemas;
export type TaskEventData<K extends TaskEventType> = EventDataOf<Schemas, K>;
export type TaskEventOf<K extends TaskEventType> = DomainEvent<K, TaskEventData<K>>;
export type TaskEvent = EventsOf<Schemas>;

export const taskEventOf = <K extends TaskEventType>(type: K, data: TaskEventData<K>): TaskEventOf<K> => ({ type, data });

import { z } from 'zod';
import type { DomainEvent } from '../decider.ts';
import type { EventDataOf, EventsOf } from '../validation.ts';

// One schema per event type; the TypeScript event types are inferred from this map, so a new
// event type is one new entry here. Every event carries the conversation id and the command's time.

const conversationEvent = z.object({ conversationId: z.string(), at: z.string() });

export const messageRoleSchema = z.enum(['user', 'assistant', 'system']);
export type MessageRole = z.infer<typeof messageRoleSchema>;

export const conversationSourceSchema = z.enum(['slack', 'console']);
export type ConversationSource = z.infer<typeof conversationSourceSchema>;

export type JsonValue = z.infer<ReturnType<typeof z.json>>;

/** What a message asked for: a task (a rerun may name several), or a plan the planner made. */
export const askedForSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('task'), taskType: z.string().min(1).max(100), taskIds: z.array(z.string().min(1).max(200)).min(1).max(100) }),
  z.object({ kind: z.literal('plan'), planId: z.string().min(1).max(200) }),
]);
export type AskedFor = z.infer<typeof askedForSchema>;

export const conversationEventSchemas = {
  ConversationStarted: conversationEvent.extend({
    user: z.string(),
    channel: z.string(),
    threadTs: z.string().optional(),
    source: conversationSourceSchema,
  }),
  MessageAdded: conversationEvent.extend({
    messageId: z.string(),
    role: messageRoleSchema,
    text: z.string(),
    metadata: z.record(z.string(), z.json()).optional(),
  }),
  ContextVariableSet: conversationEvent.extend({ name: z.string(), value: z.json() }),
  /** What message `messageId` asked for, and the context variables its reading set (besides lastTaskType/lastTaskIds or lastPlanId). */
  RequestRecorded: conversationEvent.extend({ messageId: z.string(), asked: askedForSchema, context: z.record(z.string(), z.json()) }),
  MemorySummarized: conversationEvent.extend({ summary: z.string(), coversThroughMessage: z.int() }),
  ConversationArchived: conversationEvent.extend({ reason: z.string() }),
};

type Schemas = typeof conversationEventSchemas;
export type ConversationEventType = keyof Schemas;
export type ConversationEventData<K extends ConversationEventType> = EventDataOf<Schemas, K>;
export type ConversationEventOf<K extends ConversationEventType> = DomainEvent<K, ConversationEventData<K>>;
export type ConversationEvent = EventsOf<Schemas>;

export const conversationEventOf = <K extends ConversationEventType>(type: K, data: ConversationEventData<K>): ConversationEventOf<K> => ({ type, data });

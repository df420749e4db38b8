import type { Either } from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { askedForSchema, conversationSourceSchema, messageRoleSchema } from './events.ts';
import { idField, parseCommandWith, timestampField, type CommandsOf, type InvalidCommand } from '../validation.ts';

const conversationCommand = z.object({ conversationId: idField, at: timestampField });

/** Who started the thread and where: what StartConversation records. */
const threadOrigin = z.object({
  user: z.string().min(1).max(200),
  channel: z.string().min(1).max(200),
  threadTs: z.string().min(1).max(64).optional(),
  source: conversationSourceSchema,
});

const messageId = z.string().min(1).max(200);

export const conversationCommandSchemas = {
  StartConversation: conversationCommand.extend(threadOrigin.shape),
  /**
   * `messageId` is the source's own id (Slack's client message id or ts), so Slack's retries add
   * nothing. With `start`, the thread's first message starts the conversation too (one command
   * for a mention instead of two); without it, the conversation must exist.
   */
  AddMessage: conversationCommand.extend({
    messageId,
    role: messageRoleSchema,
    text: z.string().min(1).max(40_000),
    metadata: z.record(z.string(), z.json()).optional(),
    start: threadOrigin.optional(),
  }),
  /**
   * What one message of the thread asked for (a task, or a plan), with the context variables its
   * reading set: one fact that follow-ups ("now run the tests", APPROVE) resolve against.
   */
  RecordRequest: conversationCommand.extend({
    messageId,
    asked: askedForSchema,
    context: z.record(z.string().min(1).max(100), z.json()).default({}),
  }),
  /** Which names and values are allowed is a rule of the conversation (see context.ts), not of the wire format. */
  SetContextVariable: conversationCommand.extend({ name: z.string().min(1).max(100), value: z.json() }),
  /** The summary covers messages 1..coversThroughMessage, in the order they were added. */
  SummarizeMemory: conversationCommand.extend({ summary: z.string().min(1).max(40_000), coversThroughMessage: z.int().nonnegative() }),
  ArchiveConversation: conversationCommand.extend({ reason: z.string().min(1).max(1_000) }),
};

export type ConversationCommand = CommandsOf<typeof conversationCommandSchemas>;
export type ConversationCommandType = ConversationCommand['type'];
export type ConversationCommandOf<K extends ConversationCommandType> = Extract<ConversationCommand, { type: K }>;

export const parseConversationCommand = (input: unknown): Either<InvalidCommand, ConversationCommand> => parseCommandWith(conversationCommandSchemas, input);

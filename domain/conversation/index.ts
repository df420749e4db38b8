import type { Decider } from '../decider.ts';
import type { ConversationCommand } from './commands.ts';
import { decide } from './decide.ts';
import type { ConversationEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState, type ConversationState } from './state.ts';

export const conversationDecider: Decider<ConversationCommand, ConversationEvent, ConversationState> = { decide, evolve, initialState };

export {
  conversationCommandSchemas,
  parseConversationCommand,
  type ConversationCommand,
  type ConversationCommandOf,
  type ConversationCommandType,
} from './commands.ts';
export { contextOfRequest, contextVariableSchemas, isContextVariableName, type KnownContextVariable } from './context.ts';
export {
  askedForSchema,
  conversationEventOf,
  conversationEventSchemas,
  conversationSourceSchema,
  messageRoleSchema,
  type AskedFor,
  type ConversationEvent,
  type ConversationEventData,
  type ConversationEventOf,
  type ConversationEventType,
  type ConversationSource,
  type JsonValue,
  type MessageRole,
} from './events.ts';
export { longTermMemory, shortTermMemory, workingMemory } from './memory.ts';
export type { ConversationRejection, ConversationRejectionCode } from './rejections.ts';
export { initialState, type Conversation, type ConversationState, type Message } from './state.ts';
export type { InvalidCommand } from '../validation.ts';

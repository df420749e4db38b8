import {
  conversationDecider,
  parseConversationCommand,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
} from '../../domain/conversation/index.ts';
import type { AggregateDefinition } from '../runtime/aggregate-definition.ts';
import { commandCatalog } from '../../domain/commands/catalog.ts';
import { parseWithId } from './parse-with-id.ts';

export const conversationAggregate: AggregateDefinition<ConversationCommand, ConversationEvent, ConversationState> = {
  category: 'conversation',
  decider: conversationDecider,
  creates: ['StartConversation', 'AddMessage'],
  schemaVersion: 1,
  // The state is plain JSON, so the default encoding serves.
  snapshot: { version: 1 },
  parseCommand: parseWithId(commandCatalog.conversation.idField, parseConversationCommand, commandCatalog.conversation.actorFields),
};

import { conversationDecider, parseConversationCommand, type ConversationCommand, type ConversationEvent, type ConversationState } from '../../domain/conversation/index.ts';
import type { AggregateDefinition } from '../runtime/aggregate-definition.ts';
import { parseWithId } from './parse-with-id.ts';

export const conversationAggregate: AggregateDefinition<ConversationCommand, ConversationEvent, ConversationState> = {
  category: 'conversation',
  decider: conversationDecider,
  creates: ['StartConversation'],
  schemaVersion: 1,
  // The state is plain JSON, so the default encoding serves.
  snapshot: { version: 1 },
  parseCommand: parseWithId('conversationId', parseConversationCommand),
};

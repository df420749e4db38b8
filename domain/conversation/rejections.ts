import type { Rejection } from '../decider.ts';
import type { Conversation } from './state.ts';

export type ConversationRejectionCode =
  | 'ConversationNotStarted'
  | 'ConversationAlreadyStarted'
  | 'ConversationArchived'
  | 'InvalidContextVariable'
  | 'SummaryDoesNotAdvance'
  | 'SummaryBeyondLastMessage'
  | 'MessageNotInConversation';

export type ConversationRejection = Rejection<ConversationRejectionCode>;

const rejection = (code: ConversationRejectionCode, message: string): ConversationRejection => ({ code, message });

export const conversationNotStarted = (conversationId: string): ConversationRejection =>
  rejection('ConversationNotStarted', `conversation ${conversationId} has not been started`);

export const conversationAlreadyStarted = (c: Conversation): ConversationRejection =>
  rejection('ConversationAlreadyStarted', `conversation ${c.conversationId} was already started at ${c.startedAt}`);

export const conversationArchived = (c: Conversation): ConversationRejection =>
  rejection('ConversationArchived', `conversation ${c.conversationId} is archived${c.archived ? `: ${c.archived.reason}` : ''}`);

export const summaryDoesNotAdvance = (c: Conversation, through: number): ConversationRejection =>
  rejection('SummaryDoesNotAdvance', `the summary already covers messages 1..${c.summary?.coversThroughMessage ?? 0}; one through ${through} adds nothing`);

export const summaryBeyondLastMessage = (c: Conversation, through: number): ConversationRejection =>
  rejection(
    'SummaryBeyondLastMessage',
    `conversation ${c.conversationId} has ${c.messages.length} messages; a summary cannot cover through message ${through}`,
  );

export const messageNotInConversation = (c: Conversation, messageId: string): ConversationRejection =>
  rejection('MessageNotInConversation', `conversation ${c.conversationId} has no message ${messageId}; a request is recorded for one of its messages`);

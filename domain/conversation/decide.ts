import { flatMap, isLeft, left, map, right, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { match } from 'ts-pattern';
import type { Rejection } from '../decider.ts';
import type { ConversationCommand, ConversationCommandOf } from './commands.ts';
import { checkContextVariable, contextOfRequest, sameJson } from './context.ts';
import { conversationEventOf, type ConversationEvent } from './events.ts';
import {
  conversationAlreadyStarted,
  conversationArchived,
  conversationNotStarted,
  messageNotInConversation,
  summaryBeyondLastMessage,
  summaryDoesNotAdvance,
} from './rejections.ts';
import type { Conversation, ConversationState } from './state.ts';

type Decision = Either<Rejection, readonly ConversationEvent[]>;

const nothing: Decision = right([]);

export const decide = (command: ConversationCommand, state: ConversationState): Decision =>
  match(command)
    .with({ type: 'StartConversation' }, (c) => startConversation(c, state))
    .with({ type: 'AddMessage' }, (c) => addMessage(c, state))
    .with({ type: 'SetContextVariable' }, (c) => setContextVariable(c, state))
    .with({ type: 'RecordRequest' }, (c) => recordRequest(c, state))
    .with({ type: 'SummarizeMemory' }, (c) => summarizeMemory(c, state))
    .with({ type: 'ArchiveConversation' }, (c) => archiveConversation(c, state))
    .exhaustive();

const existing = (state: ConversationState, conversationId: string): Either<Rejection, Conversation> =>
  state.status === 'none' ? left(conversationNotStarted(conversationId)) : right(state);

/** An archived conversation keeps its history but takes nothing new. */
const active = (conversation: Conversation): Either<Rejection, Conversation> =>
  conversation.status === 'archived' ? left(conversationArchived(conversation)) : right(conversation);

const startConversation = ({ type: _, ...c }: ConversationCommandOf<'StartConversation'>, state: ConversationState): Decision =>
  match(state)
    .with({ status: 'none' }, () => right([conversationEventOf('ConversationStarted', c)]))
    .with({ status: 'archived' }, (s) => left(conversationArchived(s)))
    .with({ status: 'active' }, (s) => left(conversationAlreadyStarted(s)))
    .exhaustive();

/**
 * Slack retries an event it thinks went unanswered; the same message id adds nothing. A thread's
 * first message may start its conversation (`start`); once started, `start` is not looked at.
 */
const addMessage = ({ type: _, start, ...c }: ConversationCommandOf<'AddMessage'>, state: ConversationState): Decision => {
  const added = conversationEventOf('MessageAdded', c);
  if (state.status === 'none' && start)
    return right([conversationEventOf('ConversationStarted', { conversationId: c.conversationId, ...start, at: c.at }), added]);
  return pipe(
    existing(state, c.conversationId),
    flatMap(active),
    flatMap((conversation) => (conversation.messages.some((m) => m.id === c.messageId) ? nothing : right([added]))),
  );
};

/** One request per message: a replayed message records nothing more; its variables are checked like SetContextVariable's. */
const recordRequest = ({ conversationId, messageId, asked, context, at }: ConversationCommandOf<'RecordRequest'>, state: ConversationState): Decision =>
  pipe(
    existing(state, conversationId),
    flatMap(active),
    flatMap((conversation) => {
      const message = conversation.messages.find((m) => m.id === messageId);
      if (!message) return left(messageNotInConversation(conversation, messageId));
      if (message.asked) return nothing;
      const invalid = Object.entries(contextOfRequest(asked, context))
        .map(([name, value]) => checkContextVariable(name, value))
        .find(isLeft);
      return invalid ?? right([conversationEventOf('RequestRecorded', { conversationId, messageId, asked, context, at })]);
    }),
  );

const setContextVariable = ({ conversationId, name, value, at }: ConversationCommandOf<'SetContextVariable'>, state: ConversationState): Decision =>
  pipe(
    existing(state, conversationId),
    flatMap(active),
    flatMap((conversation) =>
      pipe(
        checkContextVariable(name, value),
        flatMap(() =>
          sameJson(conversation.context[name], value) ? nothing : right([conversationEventOf('ContextVariableSet', { conversationId, name, value, at })]),
        ),
      ),
    ),
  );

const summarizeMemory = ({ conversationId, summary, coversThroughMessage, at }: ConversationCommandOf<'SummarizeMemory'>, state: ConversationState): Decision =>
  pipe(
    existing(state, conversationId),
    flatMap(active),
    flatMap((conversation) =>
      coversThroughMessage > conversation.messages.length
        ? left(summaryBeyondLastMessage(conversation, coversThroughMessage))
        : coversThroughMessage <= (conversation.summary?.coversThroughMessage ?? 0)
          ? left(summaryDoesNotAdvance(conversation, coversThroughMessage))
          : right(conversation),
    ),
    map(() => [conversationEventOf('MemorySummarized', { conversationId, summary, coversThroughMessage, at })]),
  );

const archiveConversation = ({ conversationId, reason, at }: ConversationCommandOf<'ArchiveConversation'>, state: ConversationState): Decision =>
  pipe(
    existing(state, conversationId),
    flatMap((conversation) =>
      conversation.status === 'archived' ? nothing : right([conversationEventOf('ConversationArchived', { conversationId, reason, at })]),
    ),
  );

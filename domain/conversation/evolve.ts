import { match } from 'ts-pattern';
import { contextOfRequest } from './context.ts';
import type { ConversationEvent } from './events.ts';
import type { Conversation, ConversationState } from './state.ts';

export const evolve = (state: ConversationState, event: ConversationEvent): ConversationState =>
  match(event)
    .with({ type: 'ConversationStarted' }, ({ data: { at, ...started } }): Conversation => ({
      ...started,
      status: 'active',
      startedAt: at,
      messages: [],
      context: {},
    }))
    .with({ type: 'MessageAdded' }, ({ data }) =>
      onConversation(state, (c) => ({ ...c, messages: [...c.messages, { id: data.messageId, role: data.role, text: data.text, at: data.at }] })),
    )
    .with({ type: 'ContextVariableSet' }, ({ data }) => onConversation(state, (c) => ({ ...c, context: { ...c.context, [data.name]: data.value } })))
    .with({ type: 'RequestRecorded' }, ({ data }) =>
      onConversation(state, (c) => ({
        ...c,
        messages: c.messages.map((m) => (m.id === data.messageId ? { ...m, asked: data.asked } : m)),
        context: { ...c.context, ...contextOfRequest(data.asked, data.context) },
      })),
    )
    .with({ type: 'MemorySummarized' }, ({ data }) =>
      onConversation(state, (c) => ({ ...c, summary: { text: data.summary, coversThroughMessage: data.coversThroughMessage, at: data.at } })),
    )
    .with({ type: 'ConversationArchived' }, ({ data }) =>
      onConversation(state, (c) => ({ ...c, status: 'archived', archived: { reason: data.reason, at: data.at } })),
    )
    .exhaustive();

/** Events other than ConversationStarted only ever follow it; a stray one leaves the state as it was. */
const onConversation = (state: ConversationState, change: (c: Conversation) => Conversation): ConversationState =>
  state.status === 'none' ? state : change(state);

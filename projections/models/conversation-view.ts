import { match } from 'ts-pattern';
import type { ConversationEvent, ConversationEventData, ConversationSource, JsonValue, MessageRole } from '../../domain/conversation/events.ts';
import { contextOfRequest } from '../../domain/conversation/context.ts';
import type { ProjectionDefinition } from '../runtime/projection.ts';
import { CONVERSATION_CATEGORY, conversationEventIn } from '../../domain/events/typed-events.ts';

// Read model: one document per conversation, keyed by conversation id: the thread as a front
// end shows it (CM1, CM2). Only the latest messages are kept so a document stays small however
// long the thread runs; `messageCount` counts every message ever added, so message n of a
// summary's coverage is still identifiable. Every event counts as activity.

/** Enough for working and short-term memory and a screenful of history. */
export const MESSAGES_KEPT = 200;

export interface MessageView {
  readonly messageId: string;
  readonly role: MessageRole;
  readonly text: string;
  readonly at: string;
}

export type ConversationView = {
  readonly conversationId: string;
  readonly user: string;
  readonly channel: string;
  readonly threadTs?: string;
  readonly source: ConversationSource;
  readonly status: 'active' | 'archived';
  readonly startedAt: string;
  /** The last MESSAGES_KEPT messages, oldest first. */
  readonly messages: readonly MessageView[];
  readonly messageCount: number;
  readonly context: Readonly<Record<string, JsonValue>>;
  readonly summary?: { readonly text: string; readonly coversThroughMessage: number };
  readonly archived?: { readonly reason: string; readonly at: string };
  readonly lastActivity: string;
};

export const conversationView: ProjectionDefinition = {
  name: 'conversation-view',
  version: 1,
  description: 'Per conversation: who and where, the latest messages, context variables, summary and status.',
  category: CONVERSATION_CATEGORY,
  async apply(recorded, view) {
    const typed = conversationEventIn(recorded);
    if (typed === undefined) return [];
    const before = (await view.get(typed.id)) as ConversationView | undefined;
    const after = viewAfter(before, typed.event);
    return after === undefined ? [] : [{ key: typed.id, doc: after }];
  },
};

/** Undefined when the event changes nothing: a conversation started twice, or anything for an unknown one. */
function viewAfter(doc: ConversationView | undefined, event: ConversationEvent): ConversationView | undefined {
  if (event.type === 'ConversationStarted') return doc === undefined ? started(event.data) : undefined;
  if (doc === undefined) return undefined;
  return match(event)
    .returnType<ConversationView | undefined>()
    .with({ type: 'MessageAdded' }, ({ data }) => ({
      ...doc,
      messages: [...doc.messages, { messageId: data.messageId, role: data.role, text: data.text, at: data.at }].slice(-MESSAGES_KEPT),
      messageCount: doc.messageCount + 1,
      lastActivity: data.at,
    }))
    .with({ type: 'ContextVariableSet' }, ({ data }) => ({ ...doc, context: { ...doc.context, [data.name]: data.value }, lastActivity: data.at }))
    .with({ type: 'RequestRecorded' }, ({ data }) => ({
      ...doc,
      context: { ...doc.context, ...contextOfRequest(data.asked, data.context) },
      lastActivity: data.at,
    }))
    .with({ type: 'MemorySummarized' }, ({ data }) => ({
      ...doc,
      summary: { text: data.summary, coversThroughMessage: data.coversThroughMessage },
      lastActivity: data.at,
    }))
    .with({ type: 'ConversationArchived' }, ({ data }) => ({
      ...doc,
      status: 'archived',
      archived: { reason: data.reason, at: data.at },
      lastActivity: data.at,
    }))
    .exhaustive();
}

const started = ({ at, ...conversation }: ConversationEventData<'ConversationStarted'>): ConversationView => ({
  ...conversation,
  status: 'active',
  startedAt: at,
  messages: [],
  messageCount: 0,
  context: {},
  lastActivity: at,
});

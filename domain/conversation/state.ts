import type { AskedFor, ConversationSource, JsonValue, MessageRole } from './events.ts';

export interface Message {
  readonly id: string;
  readonly role: MessageRole;
  readonly text: string;
  readonly at: string;
  /** What this message asked for, once recorded (RequestRecorded). */
  readonly asked?: AskedFor;
}

export interface Conversation {
  readonly status: 'active' | 'archived';
  readonly conversationId: string;
  readonly user: string;
  readonly channel: string;
  readonly threadTs?: string;
  readonly source: ConversationSource;
  readonly startedAt: string;
  /** In the order they were added; message n of a summary's coverage is `messages[n - 1]`. */
  readonly messages: readonly Message[];
  readonly context: Readonly<Record<string, JsonValue>>;
  /** Long-term memory: key points of messages 1..coversThroughMessage. */
  readonly summary?: { readonly text: string; readonly coversThroughMessage: number; readonly at: string };
  readonly archived?: { readonly reason: string; readonly at: string };
}

export type ConversationState = { readonly status: 'none' } | Conversation;

export const initialState = (): ConversationState => ({ status: 'none' });

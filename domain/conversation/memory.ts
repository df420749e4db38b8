import type { Message, ConversationState } from './state.ts';

// Memory policy (CM2): working memory is the last few messages, short-term memory the last
// hour, long-term memory the summary; `now` comes from the caller, never from a clock.

const messagesOf = (state: ConversationState): readonly Message[] => (state.status === 'none' ? [] : state.messages);

/** The last `count` messages, oldest first. */
export const workingMemory = (state: ConversationState, count = 10): readonly Message[] => (count > 0 ? messagesOf(state).slice(-count) : []);

/** Messages added within `windowMs` before `now`, oldest first. */
export const shortTermMemory = (state: ConversationState, now: string, windowMs = 3_600_000): readonly Message[] => {
  const since = Date.parse(now) - windowMs;
  return messagesOf(state).filter((m) => Date.parse(m.at) >= since);
};

/** The summary of the messages it covers, if one has been made. */
export const longTermMemory = (state: ConversationState): string | undefined => (state.status === 'none' ? undefined : state.summary?.text);

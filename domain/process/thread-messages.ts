import type { ConversationSource } from '../conversation/index.ts';
import type { MessageRef, PostMarker } from '../ports/chat-poster.ts';
import type { ReplyDocument } from '../replies/reply-document.ts';
import { describeAnswer, type CommandAnswer, type Intent } from './process-manager.ts';

// The messages a manager keeps in a thread and redraws later (a plan preview, a workflow's
// status, a gate, an unknown outcome), as decisions over data. Each message has a delivery id
// and its own Delivery: before the first post it is looked up (recorded, or found by the marker
// it carries after a crash between posting and recording); a message never posted is begun on
// the Delivery, posted, and where it landed recorded. A message already shown is redrawn in
// place; the latest drawing wins while a post is on its way. `update-only` never posts: a
// decision on a message never shown has nothing to redraw. A thread that cannot be written any
// more is given up on; a call that kept failing is forgotten, so the next event tries again.
// The thread itself is located once per key (a conversation's thread never moves).

/** Where a thread is: which front end's (by the conversation's source), and the thread in it. */
export interface Thread {
  readonly source: ConversationSource;
  readonly channel: string;
  readonly threadTs: string;
}

/** How a key finds its thread: its conversation's, or one it names itself (a task answering in Slack). */
export type ThreadOrigin = { readonly conversationId: string } | { readonly thread: Thread };

export type ShowMode = 'post' | 'update-only';

export interface Show {
  readonly deliveryId: string;
  readonly document: ReplyDocument;
  readonly mode: ShowMode;
  readonly marker: PostMarker['kind'];
}

export type ThreadEffect =
  /** Reply: `located`. */
  | { readonly type: 'locate'; readonly conversationId: string }
  /** The delivery's message if posted before: as recorded on its Delivery, or found by its marker. Reply: `looked-up`. */
  | { readonly type: 'look-up'; readonly deliveryId: string; readonly thread: Thread; readonly marker: PostMarker }
  /** Reply: `posted`, `gone` or `failed`. */
  | { readonly type: 'post'; readonly deliveryId: string; readonly thread: Thread; readonly document: ReplyDocument; readonly marker: PostMarker }
  /** Reply: `updated`, `gone` or `failed`. */
  | { readonly type: 'update'; readonly deliveryId: string; readonly thread: Thread; readonly message: MessageRef; readonly document: ReplyDocument }
  | { readonly type: 'report'; readonly level: 'warn' | 'error'; readonly deliveryId: string; readonly message: string };

/** What the chat port answered an effect. */
export type ChatAnswer =
  | { readonly kind: 'located'; readonly thread?: Thread }
  | { readonly kind: 'looked-up'; readonly message?: MessageRef; readonly recorded: boolean }
  | { readonly kind: 'posted'; readonly message: MessageRef }
  | { readonly kind: 'updated' }
  /** The thread or message cannot be written any more: trying again cannot help. */
  | { readonly kind: 'gone'; readonly code: string }
  /** Still failing after the port's retries. */
  | { readonly kind: 'failed'; readonly error: string };

export type ThreadReply = CommandAnswer | ChatAnswer;

type Located =
  | { readonly status: 'unknown' }
  | { readonly status: 'locating'; readonly pending: readonly Show[] }
  | { readonly status: 'found'; readonly thread: Thread }
  | { readonly status: 'none' };

export type Kept =
  | { readonly phase: 'looking-up'; readonly show: Show }
  | { readonly phase: 'beginning'; readonly show: Show }
  | { readonly phase: 'posting'; readonly show: Show; readonly sent: ReplyDocument }
  | { readonly phase: 'shown'; readonly message: MessageRef }
  /** Looked up and never posted; an `update-only` leaves it so, a `post` begins it. */
  | { readonly phase: 'absent' }
  | { readonly phase: 'given-up' };

export interface ThreadMessages {
  readonly located: Located;
  readonly kept: Readonly<Record<string, Kept>>;
}

export const noThreadMessages = (): ThreadMessages => ({ located: { status: 'unknown' }, kept: {} });

export interface Step<S, E = ThreadEffect> {
  readonly state: S;
  readonly intents: readonly Intent<E>[];
}

const effect = (e: ThreadEffect, wantsReply = true): Intent<ThreadEffect> => ({
  kind: 'effect',
  key: e.type === 'locate' ? `locate-${e.conversationId}` : `${e.type}-${e.deliveryId}`,
  effect: e,
  ...(wantsReply && { wantsReply }),
});

const markerOf = (show: Show): PostMarker => ({ kind: show.marker, deliveryId: show.deliveryId });

/** Shows each message in turn, threading the state through. */
export function showAll(state: ThreadMessages, origin: ThreadOrigin, shows: readonly Show[]): Step<ThreadMessages> {
  const intents: Intent<ThreadEffect>[] = [];
  for (const show of shows) {
    const step = showOne(state, origin, show);
    state = step.state;
    intents.push(...step.intents);
  }
  return { state, intents };
}

function showOne(state: ThreadMessages, origin: ThreadOrigin, show: Show): Step<ThreadMessages> {
  const { located } = state;
  if (located.status === 'none') return { state, intents: [] };
  if (located.status === 'locating') return { state: { ...state, located: { status: 'locating', pending: [...located.pending, show] } }, intents: [] };
  if (located.status === 'unknown') {
    if ('thread' in origin) return showIn({ ...state, located: { status: 'found', thread: origin.thread } }, origin.thread, show);
    return {
      state: { ...state, located: { status: 'locating', pending: [show] } },
      intents: [effect({ type: 'locate', conversationId: origin.conversationId })],
    };
  }
  return showIn(state, located.thread, show);
}

function showIn(state: ThreadMessages, thread: Thread, show: Show): Step<ThreadMessages> {
  const kept = state.kept[show.deliveryId];
  const keep = (next: Kept, intents: Intent<ThreadEffect>[] = []): Step<ThreadMessages> => ({
    state: { ...state, kept: { ...state.kept, [show.deliveryId]: next } },
    intents,
  });
  if (kept === undefined)
    return keep({ phase: 'looking-up', show }, [effect({ type: 'look-up', deliveryId: show.deliveryId, thread, marker: markerOf(show) })]);
  switch (kept.phase) {
    case 'looking-up':
    case 'beginning':
      // The latest drawing wins; a post asked for while an update-only looks it up makes it a post.
      return keep({ ...kept, show: { ...show, mode: kept.show.mode === 'post' ? 'post' : show.mode } });
    case 'posting':
      return keep({ ...kept, show: { ...show, mode: 'post' } });
    case 'shown':
      return { state, intents: [effect({ type: 'update', deliveryId: show.deliveryId, thread, message: kept.message, document: show.document })] };
    case 'absent':
      return show.mode === 'post' ? begin(state, thread, show) : { state, intents: [] };
    case 'given-up':
      return { state, intents: [] };
  }
}

function begin(state: ThreadMessages, thread: Thread, show: Show): Step<ThreadMessages> {
  return {
    state: { ...state, kept: { ...state.kept, [show.deliveryId]: { phase: 'beginning', show } } },
    intents: [
      {
        kind: 'command',
        category: 'delivery',
        id: show.deliveryId,
        commandId: `begin-message-${show.deliveryId}`,
        type: 'BeginProgressMessage',
        wantsReply: true,
        data: { channel: thread.channel, threadTs: thread.threadTs },
      },
    ],
  };
}

/** Records where a message of a thread was posted, on its Delivery; the answer comes back as a reply. */
export const recordMessage = (deliveryId: string, message: MessageRef): Intent<ThreadEffect> => ({
  kind: 'command',
  category: 'delivery',
  id: deliveryId,
  commandId: `message-posted-${deliveryId}`,
  type: 'RecordProgressMessage',
  wantsReply: true,
  data: { channel: message.channel, ts: message.ts },
});

/** What an answer to one of this machine's intents changes; undefined for an intent it did not send. */
export function onThreadReply(state: ThreadMessages, origin: ThreadOrigin, intent: Intent<ThreadEffect>, reply: ThreadReply): Step<ThreadMessages> | undefined {
  if (intent.kind === 'effect') {
    const e = intent.effect;
    const answer = reply as ChatAnswer;
    if (e.type === 'locate') {
      if (answer.kind !== 'located') return undefined;
      const pending = state.located.status === 'locating' ? state.located.pending : [];
      if (!answer.thread) return { state: { ...state, located: { status: 'none' } }, intents: [] };
      return showAll({ ...state, located: { status: 'found', thread: answer.thread } }, origin, pending);
    }
    if (e.type === 'report') return undefined;
    return onChatAnswer(state, e, answer);
  }
  if (intent.category !== 'delivery') return undefined;
  const answer = reply as CommandAnswer;
  const deliveryId = intent.id;
  const kept = state.kept[deliveryId];
  if (intent.type === 'BeginProgressMessage') {
    if (kept?.phase !== 'beginning' || state.located.status !== 'found') return { state, intents: [] };
    if (answer.status !== 'accepted') return giveUp(state, deliveryId, 'error', `could not begin the message: ${describeAnswer(answer)}`);
    const { show } = kept;
    return {
      state: { ...state, kept: { ...state.kept, [deliveryId]: { phase: 'posting', show, sent: show.document } } },
      intents: [effect({ type: 'post', deliveryId, thread: state.located.thread, document: show.document, marker: markerOf(show) })],
    };
  }
  if (answer.status === 'accepted') return { state, intents: [] };
  return { state, intents: [report('warn', deliveryId, `could not record the posted message: ${describeAnswer(answer)}`)] };
}

function onChatAnswer(state: ThreadMessages, e: Exclude<ThreadEffect, { type: 'locate' | 'report' }>, answer: ChatAnswer): Step<ThreadMessages> {
  const { deliveryId } = e;
  const kept = state.kept[deliveryId];
  const keep = (next: Kept | undefined, intents: Intent<ThreadEffect>[] = []): Step<ThreadMessages> => {
    const { [deliveryId]: _, ...others } = state.kept;
    return { state: { ...state, kept: next === undefined ? others : { ...others, [deliveryId]: next } }, intents };
  };
  if (answer.kind === 'gone') return giveUp(state, deliveryId, 'warn', `the thread cannot be written any more (${answer.code}); giving up on this message`);
  // Forgotten, so the next drawing of this message starts again with a look-up.
  if (answer.kind === 'failed') return keep(undefined, [report('error', deliveryId, `could not write to the thread: ${answer.error}`)]);
  if (e.type === 'look-up' && answer.kind === 'looked-up' && kept?.phase === 'looking-up') {
    const { show } = kept;
    if (answer.message) {
      const update = effect({ type: 'update', deliveryId, thread: e.thread, message: answer.message, document: show.document });
      return keep({ phase: 'shown', message: answer.message }, answer.recorded ? [update] : [recordMessage(deliveryId, answer.message), update]);
    }
    if (show.mode === 'update-only') return keep({ phase: 'absent' });
    return begin(state, e.thread, show);
  }
  if (e.type === 'post' && answer.kind === 'posted' && kept?.phase === 'posting') {
    const redraw =
      kept.show.document !== kept.sent ? [effect({ type: 'update', deliveryId, thread: e.thread, message: answer.message, document: kept.show.document })] : [];
    return keep({ phase: 'shown', message: answer.message }, [recordMessage(deliveryId, answer.message), ...redraw]);
  }
  return { state, intents: [] };
}

function giveUp(state: ThreadMessages, deliveryId: string, level: 'warn' | 'error', message: string): Step<ThreadMessages> {
  return { state: { ...state, kept: { ...state.kept, [deliveryId]: { phase: 'given-up' } } }, intents: [report(level, deliveryId, message)] };
}

const report = (level: 'warn' | 'error', deliveryId: string, message: string): Intent<ThreadEffect> =>
  effect({ type: 'report', level, deliveryId, message }, false);

/** The message posted for a delivery, once known. */
export const shownMessage = (state: ThreadMessages, deliveryId: string): MessageRef | undefined => {
  const kept = state.kept[deliveryId];
  return kept?.phase === 'shown' ? kept.message : undefined;
};

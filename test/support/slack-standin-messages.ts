// TEST FIXTURE ONLY: what the Slack Web API stand-in (slack-web-api-standin.ts) remembers
// about the workspace: messages per channel with their edits, threads, reactions and file
// shares; ephemeral messages; uploaded files. Shapes follow Slack's documented message
// objects (as `conversations.replies` / `conversations.history` return them), so a test
// reads a thread the way a person would see it in Slack, latest edits applied.
import { compareSlackTs, nextSlackTs, observeSlackTs } from './slack-workspace.ts';

/** A message as Slack returns it from `conversations.replies` (latest edit applied). */
export interface SlackMessageView {
  readonly type: 'message';
  readonly ts: string;
  readonly user: string;
  readonly bot_id?: string;
  readonly text: string;
  readonly blocks?: unknown;
  readonly attachments?: unknown;
  readonly metadata?: unknown;
  readonly thread_ts?: string;
  readonly reply_count?: number;
  readonly latest_reply?: string;
  readonly edited?: { readonly user: string; readonly ts: string };
  readonly files?: readonly { readonly id: string; readonly name: string; readonly title: string }[];
  readonly reactions?: readonly { readonly name: string; readonly users: readonly string[]; readonly count: number }[];
}

export interface StoredMessage {
  readonly channel: string;
  readonly ts: string;
  readonly user: string;
  readonly botId?: string;
  readonly threadTs?: string;
  /** Thread replies posted with `reply_broadcast` also show in the channel. */
  readonly broadcast: boolean;
  text: string;
  blocks?: unknown;
  attachments?: unknown;
  metadata?: unknown;
  files?: { id: string; name: string; title: string }[];
  reactions: { name: string; users: string[] }[];
  /** How many times `chat.update` (or a `replace_original` response) changed it. */
  edits: number;
  edited?: { user: string; ts: string };
}

export interface EphemeralMessage {
  readonly channel: string;
  readonly user: string;
  readonly messageTs: string;
  readonly threadTs?: string;
  readonly text: string;
  readonly blocks?: unknown;
}

export interface UploadedFile {
  readonly id: string;
  readonly filename: string;
  readonly declaredLength: number;
  title?: string;
  bytes?: Buffer;
  completed: boolean;
  sharedTo: { channel: string; threadTs?: string }[];
}

export interface MessageContent {
  readonly text?: string;
  readonly blocks?: unknown;
  readonly attachments?: unknown;
  readonly metadata?: unknown;
}

export class StandInMessages {
  private readonly byChannel = new Map<string, StoredMessage[]>();
  readonly ephemerals: EphemeralMessage[] = [];
  readonly files = new Map<string, UploadedFile>();

  post(message: { channel: string; user: string; botId?: string; threadTs?: string; broadcast?: boolean; ts?: string } & MessageContent): StoredMessage {
    if (message.ts !== undefined) observeSlackTs(message.ts);
    const stored: StoredMessage = {
      channel: message.channel,
      ts: message.ts ?? nextSlackTs(),
      user: message.user,
      ...(message.botId !== undefined ? { botId: message.botId } : {}),
      ...(message.threadTs !== undefined ? { threadTs: message.threadTs } : {}),
      broadcast: message.broadcast ?? false,
      text: message.text ?? '',
      blocks: message.blocks,
      attachments: message.attachments,
      metadata: message.metadata,
      reactions: [],
      edits: 0,
    };
    const list = this.byChannel.get(message.channel) ?? [];
    list.push(stored);
    list.sort((a, b) => compareSlackTs(a.ts, b.ts));
    this.byChannel.set(message.channel, list);
    return stored;
  }

  find(channel: string, ts: string): StoredMessage | undefined {
    return this.byChannel.get(channel)?.find((m) => m.ts === ts);
  }

  /** Replaces the given parts, as `chat.update` does: parts not sent stay as they were. */
  edit(message: StoredMessage, content: MessageContent, editedBy: string): void {
    if (content.text !== undefined) message.text = content.text;
    if (content.blocks !== undefined) message.blocks = content.blocks;
    if (content.attachments !== undefined) message.attachments = content.attachments;
    if (content.metadata !== undefined) message.metadata = content.metadata;
    message.edits += 1;
    message.edited = { user: editedBy, ts: nextSlackTs() };
  }

  delete(message: StoredMessage): void {
    const list = this.byChannel.get(message.channel) ?? [];
    this.byChannel.set(
      message.channel,
      list.filter((m) => m !== message),
    );
  }

  /** The parent (when known) and its replies, oldest first: the thread as Slack shows it. */
  thread(channel: string, threadTs: string): StoredMessage[] {
    return (this.byChannel.get(channel) ?? []).filter((m) => m.ts === threadTs || m.threadTs === threadTs);
  }

  /** What the channel itself shows: top-level messages and broadcast replies, oldest first. */
  channel(channel: string): StoredMessage[] {
    return (this.byChannel.get(channel) ?? []).filter((m) => m.threadTs === undefined || m.threadTs === m.ts || m.broadcast);
  }

  view(message: StoredMessage): SlackMessageView {
    const replies = message.threadTs === undefined || message.threadTs === message.ts ? this.repliesTo(message) : [];
    const threadTs = message.threadTs ?? (replies.length > 0 ? message.ts : undefined);
    return {
      type: 'message',
      ts: message.ts,
      user: message.user,
      ...(message.botId !== undefined ? { bot_id: message.botId } : {}),
      text: message.text,
      ...(message.blocks !== undefined ? { blocks: message.blocks } : {}),
      ...(message.attachments !== undefined ? { attachments: message.attachments } : {}),
      ...(message.metadata !== undefined ? { metadata: message.metadata } : {}),
      ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
      ...(replies.length > 0 ? { reply_count: replies.length, latest_reply: replies[replies.length - 1]!.ts } : {}),
      ...(message.edited !== undefined ? { edited: { ...message.edited } } : {}),
      ...(message.files !== undefined ? { files: message.files.map((f) => ({ ...f })) } : {}),
      ...(message.reactions.length > 0 ? { reactions: message.reactions.map((r) => ({ name: r.name, users: [...r.users], count: r.users.length })) } : {}),
    };
  }

  clear(): void {
    this.byChannel.clear();
    this.ephemerals.length = 0;
    this.files.clear();
  }

  private repliesTo(parent: StoredMessage): StoredMessage[] {
    return (this.byChannel.get(parent.channel) ?? []).filter((m) => m.threadTs === parent.ts && m.ts !== parent.ts);
  }
}

/** The delivery marker the product puts in its messages' metadata (kind and delivery id), if any. */
export const markerOf = (m: SlackMessageView): { kind?: string; deliveryId?: string } | undefined =>
  (m.metadata as { event_payload?: { kind?: string; deliveryId?: string } } | undefined)?.event_payload;

/** A message's text and blocks as one string, for `toContain` checks. */
export const textOf = (m: SlackMessageView): string => JSON.stringify([m.text, m.blocks]);

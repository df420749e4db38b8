import type { ReplyDocument } from '../replies/reply-document.ts';

// What the reactors need from a chat front end (Slack): post into a thread, edit a message in
// place, and find a message posted earlier by its marker. The marker travels with the message
// (Slack message metadata), so after a crash between posting and recording the post, the
// reactor finds the message instead of posting it twice.

export interface ThreadRef {
  readonly channel: string;
  readonly threadTs: string;
}

export interface MessageRef {
  readonly channel: string;
  readonly ts: string;
}

/** Which delivery a message belongs to. */
export interface PostMarker {
  readonly kind: 'progress' | 'result' | 'notice';
  readonly deliveryId: string;
}

export interface PostedMessage extends MessageRef {
  /** Files attached after the message (output too long for one message). */
  readonly fileIds?: readonly string[];
}

export interface ChatPoster {
  post(thread: ThreadRef, document: ReplyDocument, marker: PostMarker): Promise<PostedMessage>;
  update(message: MessageRef, document: ReplyDocument): Promise<void>;
  findPosted(thread: ThreadRef, marker: PostMarker): Promise<PostedMessage | undefined>;
}

/** The chat service asked us to wait (Slack: HTTP 429 with Retry-After). */
export class ChatRateLimited extends Error {
  override readonly name = 'ChatRateLimited';
  constructor(readonly retryAfterMs: number) {
    super(`rate limited; retry after ${retryAfterMs} ms`);
  }
}

/** The message or channel is gone, or we may not write there: trying again cannot help. */
export class ChatTargetGone extends Error {
  override readonly name = 'ChatTargetGone';
  constructor(readonly code: string) {
    super(`the chat target cannot be written: ${code}`);
  }
}

import type { ChatPoster, MessageRef, PostedMessage, PostMarker, ThreadRef } from '../../domain/ports/chat-poster.ts';
import type { ReplyDocument } from '../../domain/replies/reply-document.ts';

// The thread notifier's ChatPoster for console sessions: a notice (a plan preview, a gate, a
// workflow's status) is published on the session's results subject, where the console prints
// it. A terminal keeps no messages to edit or search, so a redraw is published again as an
// update, and nothing posted earlier can be found (a notice lost in a crash is posted again).

/** What a console session receives besides task results. */
export interface ConsoleNotice {
  readonly kind: 'notice';
  readonly deliveryId: string;
  readonly update: boolean;
  readonly document: ReplyDocument;
}

export const consoleResultsSubject = (prefix: string, channel: string): string => `${prefix}.console.${channel}.results`;

export class ConsoleNoticePoster implements ChatPoster {
  constructor(
    private readonly prefix: string,
    private readonly publish: (subject: string, payload: Uint8Array) => void,
  ) {}

  async post(thread: ThreadRef, document: ReplyDocument, marker: PostMarker): Promise<PostedMessage> {
    this.send(thread.channel, { kind: 'notice', deliveryId: marker.deliveryId, update: false, document });
    // The delivery id stands in for a message ts: it is what an update needs to name the notice.
    return { channel: thread.channel, ts: marker.deliveryId };
  }

  async update(message: MessageRef, document: ReplyDocument): Promise<void> {
    this.send(message.channel, { kind: 'notice', deliveryId: message.ts, update: true, document });
  }

  async findPosted(): Promise<PostedMessage | undefined> {
    return undefined;
  }

  private send(channel: string, notice: ConsoleNotice): void {
    this.publish(consoleResultsSubject(this.prefix, channel), new TextEncoder().encode(JSON.stringify(notice)));
  }
}

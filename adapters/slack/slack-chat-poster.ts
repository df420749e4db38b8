import { ErrorCode, WebClient, type WebAPIPlatformError, type WebAPIRateLimitedError } from '@slack/web-api';
import {
  ChatRateLimited,
  ChatTargetGone,
  type ChatPoster,
  type MessageRef,
  type PostedMessage,
  type PostMarker,
  type ThreadRef,
} from '../../domain/ports/chat-poster.ts';
import type { ReplyDocument } from '../../domain/replies/reply-document.ts';
import { scrubValueWith, secretScrubber, type Scrub } from '../../domain/secrets/scrub-secrets.ts';
import { toBlockKit } from './block-kit.ts';

// The reactors' ChatPoster on Slack's Web API. Rate limits come back to the caller as
// ChatRateLimited (the reactors pace and coalesce themselves, so the client must not sit on a
// request), and the delivery marker rides along as message metadata, which
// conversations.replies returns with `include_all_metadata`. The reply document is scrubbed
// before it is rendered: known secret values and credential shapes never reach Slack.

export const MARKER_EVENT_TYPE = 'orchestrator_delivery';

/** Errors after which writing to that message or channel cannot succeed. */
const GONE = new Set([
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'message_not_found',
  'cant_update_message',
  'thread_not_found',
  'restricted_action',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'missing_scope',
]);

export function slackWebClient(token: string, apiUrl: string): WebClient {
  return new WebClient(token, {
    slackApiUrl: apiUrl,
    rejectRateLimitedCalls: true,
    // Network errors and 5xx only; a few quick tries, then the reactor's own backoff.
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000 },
  });
}

export class SlackChatPoster implements ChatPoster {
  private readonly scrub: Scrub;

  /** `secretValues`: what to hide besides credential shapes (from `secretValuesOf(config)`). */
  constructor(
    private readonly client: WebClient,
    secretValues: readonly string[] = [],
  ) {
    this.scrub = secretScrubber(secretValues);
  }

  /** Scrubbed before rendering, so Block Kit's length limits apply to what is really sent. */
  private render(document: ReplyDocument): ReturnType<typeof toBlockKit> {
    return toBlockKit(scrubValueWith(document, this.scrub));
  }

  async post(thread: ThreadRef, document: ReplyDocument, marker: PostMarker): Promise<PostedMessage> {
    const { text, blocks, overflow } = this.render(document);
    const answer = await this.call(() =>
      this.client.chat.postMessage({
        channel: thread.channel,
        thread_ts: thread.threadTs,
        text,
        blocks,
        unfurl_links: false,
        metadata: { event_type: MARKER_EVENT_TYPE, event_payload: { kind: marker.kind, deliveryId: marker.deliveryId } },
      } as Parameters<WebClient['chat']['postMessage']>[0]),
    );
    const posted: PostedMessage = { channel: answer.channel ?? thread.channel, ts: answer.ts! };
    if (!overflow) return posted;
    const upload = await this.call(() =>
      this.client.filesUploadV2({
        channel_id: thread.channel,
        thread_ts: thread.threadTs,
        filename: overflow.filename,
        content: overflow.content,
        title: overflow.filename,
      }),
    );
    const fileIds = ((upload as { files?: { files?: { id?: string }[] }[] }).files ?? []).flatMap((f) =>
      (f.files ?? []).flatMap((file) => (file.id ? [file.id] : [])),
    );
    return { ...posted, fileIds };
  }

  async update(message: MessageRef, document: ReplyDocument): Promise<void> {
    const { text, blocks } = this.render(document);
    await this.call(() => this.client.chat.update({ channel: message.channel, ts: message.ts, text, blocks } as Parameters<WebClient['chat']['update']>[0]));
  }

  async findPosted(thread: ThreadRef, marker: PostMarker): Promise<PostedMessage | undefined> {
    let cursor: string | undefined;
    do {
      let page;
      try {
        page = await this.call(() =>
          this.client.conversations.replies({
            channel: thread.channel,
            ts: thread.threadTs,
            include_all_metadata: true,
            limit: 200,
            ...(cursor ? { cursor } : {}),
          }),
        );
      } catch (error) {
        if (error instanceof ChatTargetGone && error.code === 'thread_not_found') return undefined;
        throw error;
      }
      for (const message of page.messages ?? []) {
        const metadata = (message as { metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }).metadata;
        if (
          metadata?.event_type === MARKER_EVENT_TYPE &&
          metadata.event_payload?.kind === marker.kind &&
          metadata.event_payload?.deliveryId === marker.deliveryId &&
          message.ts
        ) {
          return { channel: thread.channel, ts: message.ts };
        }
      }
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return undefined;
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw translate(error);
    }
  }
}

function translate(error: unknown): unknown {
  const code = (error as { code?: string }).code;
  if (code === ErrorCode.RateLimitedError) return new ChatRateLimited(Math.max(1, (error as WebAPIRateLimitedError).retryAfter) * 1_000);
  if (code === ErrorCode.PlatformError) {
    const slackError = (error as WebAPIPlatformError).data.error;
    if (GONE.has(slackError)) return new ChatTargetGone(slackError);
    if (slackError === 'ratelimited') return new ChatRateLimited(1_000);
  }
  return error;
}

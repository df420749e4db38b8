/**
 * TEST FIXTURE ONLY: requests into a Bolt HTTP receiver exactly as Slack sends them, for tests.
 *
 * Follows Slack's documented wire format:
 * - Signing (docs.slack.dev/authentication/verifying-requests-from-slack): header
 *   `X-Slack-Request-Timestamp: <unix seconds>` and `X-Slack-Signature: v0=<hex HMAC-SHA256 of
 *   "v0:<timestamp>:<raw body>" keyed with the signing secret>`.
 * - Events API: a JSON `event_callback` envelope (`team_id`, `api_app_id`, `event`, `event_id`,
 *   `event_time`, `authorizations`); redeliveries carry the same `event_id` plus
 *   `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`; `url_verification` carries a `challenge`.
 * - Slash commands: `application/x-www-form-urlencoded` fields (`command`, `text`, `user_id`,
 *   `channel_id`, `trigger_id`, `response_url`, ...).
 * - Interactivity: form-encoded `payload=<JSON>` of type `block_actions` (`actions[]`, `user`,
 *   `container`, `channel`, `message`, `response_url`, ...).
 *
 * Ids default to the fictional workspace in slack-workspace.ts, which the Web API stand-in
 * also answers for. Given that stand-in, the sender also records each user message it sends
 * there (as Slack would have stored it) and points `response_url`s at it, so nothing leaves
 * 127.0.0.1.
 *
 * What it cannot prove: Slack's delivery behaviour (timeouts, retry schedule, ordering),
 * Socket Mode, payload fields this file does not build, and real signing-secret handling.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { SlackWebApiStandIn } from './slack-web-api-standin.ts';
import { nextSlackTs, standInWorkspace as ws } from './slack-workspace.ts';

// ── signing ─────────────────────────────────────────────────────────────────

export const slackSignature = (signingSecret: string, timestampSeconds: number, rawBody: string): string =>
  `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${rawBody}`).digest('hex')}`;

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A request timestamp `minutes` in the past: Bolt refuses anything older than five. */
export const staleTimestamp = (minutes = 6): number => nowSeconds() - minutes * 60;

/** Well-formed but wrong. */
export const badSignature = `v0=${'0'.repeat(64)}`;

export interface SendOptions {
  /** Signed and sent as `X-Slack-Request-Timestamp`; default now. */
  readonly timestampSeconds?: number;
  /** Replaces the computed signature; `null` sends neither Slack header (an unsigned request). */
  readonly signature?: string | null;
  /** Marks a redelivery, as Slack does when the first one was not acknowledged in time. */
  readonly retry?: { readonly num: number; readonly reason: 'http_timeout' | 'http_error' | 'too_many_requests' | 'unknown_error' | (string & {}) };
  /** Signed with another secret (what a forged request looks like). */
  readonly signingSecret?: string;
}

// ── Events API bodies ───────────────────────────────────────────────────────

export interface MessageInput {
  readonly text: string;
  readonly user?: string;
  readonly channel?: string;
  readonly ts?: string;
  readonly threadTs?: string;
}

export type SlackEvent = Record<string, unknown> & {
  readonly type: string;
  readonly ts?: string;
  readonly channel?: string;
  readonly user?: string;
  readonly text?: string;
  readonly thread_ts?: string;
};

export interface EventCallback {
  readonly token: string;
  readonly team_id: string;
  readonly api_app_id: string;
  readonly event: SlackEvent;
  readonly type: 'event_callback';
  readonly event_id: string;
  readonly event_time: number;
  readonly authorizations: readonly Record<string, unknown>[];
  readonly is_ext_shared_channel: boolean;
  readonly event_context: string;
}

const messageFields = ({ text, user = ws.user.id, channel, ts = nextSlackTs(), threadTs }: MessageInput, defaultChannel: string) => ({
  user,
  text,
  ts,
  channel: channel ?? defaultChannel,
  event_ts: ts,
  team: ws.teamId,
  ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
});

/** `app_mention` in a channel; the bot mention is put in front of `text` unless it is already there. */
export const appMention = (input: MessageInput): SlackEvent => {
  const mention = `<@${ws.botUserId}>`;
  const text = input.text.includes(mention) ? input.text : `${mention} ${input.text}`;
  return { type: 'app_mention', ...messageFields({ ...input, text }, ws.channel.id) };
};

/** `message` in the bot's direct-message channel (`channel_type: 'im'`), optionally in a thread. */
export const directMessage = (input: MessageInput): SlackEvent => ({ type: 'message', channel_type: 'im', ...messageFields(input, ws.dmChannel.id) });

/** `message` replying in a channel thread (no mention: it continues that thread's conversation). */
export const threadReply = (input: MessageInput & { readonly threadTs: string; readonly parentUserId?: string }): SlackEvent => ({
  type: 'message',
  channel_type: 'channel',
  parent_user_id: input.parentUserId ?? ws.user.id,
  ...messageFields(input, ws.channel.id),
});

let eventCounter = 0;
const newEventId = (): string => `Ev${String((eventCounter += 1)).padStart(4, '0')}${randomBytes(4).toString('hex').toUpperCase()}`;

/** Wraps an event in the envelope Slack delivers it in. Keep the result to redeliver it. */
export const eventCallback = (event: SlackEvent, options: { eventId?: string; eventTime?: number } = {}): EventCallback => ({
  token: ws.verificationToken,
  team_id: ws.teamId,
  api_app_id: ws.apiAppId,
  event,
  type: 'event_callback',
  event_id: options.eventId ?? newEventId(),
  event_time: options.eventTime ?? nowSeconds(),
  authorizations: [{ enterprise_id: null, team_id: ws.teamId, user_id: ws.botUserId, is_bot: true, is_enterprise_install: false }],
  is_ext_shared_channel: false,
  event_context: `4-${Buffer.from(`${ws.teamId}:${ws.apiAppId}`).toString('base64url')}`,
});

export const urlVerification = (challenge: string) => ({ token: ws.verificationToken, challenge, type: 'url_verification' as const });

// ── slash commands and interactivity ────────────────────────────────────────

export interface SlashCommandInput {
  readonly command: string;
  readonly text?: string;
  readonly userId?: string;
  readonly userName?: string;
  readonly channelId?: string;
  readonly channelName?: string;
  readonly triggerId?: string;
  readonly responseUrl?: string;
}

const triggerId = (): string => `${Date.now()}.${randomBytes(6).toString('hex')}`;
/** Never reached: without the Web API stand-in, respond() fails fast on this closed local port. */
const UNREACHABLE_RESPONSE_URL = 'http://127.0.0.1:9/respond/none';

/** The form fields of a slash command invocation. */
export const slashCommandFields = (input: SlashCommandInput): Record<string, string> => ({
  token: ws.verificationToken,
  team_id: ws.teamId,
  team_domain: ws.teamDomain,
  channel_id: input.channelId ?? ws.channel.id,
  channel_name: input.channelName ?? ws.channel.name,
  user_id: input.userId ?? ws.user.id,
  user_name: input.userName ?? ws.user.name,
  command: input.command,
  text: input.text ?? '',
  api_app_id: ws.apiAppId,
  is_enterprise_install: 'false',
  response_url: input.responseUrl ?? UNREACHABLE_RESPONSE_URL,
  trigger_id: input.triggerId ?? triggerId(),
});

export interface BlockActionInput {
  readonly actionId: string;
  readonly value?: string;
  readonly blockId?: string;
  /** The message holding the button. */
  readonly messageTs: string;
  readonly messageText?: string;
  readonly threadTs?: string;
  readonly userId?: string;
  readonly userName?: string;
  readonly channelId?: string;
  readonly responseUrl?: string;
}

/** The `block_actions` payload of a button press on a message the bot posted. */
export const blockActionsPayload = (input: BlockActionInput) => {
  const channelId = input.channelId ?? ws.channel.id;
  const actionTs = nextSlackTs();
  return {
    type: 'block_actions' as const,
    user: { id: input.userId ?? ws.user.id, username: input.userName ?? ws.user.name, name: input.userName ?? ws.user.name, team_id: ws.teamId },
    api_app_id: ws.apiAppId,
    token: ws.verificationToken,
    container: {
      type: 'message',
      message_ts: input.messageTs,
      channel_id: channelId,
      is_ephemeral: false,
      ...(input.threadTs !== undefined ? { thread_ts: input.threadTs } : {}),
    },
    trigger_id: triggerId(),
    team: { id: ws.teamId, domain: ws.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: channelId === ws.channel.id ? ws.channel.name : 'channel' },
    message: {
      type: 'message',
      user: ws.botUserId,
      bot_id: ws.botId,
      ts: input.messageTs,
      text: input.messageText ?? '',
      ...(input.threadTs !== undefined ? { thread_ts: input.threadTs } : {}),
    },
    state: { values: {} },
    response_url: input.responseUrl ?? UNREACHABLE_RESPONSE_URL,
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: input.blockId ?? `${input.actionId}-block`,
        text: { type: 'plain_text', text: input.actionId, emoji: true },
        ...(input.value !== undefined ? { value: input.value } : {}),
        action_ts: actionTs,
      },
    ],
  };
};

// ── sending ─────────────────────────────────────────────────────────────────

export interface SlackHttpResponse {
  readonly status: number;
  readonly body: string;
  readonly headers: Headers;
}

export interface SlackRequestSender {
  /** The receiver's events URL, e.g. `http://127.0.0.1:<port>/slack/events`. */
  readonly url: string;
  postEvent(envelope: EventCallback, options?: SendOptions): Promise<SlackHttpResponse>;
  postUrlVerification(challenge: string, options?: SendOptions): Promise<SlackHttpResponse>;
  postCommand(input: SlashCommandInput, options?: SendOptions): Promise<SlackHttpResponse>;
  postBlockAction(input: BlockActionInput, options?: SendOptions): Promise<SlackHttpResponse>;
  /** Any body, signed (or not) per `options`. */
  post(rawBody: string, contentType: string, options?: SendOptions): Promise<SlackHttpResponse>;
}

export function slackRequestSender(config: { url: string; signingSecret?: string; webApi?: SlackWebApiStandIn }): SlackRequestSender {
  const secret = config.signingSecret ?? ws.signingSecret;
  const { webApi } = config;

  async function post(rawBody: string, contentType: string, options: SendOptions = {}): Promise<SlackHttpResponse> {
    const timestamp = options.timestampSeconds ?? nowSeconds();
    const headers: Record<string, string> = { 'content-type': contentType, 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)' };
    if (options.signature !== null) {
      headers['x-slack-request-timestamp'] = String(timestamp);
      headers['x-slack-signature'] = options.signature ?? slackSignature(options.signingSecret ?? secret, timestamp, rawBody);
    }
    if (options.retry) {
      headers['x-slack-retry-num'] = String(options.retry.num);
      headers['x-slack-retry-reason'] = options.retry.reason;
    }
    const response = await fetch(config.url, { method: 'POST', headers, body: rawBody });
    return { status: response.status, body: await response.text(), headers: response.headers };
  }

  /** Slack stores a user's message before delivering the event; so does the stand-in. */
  function recordUserMessage(event: SlackEvent): void {
    const { channel, ts, user, text } = event;
    if (!webApi || typeof channel !== 'string' || typeof ts !== 'string' || typeof user !== 'string' || typeof text !== 'string') return;
    if (webApi.message(channel, ts) !== undefined) return;
    webApi.seedMessage({ channel, user, text, ts, ...(typeof event.thread_ts === 'string' ? { threadTs: event.thread_ts } : {}) });
  }

  return {
    url: config.url,
    post,
    postEvent(envelope, options) {
      recordUserMessage(envelope.event);
      return post(JSON.stringify(envelope), 'application/json', options);
    },
    postUrlVerification: (challenge, options) => post(JSON.stringify(urlVerification(challenge)), 'application/json', options),
    postCommand(input, options) {
      const channel = input.channelId ?? ws.channel.id;
      const responseUrl = input.responseUrl ?? webApi?.responseUrl({ channel, user: input.userId ?? ws.user.id });
      const fields = slashCommandFields({ ...input, ...(responseUrl !== undefined ? { responseUrl } : {}) });
      return post(new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', options);
    },
    postBlockAction(input, options) {
      const channel = input.channelId ?? ws.channel.id;
      const responseUrl =
        input.responseUrl ??
        webApi?.responseUrl({
          channel,
          user: input.userId ?? ws.user.id,
          messageTs: input.messageTs,
          ...(input.threadTs !== undefined ? { threadTs: input.threadTs } : {}),
        });
      const payload = blockActionsPayload({ ...input, ...(responseUrl !== undefined ? { responseUrl } : {}) });
      return post(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded', options);
    },
  };
}

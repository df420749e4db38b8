import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { backoffCeilingMs, type Backoff } from '../../domain/backoff.ts';
import type { DeliveryState } from '../../domain/delivery/index.ts';
import { ChatRateLimited, ChatTargetGone, type ChatPoster, type MessageRef } from '../../domain/ports/chat-poster.ts';
import type { ProgressAnswer } from '../../domain/process/progress-messages.ts';
import type { ChatAnswer, Thread, ThreadEffect } from '../../domain/process/thread-messages.ts';

// The chat port of the managers that keep messages in a thread (the thread notifier, the
// progress messages): it carries out their effects. A look-up reads the message's Delivery from
// its aggregate host (recorded: where it is; begun and not recorded: the post may have landed
// just before a crash, so it is looked for by the marker it carries). Posts and edits wait out
// rate limits (as told) and other failures (with backoff); a thread that is gone is not retried.

export interface ThreadPort {
  /** The front end that writes threads of this source; undefined when it is not configured here. */
  readonly chatFor: (thread: Thread) => ChatPoster | undefined;
  /** A message's Delivery, from its aggregate host. */
  readonly deliveryState: (deliveryId: string) => Promise<DeliveryState>;
  readonly logger: Logger;
  /** Aborted when the component stops: a wait between tries ends. */
  readonly signal: AbortSignal;
  /** Tries of one look-up or post, and of one edit (1: an edit that fails is answered `not-updated` at once, and the manager schedules the next). */
  readonly maxTries: { readonly post: number; readonly update: number };
}

const CHAT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

/** How long to wait before trying a chat call again: as the service said when rate limited, else doubling from half a second. */
const chatRetryDelayMs = (error: unknown, attempt: number): number =>
  error instanceof ChatRateLimited ? error.retryAfterMs : backoffCeilingMs(attempt, CHAT_BACKOFF);

type MessageEffect = Extract<ThreadEffect, { type: 'look-up' | 'post' | 'update' }>;

export async function performMessageEffect(port: ThreadPort, effect: MessageEffect): Promise<ChatAnswer | ProgressAnswer> {
  const chat = port.chatFor(effect.thread);
  if (!chat) return { kind: 'gone', code: `no ${effect.thread.source} front end is configured here` };
  const thread = { channel: effect.thread.channel, threadTs: effect.thread.threadTs };
  // Outside the chat calls' catch: a Delivery that cannot be read now is asked again by the host.
  const delivery = effect.type === 'look-up' ? await port.deliveryState(effect.deliveryId) : undefined;
  try {
    switch (effect.type) {
      case 'look-up': {
        if (delivery === undefined || delivery.status === 'none' || delivery.progress === undefined) return { kind: 'looked-up', recorded: false };
        if (delivery.progress.ts) return { kind: 'looked-up', message: { channel: delivery.progress.channel, ts: delivery.progress.ts }, recorded: true };
        // Begun and not recorded: the post may have landed just before a crash.
        const found = await withChatRetries(port, port.maxTries.post, effect.deliveryId, () => chat.findPosted(thread, effect.marker));
        return found ? { kind: 'looked-up', message: { channel: found.channel, ts: found.ts }, recorded: false } : { kind: 'looked-up', recorded: false };
      }
      case 'post': {
        const posted: MessageRef = await withChatRetries(port, port.maxTries.post, effect.deliveryId, () => chat.post(thread, effect.document, effect.marker));
        return { kind: 'posted', message: { channel: posted.channel, ts: posted.ts } };
      }
      case 'update':
        await withChatRetries(port, port.maxTries.update, effect.deliveryId, () => chat.update(effect.message, effect.document));
        return { kind: 'updated' };
    }
  } catch (error) {
    if (error instanceof ChatTargetGone) return { kind: 'gone', code: error.code };
    if (port.signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (effect.type === 'update') return { kind: 'not-updated', error: message, ...(error instanceof ChatRateLimited && { retryAfterMs: error.retryAfterMs }) };
    return { kind: 'failed', error: message };
  }
}

/**
 * A chat call tried up to `maxTries` times: a rate limit waits as told, other failures back off;
 * a thread that is gone is not tried again. `call` learns which try it is (a retried post may
 * have landed, so it looks for it first).
 */
export async function withChatRetries<T>(
  port: Pick<ThreadPort, 'logger' | 'signal'>,
  maxTries: number,
  deliveryId: string,
  call: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      if (error instanceof ChatTargetGone || attempt >= maxTries) throw error;
      const waitMs = chatRetryDelayMs(error, attempt);
      const rateLimited = error instanceof ChatRateLimited;
      port.logger[rateLimited ? 'info' : 'warn'](
        { deliveryId, ...(rateLimited ? {} : { err: error }), retryInMs: waitMs },
        'could not write to the thread; trying again',
      );
      await sleep(waitMs, undefined, { signal: port.signal });
    }
  }
}

/** A manager's report, in the log. */
export function logReport(logger: Logger, effect: Extract<ThreadEffect, { type: 'report' }>): void {
  logger[effect.level]({ deliveryId: effect.deliveryId }, effect.message);
}

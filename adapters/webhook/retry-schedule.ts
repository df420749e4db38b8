import { backoffCeilingMs } from '../../domain/backoff.ts';
import type { WebhookAttemptOutcome } from '../../domain/ports/webhook-sender.ts';

// How long to wait before the next attempt of a webhook delivery. Exponential backoff with
// full jitter (a uniform wait between 0 and base·2^(n-1), capped): receivers that went down
// together do not get every queued delivery back in the same second.
//
// A receiver's Retry-After is honoured when it asks for longer than the backoff, up to
// `retryAfterCapMs` (default ten times `maxMs`, ten minutes with the defaults). It may ask
// for longer than our own backoff ceiling, since it knows when it will be back; it may not
// park a delivery for hours, since the dead letter after the last try should come in
// minutes. Past the cap the next attempt is made at the cap; if the receiver is still not
// ready, that attempt fails like any other.

export interface WebhookRetryOptions {
  /** The first wait's ceiling. Default 1 second. */
  readonly baseMs?: number;
  /** The ceiling of any backoff wait. Default 60 seconds. */
  readonly maxMs?: number;
  /** Uniform in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
  /** The longest Retry-After honoured. Default 10 × `maxMs`. */
  readonly retryAfterCapMs?: number;
}

/** The wait after failed attempt `attempt` (1-based): uniform in [0, min(maxMs, baseMs · 2^(attempt-1))). */
export function webhookRetryDelayMs(attempt: number, { baseMs = 1000, maxMs = 60_000, random = Math.random }: WebhookRetryOptions = {}): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a whole number from 1, got ${attempt}`);
  if (!(baseMs > 0) || !(maxMs >= baseMs)) throw new RangeError(`need 0 < baseMs <= maxMs, got baseMs ${baseMs}, maxMs ${maxMs}`);
  const ceiling = backoffCeilingMs(attempt - 1, { initialMs: baseMs, maxMs });
  const drawn = random();
  const fraction = drawn > 0 ? Math.min(drawn, 1) : 0;
  return Math.floor(fraction * ceiling);
}

/**
 * The wait before the attempt after `attempt`, given how `attempt` went: the backoff, or the
 * receiver's Retry-After when longer (up to `retryAfterCapMs`). Undefined when there should
 * be no further attempt: it was delivered, or the failure is not retryable.
 */
export function nextWebhookDelayMs(outcome: WebhookAttemptOutcome, attempt: number, options: WebhookRetryOptions = {}): number | undefined {
  if (outcome.delivered || !outcome.retryable) return undefined;
  const backoff = webhookRetryDelayMs(attempt, options);
  if (outcome.retryAfterMs === undefined) return backoff;
  const cap = options.retryAfterCapMs ?? 10 * (options.maxMs ?? 60_000);
  return Math.max(backoff, Math.min(outcome.retryAfterMs, cap));
}

import { describe, expect, it } from 'vitest';
import { nextWebhookDelayMs, webhookRetryDelayMs } from '../../adapters/webhook/retry-schedule.ts';
import type { WebhookAttemptOutcome } from '../../domain/ports/webhook-sender.ts';

const always = (value: number) => () => value;
const almostOne = always(1 - Number.EPSILON);

const failed = (extra: Partial<Extract<WebhookAttemptOutcome, { delivered: false }>> = {}): WebhookAttemptOutcome => ({
  delivered: false,
  status: 503,
  error: 'the receiver could not take it now (HTTP 503)',
  retryable: true,
  ...extra,
});

describe('webhookRetryDelayMs', () => {
  it('doubles the ceiling with each failed attempt, from 1 s up to 60 s', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 20].map((attempt) => webhookRetryDelayMs(attempt, { random: almostOne }));
    expect(ceilings).toEqual([999, 1999, 3999, 7999, 15999, 31999, 59999, 59999, 59999]);
  });

  it('draws uniformly below the ceiling (full jitter)', () => {
    expect(webhookRetryDelayMs(4, { random: always(0) })).toBe(0);
    expect(webhookRetryDelayMs(4, { random: always(0.5) })).toBe(4000);
    expect(webhookRetryDelayMs(4, { random: always(0.25) })).toBe(2000);
    for (let i = 0; i < 200; i += 1) {
      const delay = webhookRetryDelayMs(3);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(4000);
      expect(Number.isInteger(delay)).toBe(true);
    }
  });

  it('takes its own base and ceiling', () => {
    expect(webhookRetryDelayMs(1, { baseMs: 200, maxMs: 1000, random: always(0.5) })).toBe(100);
    expect(webhookRetryDelayMs(3, { baseMs: 200, maxMs: 1000, random: always(0.5) })).toBe(400);
    expect(webhookRetryDelayMs(10, { baseMs: 200, maxMs: 1000, random: always(0.5) })).toBe(500);
  });

  it('stays finite and bounded for very late attempts and odd random values', () => {
    expect(webhookRetryDelayMs(10_000, { random: almostOne })).toBe(59999);
    expect(webhookRetryDelayMs(3, { random: always(1.5) })).toBe(4000);
    expect(webhookRetryDelayMs(3, { random: always(-1) })).toBe(0);
    expect(webhookRetryDelayMs(3, { random: always(Number.NaN) })).toBe(0);
  });

  it('refuses an attempt number below 1 or a base above the ceiling', () => {
    expect(() => webhookRetryDelayMs(0)).toThrow(RangeError);
    expect(() => webhookRetryDelayMs(1.5)).toThrow(RangeError);
    expect(() => webhookRetryDelayMs(1, { baseMs: 0 })).toThrow(RangeError);
    expect(() => webhookRetryDelayMs(1, { baseMs: 5000, maxMs: 1000 })).toThrow(RangeError);
  });
});

describe('nextWebhookDelayMs', () => {
  it('is the backoff when the receiver gave no Retry-After', () => {
    expect(nextWebhookDelayMs(failed(), 2, { random: always(0.5) })).toBe(1000);
  });

  it('honours a Retry-After longer than the backoff', () => {
    expect(nextWebhookDelayMs(failed({ status: 429, retryAfterMs: 2000 }), 1, { random: always(0.5) })).toBe(2000);
    expect(nextWebhookDelayMs(failed({ retryAfterMs: 90_000 }), 1, { random: always(0.5) })).toBe(90_000);
  });

  it('keeps the backoff when it is longer than the Retry-After', () => {
    expect(nextWebhookDelayMs(failed({ retryAfterMs: 100 }), 5, { random: always(0.5) })).toBe(8000);
  });

  it('caps a Retry-After at ten times maxMs unless told otherwise', () => {
    const aDay = 24 * 60 * 60 * 1000;
    expect(nextWebhookDelayMs(failed({ retryAfterMs: aDay }), 1)).toBe(600_000);
    expect(nextWebhookDelayMs(failed({ retryAfterMs: aDay }), 1, { maxMs: 5000 })).toBe(50_000);
    expect(nextWebhookDelayMs(failed({ retryAfterMs: aDay }), 1, { retryAfterCapMs: 120_000 })).toBe(120_000);
  });

  it('is undefined when there should be no further attempt', () => {
    expect(nextWebhookDelayMs({ delivered: true, status: 200 }, 1)).toBeUndefined();
    expect(nextWebhookDelayMs(failed({ status: 404, retryable: false }), 1)).toBeUndefined();
  });
});

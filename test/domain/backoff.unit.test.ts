import { describe, expect, it } from 'vitest';
import { backoffCeilingMs, jitteredBackoffMs, RESUBSCRIBE_BACKOFF } from '../../domain/backoff.ts';
import { retryDelayMs } from '../../domain/workflow/retry.ts';

// The one backoff formula that infrastructure retries and workflow step retries share.

describe('backoff', () => {
  it('doubles from the initial wait and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffCeilingMs(n, RESUBSCRIBE_BACKOFF))).toEqual([250, 500, 1_000, 2_000, 4_000, 5_000, 5_000]);
  });

  it('stays finite (at the cap) however many failures there were', () => {
    expect(backoffCeilingMs(10_000, { initialMs: 1, maxMs: 60_000 })).toBe(60_000);
    expect(backoffCeilingMs(10_000, { initialMs: 0, maxMs: 0 })).toBe(0);
  });

  it('jitter keeps the wait between half and all of the ceiling, by the draw given', () => {
    expect(jitteredBackoffMs(2, RESUBSCRIBE_BACKOFF, 0)).toBe(500);
    expect(jitteredBackoffMs(2, RESUBSCRIBE_BACKOFF, 0.5)).toBe(750);
    expect(jitteredBackoffMs(2, RESUBSCRIBE_BACKOFF, 0.999)).toBeCloseTo(999.5, 5);
  });

  it('a workflow step retry is the same formula, counted from its first attempt and rounded', () => {
    const policy = { attempts: 5, backoffMs: 1_000, maxBackoffMs: 60_000, nonRetryable: [] };
    expect(retryDelayMs(policy, 1, undefined)).toBe(1_000);
    expect(retryDelayMs(policy, 3, undefined)).toBe(4_000);
    expect(retryDelayMs(policy, 3, 0.3)).toBe(Math.round(jitteredBackoffMs(2, { initialMs: 1_000, maxMs: 60_000 }, 0.3)));
    expect(retryDelayMs(policy, 3, 0.3)).toBe(2_600);
  });
});

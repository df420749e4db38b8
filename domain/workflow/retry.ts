import { backoffCeilingMs, jitteredBackoffMs } from '../backoff.ts';
import type { RetryPolicy } from './compiled.ts';

// Exponential backoff with jitter (WF5). The jitter (0..1) comes with the command, so replaying
// the same command decides the same due time.

/**
 * The wait after the `ordinal`-th attempt of a visit failed: `backoffMs` doubling per attempt,
 * capped at `maxBackoffMs`; with jitter, between half and all of that ("equal jitter"), so
 * retries of many steps spread out without any of them retrying at once.
 */
export function retryDelayMs(policy: RetryPolicy, ordinal: number, jitter: number | undefined): number {
  const backoff = { initialMs: policy.backoffMs, maxMs: policy.maxBackoffMs };
  return jitter === undefined ? backoffCeilingMs(ordinal - 1, backoff) : Math.round(jitteredBackoffMs(ordinal - 1, backoff, jitter));
}

/** Another attempt is allowed: the error may pass, it is not on the step's non-retryable list, and attempts remain. */
export const mayRetry = (policy: RetryPolicy, ordinal: number, retryable: boolean, errorCode: string): boolean =>
  retryable && !policy.nonRetryable.includes(errorCode) && ordinal < policy.attempts;

export { addMilliseconds } from '../task/retry.ts';

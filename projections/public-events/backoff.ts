import { setTimeout as delay } from 'node:timers/promises';

// Waiting between attempts at something outside that failed: doubling delays with jitter, so
// many publishers recovering together do not retry in step, and a wait that ends at once when
// the process is stopping.

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 10_000 };

/** Delay before retry number `failures` (0-based): between half and all of initial × 2^failures, capped. */
export const backoffDelay = (failures: number, { initialMs, maxMs }: BackoffOptions = DEFAULT_BACKOFF): number =>
  Math.min(maxMs, initialMs * 2 ** Math.min(failures, 30)) * (0.5 + Math.random() / 2);

/** Resolves after `ms`, or as soon as `signal` aborts. */
export const sleep = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal }).catch(() => undefined);

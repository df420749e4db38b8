import { setTimeout as delay } from 'node:timers/promises';
import { jitteredBackoffMs, type Backoff } from '../../domain/backoff.ts';

// Waiting between attempts at something outside that failed: doubling delays with jitter, so
// many publishers recovering together do not retry in step, and a wait that ends at once when
// the process is stopping.

export type BackoffOptions = Backoff;

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 10_000 };

/** Delay before retry number `failures` (0-based): between half and all of initial × 2^failures, capped. */
export const backoffDelay = (failures: number, backoff: BackoffOptions = DEFAULT_BACKOFF): number => jitteredBackoffMs(failures, backoff, Math.random());

/** Resolves after `ms`, or as soon as `signal` aborts. */
export const sleep = (ms: number, signal: AbortSignal): Promise<void> => delay(ms, undefined, { signal }).catch(() => undefined);

// One formula for waits between attempts: a delay that doubles per failure from `initialMs` up
// to `maxMs`. The random draw comes in as an argument, so the formula stays pure and a replayed
// command (a workflow step's retry) decides the same wait.

export interface Backoff {
  /** The wait after the first failure. */
  readonly initialMs: number;
  /** No wait is longer than this. */
  readonly maxMs: number;
}

/** Past this many doublings every wait is at its cap anyway; it keeps 2^n finite. */
const MAX_DOUBLINGS = 40;

/** The wait after `failures` failures (0-based: 0 waits `initialMs`), without jitter. */
export const backoffCeilingMs = (failures: number, { initialMs, maxMs }: Backoff): number =>
  Math.min(maxMs, initialMs * 2 ** Math.min(failures, MAX_DOUBLINGS));

/**
 * Between half and all of the ceiling ("equal jitter"), with `draw` uniform in [0, 1): retries of
 * many callers that failed together spread out, and none of them retries at once.
 */
export const jitteredBackoffMs = (failures: number, backoff: Backoff, draw: number): number => backoffCeilingMs(failures, backoff) * (0.5 + draw / 2);

/** Re-opening an interrupted subscription to the event log (the store's own and every reactor's). */
export const RESUBSCRIBE_BACKOFF: Backoff = { initialMs: 250, maxMs: 5_000 };

/** Retrying a call into the broker until it answers: a command send, an enqueue. */
export const BROKER_CALL_BACKOFF: Backoff = { initialMs: 100, maxMs: 5_000 };

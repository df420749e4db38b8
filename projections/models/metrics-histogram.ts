// A Prometheus-style histogram kept in a read-model document: fixed upper bounds (seconds), a
// count per bound (not cumulative, so one observation changes one slot), the sum and the count.
// The bounds are part of the model's meaning: changing them means bumping metrics-totals' version.

export interface StoredHistogram {
  /** `counts[i]` observations ≤ `bounds[i]` and above the bound before; the last slot is +Inf. */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** Task run time: sub-second checks up to hour-long deploys and Claude runs. */
export const TASK_DURATION_BOUNDS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] as const;
/** Schedule-to-start: from queued (or due for retry) to taken by a worker. */
export const QUEUE_WAIT_BOUNDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;
/** Whole workflows, approvals included. */
export const WORKFLOW_DURATION_BOUNDS = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 86400] as const;

export const emptyHistogram = (bounds: readonly number[]): StoredHistogram => ({ counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 });

export function observed(histogram: StoredHistogram | undefined, bounds: readonly number[], seconds: number): StoredHistogram {
  const before = histogram && histogram.counts.length === bounds.length + 1 ? histogram : emptyHistogram(bounds);
  const slot = bounds.findIndex((bound) => seconds <= bound);
  const counts = [...before.counts];
  const at = slot < 0 ? bounds.length : slot;
  counts[at] = (counts[at] ?? 0) + 1;
  return { counts, sum: before.sum + seconds, count: before.count + 1 };
}

/** Cumulative bucket counts as Prometheus wants them, with `le` labels; `+Inf` last. */
export function cumulativeBuckets(histogram: StoredHistogram, bounds: readonly number[]): { le: string; count: number }[] {
  let running = 0;
  const buckets = bounds.map((bound, i) => {
    running += histogram.counts[i] ?? 0;
    return { le: String(bound), count: running };
  });
  return [...buckets, { le: '+Inf', count: histogram.count }];
}

/** Seconds between two ISO times; undefined when either does not parse or they are out of order. */
export function secondsBetween(fromIso: string, toIso: string): number | undefined {
  const seconds = (Date.parse(toIso) - Date.parse(fromIso)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

// Estimated time of completion from weighted-stage progress: the rest of the run is assumed to
// go at the pace the run has kept so far. Weights make percent proportional to expected time,
// so a linear extrapolation is the honest estimate; early figures are noisy, hence the floor.

export interface ProgressSample {
  /** When the attempt started running (ISO 8601). */
  readonly startedAt: string;
  /** When this percent was reported (ISO 8601). */
  readonly at: string;
  /** 0..100, overall across stages. */
  readonly percent: number;
}

export interface Eta {
  readonly remainingMs: number;
  /** ISO 8601. */
  readonly etaAt: string;
}

/** Below this much progress an estimate says more about start-up than about the work. */
export const MIN_PERCENT_FOR_ETA = 5;

export function estimateCompletion(sample: ProgressSample): Eta | undefined {
  const started = Date.parse(sample.startedAt);
  const at = Date.parse(sample.at);
  if (!Number.isFinite(started) || !Number.isFinite(at) || at < started) return undefined;
  if (!(sample.percent >= MIN_PERCENT_FOR_ETA) || sample.percent >= 100) return undefined;
  const elapsed = at - started;
  const remainingMs = Math.round((elapsed * (100 - sample.percent)) / sample.percent);
  return { remainingMs, etaAt: new Date(at + remainingMs).toISOString() };
}

/** "about 2 min", "about 40 s": what a person wants to read next to a progress bar. */
export function describeRemaining(remainingMs: number): string {
  const seconds = Math.max(1, Math.round(remainingMs / 1000));
  if (seconds < 60) return `about ${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `about ${hours} h` : `about ${hours} h ${rest} min`;
}

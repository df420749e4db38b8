import { cpus, totalmem } from 'node:os';

// Measuring helpers shared by the benchmarks.

export interface Figure {
  readonly name: string;
  readonly count: number;
  readonly seconds: number;
}

export const rate = (f: Figure): number => f.count / f.seconds;

export async function timed(name: string, count: number, work: () => Promise<void>): Promise<Figure> {
  const start = process.hrtime.bigint();
  await work();
  return { name, count, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

/** Runs `task(i)` for i in [0, count) with at most `inFlight` running at once, started in index order. */
export async function pipelined(count: number, inFlight: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}

/** The median rate of several rounds of one measure. */
export const medianRate = (figures: readonly Figure[]): number => {
  const rates = figures.map(rate).sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
};

/** The q-quantile (0..1) of a list of numbers, nearest rank. */
export const quantile = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
};

/** Milliseconds since `start` (from process.hrtime.bigint()). */
export const elapsedMs = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

export const machineLine = (): string =>
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;

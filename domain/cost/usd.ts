// Money is summed in whole micro-dollars: model calls cost fractions of a cent, and adding
// floats (0.1 + 0.2) would let rounding decide whether a cap is crossed. Events keep plain
// USD numbers for people and outside consumers; arithmetic converts at the edges.

const MICROS_PER_USD = 1_000_000;

export type Micros = number;

export const toMicros = (usd: number): Micros => Math.round(usd * MICROS_PER_USD);

export const toUsd = (micros: Micros): number => micros / MICROS_PER_USD;

/** `$1.234567` trimmed to what matters for a message: `$1.23`, or `$0.0042` below a cent. */
export const formatUsd = (usd: number): string => `$${usd >= 0.01 || usd === 0 ? usd.toFixed(2) : usd.toPrecision(2)}`;

import { toMicros, toUsd } from './usd.ts';

// What a model call cost, from the tokens it used and the configured per-model prices
// (USD per million tokens, as Anthropic publishes them).

export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface TokenPrice {
  readonly inputUsdPerMillion: number;
  readonly outputUsdPerMillion: number;
}

/** Which model was used, for how many tokens, at what cost: what a budget commits afterwards. */
export interface ModelSpend {
  readonly model: string;
  readonly usage: TokenUsage;
  readonly costUsd: number;
}

export const noUsage: TokenUsage = { inputTokens: 0, outputTokens: 0 };

export const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
});

/** Rounded to whole micro-dollars, so sums of many calls stay exact. */
export const tokenCostUsd = (usage: TokenUsage, price: TokenPrice): number =>
  toUsd(toMicros((usage.inputTokens * price.inputUsdPerMillion + usage.outputTokens * price.outputUsdPerMillion) / 1_000_000));

import { toUsd, type Micros } from '../cost/usd.ts';
import { budgetEventOf, type BudgetEvent } from './events.ts';
import type { BudgetState, Caps } from './state.ts';

// The warning and critical thresholds of the monthly cap (MO5), measured on committed
// spending: a reservation may still be released, so only money actually spent counts. Each
// is recorded once per month, the first time spending reaches it, however the caps change
// afterwards; raising the cap does not re-arm them.

export function thresholdsReached(caps: Caps, state: BudgetState, spent: Micros, budgetId: string, at: string): BudgetEvent[] {
  const data = { budgetId, spentUsd: toUsd(spent), monthlyUsd: toUsd(caps.monthly), fraction: Math.round((spent / caps.monthly) * 10_000) / 10_000, at };
  const reaches = (fraction: number) => spent >= Math.round(caps.monthly * fraction);
  return [
    ...(!state.warningReached && reaches(caps.warningFraction) ? [budgetEventOf('BudgetWarningReached', data)] : []),
    ...(!state.criticalReached && reaches(caps.criticalFraction) ? [budgetEventOf('BudgetCriticalReached', data)] : []),
  ];
}

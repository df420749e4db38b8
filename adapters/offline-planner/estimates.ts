// Rough durations per task type for offline plans' previews; local and Salesforce runs cost
// no model money, so offline plans estimate $0.

const ESTIMATED_MS: Readonly<Record<string, number>> = {
  'git-status': 2_000,
  'analyze-codebase': 30_000,
  'run-tests': 5 * 60_000,
  lint: 60_000,
  'sf-deploy': 10 * 60_000,
};

export const estimatedMsFor = (taskTypes: readonly string[]): number => taskTypes.reduce((sum, t) => sum + (ESTIMATED_MS[t] ?? 60_000), 0);

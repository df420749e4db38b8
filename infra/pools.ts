import type { Config } from './config/schema.ts';

/** The worker pools this deployment runs; each is a `workers:<pool>` role. */
export const POOLS = ['local-ops', 'salesforce', 'claude'] as const;

export const workerCount = (config: Config, pool: string): number =>
  pool === 'local-ops' ? config.work.localWorkerCount : pool === 'salesforce' ? config.work.salesforceWorkerCount : config.work.claudeWorkerCount;

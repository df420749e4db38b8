import type { Config } from './config/schema.ts';

/** The worker pools this deployment runs; each is a `workers:<pool>` role. */
export const POOLS = ['local-ops'] as const;

export const workerCount = (config: Config, pool: string): number => (pool === 'local-ops' ? config.work.localWorkerCount : 1);

import type { Config } from './config/schema.ts';

// The worker pools this deployment runs, each a `workers:<pool>` role, and the setting that
// says how many workers each runs. A task type names its pool in its descriptor
// (adapters/executors/registry.ts); a new pool is one line here.

/** The `work` settings that hold a number. */
type CountSetting = { [K in keyof Config['work']]-?: Config['work'][K] extends number ? K : never }[keyof Config['work']];

const WORKER_COUNT_SETTING = {
  'local-ops': 'localWorkerCount',
  salesforce: 'salesforceWorkerCount',
  claude: 'claudeWorkerCount',
} as const satisfies Readonly<Record<string, CountSetting>>;

export type Pool = keyof typeof WORKER_COUNT_SETTING;

export const POOLS = Object.keys(WORKER_COUNT_SETTING) as readonly Pool[];

export const isPool = (value: string): value is Pool => Object.hasOwn(WORKER_COUNT_SETTING, value);

/** How many workers the pool runs in one process; none for a pool this deployment does not know. */
export const workerCount = (config: Config, pool: string): number => (isPool(pool) ? config.work[WORKER_COUNT_SETTING[pool]] : 0);

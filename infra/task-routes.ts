import type { TaskRoute } from '../domain/task/route.ts';
import { executorFor } from '../adapters/executors/registry.ts';
import type { Config } from './config/schema.ts';

/** Which pool runs a registered task type, and its time limit; undefined for an unknown type. */
export const taskRoutes =
  (config: Config) =>
  (taskType: string): TaskRoute | undefined => {
    const executor = executorFor(taskType);
    return executor ? { pool: executor.pool, timeoutMs: config.work.orchestratorTimeoutMs } : undefined;
  };

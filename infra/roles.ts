import { hostname } from 'node:os';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { aggregates } from '../actors/aggregates/index.ts';
import { AggregateHost } from '../actors/runtime/aggregate-host.ts';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { TaskDispatcher } from '../actors/task-dispatcher.ts';
import { WorkerActor } from '../actors/workers/worker-actor.ts';
import { executors } from '../adapters/executors/registry.ts';
import { JetStreamWorkQueue } from '../adapters/jetstream/work-queue.ts';
import { KvCheckpointStore } from '../adapters/nats/kv-checkpoint-store.ts';
import type { Executor } from '../domain/ports/executor.ts';
import type { EventStore } from '../domain/ports/event-store.ts';
import { systemClock } from '../domain/ports/clock.ts';
import type { Config } from './config/schema.ts';

// Process roles. Embedded mode runs them all in one process; production starts them apart,
// as many processes of each as load needs (`aggregates`, `dispatcher`, `workers:<pool>`).

export type Role = 'aggregates' | 'dispatcher' | `workers:${string}`;
export const POOLS = ['local-ops'] as const;
export const ALL_ROLES: readonly Role[] = ['aggregates', 'dispatcher', ...POOLS.map((p) => `workers:${p}` as const)];

export interface RoleContext {
  readonly config: Config;
  readonly nc: NatsConnection;
  readonly store: EventStore;
  readonly logger: Logger;
}

type Stop = () => Promise<unknown>;

export function parseRole(value: string): Role {
  if (value === 'aggregates' || value === 'dispatcher') return value;
  const pool = /^workers:(.+)$/.exec(value)?.[1];
  if (pool && (POOLS as readonly string[]).includes(pool)) return `workers:${pool}`;
  throw new Error(`unknown role "${value}"; roles: ${ALL_ROLES.join(', ')}`);
}

const workerCount = (config: Config, pool: string): number => (pool === 'local-ops' ? config.work.localWorkerCount : 1);

/** Starts one role; returns how to stop it. */
export async function startRole(role: Role, context: RoleContext): Promise<Stop> {
  const { config, nc, store, logger } = context;
  if (role === 'aggregates') {
    const hosts = aggregates.map((definition) => new AggregateHost({ nc, store, definition, clock: systemClock, logger: logger.child({ role, category: definition.category }), prefix: config.prefix }));
    hosts.forEach((h) => h.start());
    await nc.flush();
    return () => Promise.all(hosts.map((h) => h.stop()));
  }
  const queue = await JetStreamWorkQueue.connect(nc, { prefix: config.prefix, pools: POOLS, ackWaitMs: config.work.ackWaitMs });
  if (role === 'dispatcher') {
    const checkpoints = await KvCheckpointStore.connect(nc, config.prefix);
    const dispatcher = new TaskDispatcher({ store, queue, checkpoints, nc, logger: logger.child({ role }), prefix: config.prefix });
    await dispatcher.start();
    return async () => {
      await dispatcher.stop();
      queue.close();
    };
  }
  const pool = role.slice('workers:'.length);
  const registry = new Map<string, Executor>(executors.filter((e) => e.pool === pool).map((e) => [e.taskType, e as unknown as Executor]));
  const commands = new CommandClient(nc, config.prefix);
  const workers = Array.from({ length: workerCount(config, pool) }, (_, i) => {
    const workerId = `${pool}-${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${i + 1}`;
    return new WorkerActor({ workerId, pool, concurrency: 1, queue, commands, executors: registry, workspaceRoot: config.work.workspaceRoot ?? process.cwd(), nc, logger: logger.child({ role, workerId }), prefix: config.prefix });
  });
  workers.forEach((w) => w.start());
  return async () => {
    await Promise.all(workers.map((w) => w.stop()));
    queue.close();
  };
}

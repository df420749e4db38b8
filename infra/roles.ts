import { hostname } from 'node:os';
import { aggregates } from '../actors/aggregates/index.ts';
import { startUnknownCategoryDoor } from '../actors/runtime/unknown-category-door.ts';
import { AggregateHost } from '../actors/runtime/aggregate-host.ts';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { CommandGateway } from '../actors/command-gateway.ts';
import { AggregateStateClient } from '../actors/runtime/aggregate-state-client.ts';
import { TaskDispatcher } from '../actors/task-dispatcher.ts';
import { WorkerActor } from '../actors/workers/worker-actor.ts';
import { executors } from '../adapters/executors/registry.ts';
import { guardExecutorGroups } from '../adapters/executors/executor-leftovers.ts';
import { JetStreamWorkQueue } from '../adapters/jetstream/work-queue.ts';
import { KvCheckpointStore } from '../adapters/nats/kv-checkpoint-store.ts';
import { KvSnapshotStore } from '../adapters/nats/kv-snapshot-store.ts';
import { KvReadModelStorage } from '../adapters/nats/kv-read-model-storage.ts';
import { taskRetryAgenda, taskRetryTimers } from '../projections/models/task-retry-timers.ts';
import { ServingModelReader } from '../projections/runtime/serving-model.ts';
import type { Executor } from '../domain/ports/executor.ts';
import { systemClock } from './system-clock.ts';
import type { RoleContext } from './role-context.ts';
import { startProjections } from './projections-role.ts';
import { startPublicEvents } from './public-events-role.ts';
import { POOLS, workerCount } from './pools.ts';
import { startReactors } from './reactors-role.ts';
import { startSlack } from './slack-role.ts';
import { startPlanRunner } from './plan-runner-role.ts';
import { startWorkflowEngine } from './workflow-engine-role.ts';
import { warnOfFewerReplicas } from './nats/replica-check.ts';
import { secretValuesOf } from './secret-values.ts';
import { admissionsFor } from './doors/admissions.ts';
import { policyAuthorizer } from './policy/gateway-authorize.ts';
import { policyFor } from './policy/load-policy.ts';

// Process roles. Embedded mode runs them all in one process; production starts them apart,
// as many processes of each as load needs (`aggregates`, `workers:<pool>`); `dispatcher`,
// `projections` and `public-events` run one process each.

export type Role = 'aggregates' | 'dispatcher' | 'workflow-engine' | 'projections' | 'public-events' | 'reactors' | 'slack' | `workers:${string}`;
const SINGLE_ROLES = ['aggregates', 'dispatcher', 'workflow-engine', 'projections', 'public-events', 'reactors', 'slack'] as const;
/** Every role but `slack`, which runs only when Slack is configured (else the console is the front end). */
export const ALL_ROLES: readonly Role[] = [
  'aggregates',
  'dispatcher',
  'workflow-engine',
  'projections',
  'public-events',
  'reactors',
  ...POOLS.map((p) => `workers:${p}` as const),
];

type Stop = () => Promise<unknown>;

export function parseRole(value: string): Role {
  if ((SINGLE_ROLES as readonly string[]).includes(value)) return value as Role;
  const pool = /^workers:(.+)$/.exec(value)?.[1];
  if (pool && (POOLS as readonly string[]).includes(pool)) return `workers:${pool}`;
  throw new Error(`unknown role "${value}"; roles: ${[...SINGLE_ROLES, ...POOLS.map((p) => `workers:${p}`)].join(', ')}`);
}

/** Connections whose streams were already checked against NATS_REPLICAS: once per process. */
const replicasChecked = new WeakSet<object>();

/** Starts one role; returns how to stop it. */
export async function startRole(role: Role, context: RoleContext): Promise<Stop> {
  const { config, nc, store, logger } = context;
  if (!replicasChecked.has(nc)) {
    replicasChecked.add(nc);
    await warnOfFewerReplicas(await nc.jetstreamManager(), config.prefix, config.nats.replicas, logger);
  }
  if (role === 'aggregates') {
    const snapshots = await KvSnapshotStore.connect(nc, config.prefix, { replicas: config.nats.replicas });
    const doorOf = admissionsFor(config);
    const hosts = aggregates.map((definition) => {
      const admit = doorOf(definition.category);
      return new AggregateHost({
        nc,
        store,
        definition,
        clock: systemClock,
        logger: logger.child({ role, category: definition.category }),
        prefix: config.prefix,
        snapshots,
        ...(admit ? { admit } : {}),
        ...(context.onCommandHandled ? { onHandled: context.onCommandHandled } : {}),
      });
    });
    hosts.forEach((h) => h.start());
    const unknownCategories = startUnknownCategoryDoor(
      nc,
      config.prefix,
      aggregates.map((a) => a.category),
      logger.child({ role }),
    );
    // Outside producers' commands come in through the gateway, with the actor their credential names.
    const gateway = new CommandGateway({
      nc,
      commands: new CommandClient(nc, config.prefix),
      authorize: policyAuthorizer(policyFor(config)),
      categories: aggregates.map((a) => a.category),
      logger: logger.child({ role, component: 'command-gateway' }),
      prefix: config.prefix,
    });
    gateway.start();
    await nc.flush();
    return async () => {
      await gateway.stop();
      await unknownCategories.drain();
      await Promise.all(hosts.map((h) => h.stop()));
    };
  }
  if (role === 'public-events') return startPublicEvents(context);
  if (role === 'projections') return startProjections(context);
  if (role === 'reactors') return startReactors(context);
  if (role === 'workflow-engine') {
    const stops = [await startWorkflowEngine(context), await startPlanRunner(context)];
    return async () => {
      for (const stop of stops.reverse()) await stop();
    };
  }
  if (role === 'slack') return startSlack(context);
  // The dispatcher fills every pool's queue; a worker role takes from its own pool only.
  const pool = role === 'dispatcher' ? undefined : role.slice('workers:'.length);
  const queue = await JetStreamWorkQueue.connect(nc, {
    prefix: config.prefix,
    pools: pool === undefined ? POOLS : [pool],
    ackWaitMs: config.work.ackWaitMs,
    replicas: config.nats.replicas,
  });
  if (pool === undefined) {
    const checkpoints = await KvCheckpointStore.connect(nc, config.prefix, { replicas: config.nats.replicas });
    // Pending retries are rebuilt at start from the task-retry-timers model, read from storage (as the workflow engine reads its timers).
    const retries = taskRetryAgenda(
      new ServingModelReader(await KvReadModelStorage.connect(nc, config.prefix, { replicas: config.nats.replicas }), taskRetryTimers.name),
    );
    const dispatcher = new TaskDispatcher({ store, queue, checkpoints, nc, logger: logger.child({ role }), prefix: config.prefix, retries });
    await dispatcher.start();
    return async () => {
      await dispatcher.stop();
      queue.close();
    };
  }
  await guardExecutorGroups(config.dataDir, logger.child({ role }));
  const registry = new Map<string, Executor>(executors.filter((e) => e.pool === pool).map((e) => [e.taskType, e as unknown as Executor]));
  const commands = new CommandClient(nc, config.prefix);
  const states = new AggregateStateClient(nc, config.prefix);
  const secretValues = secretValuesOf(config);
  const workers = Array.from({ length: workerCount(config, pool) }, (_, i) => {
    const workerId = `${pool}-${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${i + 1}`;
    return new WorkerActor({
      workerId,
      pool,
      concurrency: 1,
      queue,
      commands,
      executors: registry,
      workspaceRoot: config.work.workspaceRoot ?? process.cwd(),
      programs: { sf: config.work.sfBin, claude: config.work.claudeBin },
      nc,
      logger: logger.child({ role, workerId }),
      prefix: config.prefix,
      readTask: (taskId) => states.read('task', taskId),
      secretValues,
    });
  });
  workers.forEach((w) => w.start());
  return async () => {
    await Promise.all(workers.map((w) => w.stop(context.workerGraceMs)));
    queue.close();
  };
}

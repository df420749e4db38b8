import { PlanRunner } from '../actors/plan-runner.ts';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { sideEffectingTaskTypes, taskTypes } from '../adapters/executors/registry.ts';
import { KvCheckpointStore } from '../adapters/nats/kv-checkpoint-store.ts';
import { planGates } from './front-desk.ts';
import type { RoleContext } from './role-context.ts';

// Part of the `workflow-engine` role: approved plans (and those that need no approval) become
// workflows. One process of it, like the engine (one checkpoint).

export async function startPlanRunner({ config, nc, store, logger }: RoleContext): Promise<() => Promise<void>> {
  const runner = new PlanRunner({
    store,
    checkpoints: await KvCheckpointStore.connect(nc, config.prefix, { replicas: config.nats.replicas }),
    commands: new CommandClient(nc, config.prefix),
    registry: { taskTypes, sideEffecting: sideEffectingTaskTypes },
    gates: planGates(config),
    maxExecutionMs: config.workflows.maxExecutionTimeMs,
    dryRun: config.features.dryRun,
    logger: logger.child({ role: 'workflow-engine', component: 'plan-runner' }),
  });
  await runner.start();
  return () => runner.stop();
}

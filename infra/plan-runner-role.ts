import { PlanRunner } from '../actors/plan-runner.ts';
import { aggregateStateAt } from '../actors/reactors/aggregate-state-at.ts';
import { AggregateStateClient } from '../actors/runtime/aggregate-state-client.ts';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { KvCheckpointStore } from '../adapters/nats/kv-checkpoint-store.ts';
import { gatedRegistry, gateRequirements, planGateRules } from './gate-requirements.ts';
import type { RoleContext } from './role-context.ts';

// Part of the `workflow-engine` role: approved plans (and those that need no approval) become
// workflows. One process of it, like the engine (one checkpoint).

export async function startPlanRunner({ config, nc, store, logger }: RoleContext): Promise<() => Promise<void>> {
  const runner = new PlanRunner({
    store,
    checkpoints: await KvCheckpointStore.connect(nc, config.prefix, { replicas: config.nats.replicas }),
    commands: new CommandClient(nc, config.prefix),
    stateAt: aggregateStateAt(new AggregateStateClient(nc, config.prefix)),
    // Compiled with the policy's gates: a plan without a gate before a side effect gets one.
    registry: gatedRegistry(config),
    gates: planGateRules(gateRequirements(config)),
    maxExecutionMs: config.workflows.maxExecutionTimeMs,
    dryRun: config.features.dryRun,
    logger: logger.child({ role: 'workflow-engine', component: 'plan-runner' }),
  });
  await runner.start();
  return () => runner.stop();
}

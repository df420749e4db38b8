import { costCeilingUsdFor, rerunSafeFor } from '../adapters/executors/registry.ts';
import { PaidRunBudget } from '../actors/paid-run-budget.ts';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { WorkflowEngine } from '../actors/workflow-engine.ts';
import { KvCheckpointStore } from '../adapters/nats/kv-checkpoint-store.ts';
import { KvReadModelStorage } from '../adapters/nats/kv-read-model-storage.ts';
import { workflowTimers, workflowTimersAgenda } from '../projections/models/workflow-timers.ts';
import { ServingModelReader } from '../projections/runtime/serving-model.ts';
import { budgetCaps } from './front-desk.ts';
import { gateRequirements, sideEffectClassOf } from './gate-requirements.ts';
import type { RoleContext } from './role-context.ts';
import { taskRoutes } from './task-routes.ts';

// The `workflow-engine` role: runs workflows' steps as tasks and fires their timers. One
// process of it (one checkpoint per followed category); ENABLE_WORKFLOW_ENGINE=false leaves it idle.
// Its agenda is rebuilt at start from the workflow-timers read model, read from storage rather
// than queried: embedded mode starts this role before the projections role.

export async function startWorkflowEngine({ config, nc, store, logger }: RoleContext): Promise<() => Promise<void>> {
  const log = logger.child({ role: 'workflow-engine' });
  if (!config.features.workflowEngine) {
    log.info('workflow engine disabled (ENABLE_WORKFLOW_ENGINE=false)');
    return async () => undefined;
  }
  const engine = new WorkflowEngine({
    store,
    checkpoints: await KvCheckpointStore.connect(nc, config.prefix, { replicas: config.nats.replicas }),
    commands: new CommandClient(nc, config.prefix),
    logger: log,
    routeTask: taskRoutes(config),
    rerunSafe: rerunSafeFor,
    // A step that understates its side effects is not run; a paid run over a cap waits for the cost gate (AG5).
    classify: sideEffectClassOf,
    costGate: gateRequirements(config).cost,
    timersModel: workflowTimersAgenda(
      new ServingModelReader(await KvReadModelStorage.connect(nc, config.prefix, { replicas: config.nats.replicas }), workflowTimers.name),
    ),
    // The prices the step runner budgets paid runs with; its host sends the Budget commands (and gives up on stop).
    paidRuns: new PaidRunBudget({
      // A paid run's descriptor names the cost setting that caps it; its result reports what it cost.
      ceilingUsd: (taskType) => costCeilingUsdFor(taskType, config.cost),
      caps: budgetCaps(config),
    }),
  });
  await engine.start();
  return () => engine.stop();
}

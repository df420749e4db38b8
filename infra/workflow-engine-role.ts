import { rerunSafeFor } from '../adapters/executors/registry.ts';
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
  // Stops Budget commands still waiting for a host, so shutdown is not blocked by them.
  const stopping = new AbortController();
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
    timersModel: workflowTimersAgenda(new ServingModelReader(await KvReadModelStorage.connect(nc, config.prefix, { replicas: config.nats.replicas }), workflowTimers.name)),
    paidRuns: new PaidRunBudget({
      commands: new CommandClient(nc, config.prefix),
      // Headless Claude Code is the one paid run; its result reports what it cost.
      ceilingUsd: (taskType) => (taskType === 'claude-code' ? config.cost.claudeRunCeilingUsd : undefined),
      caps: budgetCaps(config),
      logger: log.child({ component: 'paid-runs' }),
      signal: stopping.signal,
    }),
  });
  await engine.start();
  return () => {
    stopping.abort();
    return engine.stop();
  };
}

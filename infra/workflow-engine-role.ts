import { CommandClient } from '../actors/runtime/command-client.ts';
import { WorkflowEngine } from '../actors/workflow-engine.ts';
import { KvCheckpointStore } from '../adapters/nats/kv-checkpoint-store.ts';
import type { RoleContext } from './role-context.ts';
import { taskRoutes } from './task-routes.ts';

// The `workflow-engine` role: runs workflows' steps as tasks and fires their timers. One
// process of it (one checkpoint per followed category); ENABLE_WORKFLOW_ENGINE=false leaves it idle.

export async function startWorkflowEngine({ config, nc, store, logger }: RoleContext): Promise<() => Promise<void>> {
  const log = logger.child({ role: 'workflow-engine' });
  if (!config.features.workflowEngine) {
    log.info('workflow engine disabled (ENABLE_WORKFLOW_ENGINE=false)');
    return async () => undefined;
  }
  const engine = new WorkflowEngine({
    store,
    checkpoints: await KvCheckpointStore.connect(nc, config.prefix),
    commands: new CommandClient(nc, config.prefix),
    logger: log,
    routeTask: taskRoutes(config),
    onReminder: (reminder) => log.info(reminder, 'approval reminder due'),
  });
  await engine.start();
  return () => engine.stop();
}

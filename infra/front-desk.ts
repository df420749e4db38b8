import { ConversationIntake, type IncomingMessage } from '../actors/conversation-intake.ts';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { slashCommands, type StatusSource } from '../actors/slash-commands.ts';
import type { WorkflowDesk } from '../actors/workflow-slash-commands.ts';
import { executors } from '../adapters/executors/registry.ts';
import type { ReplyTarget } from '../domain/task/fields.ts';
import { TOTALS_KEY, type TaskTotals } from '../projections/models/task-stats.ts';
import { QueryClient } from '../projections/runtime/query-client.ts';
import type { RoleContext } from './role-context.ts';
import { taskRoutes } from './task-routes.ts';
import { POOLS, workerCount } from './pools.ts';

// What every front end (Slack, console) talks to: the conversation intake and the slash
// command table, wired to this deployment's task types, pools and read models.

export function conversationIntake(context: RoleContext, replyTarget: (message: IncomingMessage) => ReplyTarget): ConversationIntake {
  const { config, nc, store, logger } = context;
  return new ConversationIntake({
    commands: new CommandClient(nc, config.prefix),
    store,
    logger: logger.child({ component: 'intake' }),
    routeTask: taskRoutes(config),
    replyTarget,
  });
}

export function slashCommandTable(context: RoleContext, frontEnd: string) {
  const { config, nc, store, logger } = context;
  const queries = new QueryClient(nc, config.prefix, 2_000);
  const status: StatusSource = {
    planner: config.anthropic.apiKey ? 'anthropic' : 'offline',
    frontEnd,
    pools: POOLS.map((pool) => ({ pool, workers: workerCount(config, pool), taskTypes: executors.filter((e) => e.pool === pool).map((e) => e.taskType) })),
    taskTotals: async () => (await queries.get('task-stats', TOTALS_KEY)) as TaskTotals | undefined,
  };
  const workflows: WorkflowDesk = {
    commands: new CommandClient(nc, config.prefix),
    store,
    logger: logger.child({ component: 'slash-workflows' }),
    registry: { taskTypes: executors.map((e) => e.taskType), sideEffecting: executors.filter((e) => e.sideEffects).map((e) => e.taskType) },
    maxExecutionMs: config.workflows.maxExecutionTimeMs,
  };
  return slashCommands(status, workflows);
}

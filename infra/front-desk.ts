import { ConversationIntake, type IncomingMessage } from '../actors/conversation-intake.ts';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { AggregateStateClient } from '../actors/runtime/aggregate-state-client.ts';
import { slashCommands, type StatusSource } from '../actors/slash-commands.ts';
import type { WorkflowDesk } from '../actors/workflow-slash-commands.ts';
import { DecisionDesk } from '../actors/decision-desk.ts';
import type { BudgetCaps } from '../actors/paid-run-budget.ts';
import { PlanningDesk } from '../actors/planning-desk.ts';
import { anthropicPlanner } from '../adapters/anthropic/anthropic-planner.ts';
import { executors, sideEffectClassFor } from '../adapters/executors/registry.ts';
import { offlinePlanner } from '../adapters/offline-planner/offline-planner.ts';
import type { Planner } from '../domain/ports/planner.ts';
import type { Config } from './config/schema.ts';
import type { ReplyTarget } from '../domain/task/fields.ts';
import { TOTALS_KEY, type TaskTotals } from '../projections/models/task-stats.ts';
import { QueryClient } from '../projections/runtime/query-client.ts';
import type { RoleContext } from './role-context.ts';
import { taskRoutes } from './task-routes.ts';
import { gatedRegistry } from './gate-requirements.ts';
import { POOLS, workerCount } from './pools.ts';
import { gateRequirements as policyGates } from '../domain/policy/index.ts';
import { classifyTask } from './policy/classify-task.ts';
import { policyFor } from './policy/load-policy.ts';
import { workflowRequestCheck } from './doors/workflow-request-check.ts';
import { secretValuesOf } from './secret-values.ts';

// What every front end (Slack, console) talks to: the conversation intake and the slash
// command table, wired to this deployment's task types, pools and read models.

export function conversationIntake(context: RoleContext, replyTarget: (message: IncomingMessage) => ReplyTarget): ConversationIntake {
  const { config, nc, logger } = context;
  const commands = new CommandClient(nc, config.prefix);
  const states = new AggregateStateClient(nc, config.prefix);
  return new ConversationIntake({
    commands,
    states,
    logger: logger.child({ component: 'intake' }),
    routeTask: taskRoutes(config),
    taskTypes: executors,
    replyTarget,
    planning: new PlanningDesk({
      commands,
      states,
      planner: planner(config),
      registry: executors,
      // "Run this plan" is the requester's to press; gates inside the workflow follow the policy (infra/gate-requirements.ts).
      // The policy's approvers for the plan's kind of work replace that where it names some.
      approvalRules: {
        costThresholdUsd: config.workflows.planCostThresholdUsd,
        requesterMayApprove: true,
        gates: policyGates(policyFor(config)),
        classify: sideEffectClassFor,
      },
      caps: budgetCaps(config),
      logger: logger.child({ component: 'planning' }),
      secretValues: secretValuesOf(config),
      policy: { rules: policyFor(config), classify: classifyTask },
    }),
    decisions: decisionDesk(context),
    policy: { rules: policyFor(config), sideEffectOf: sideEffectClassFor },
  });
}

export const decisionDesk = ({ config, nc, logger }: RoleContext): DecisionDesk =>
  new DecisionDesk({
    commands: new CommandClient(nc, config.prefix),
    states: new AggregateStateClient(nc, config.prefix),
    logger: logger.child({ component: 'decisions' }),
    // Unknown outcomes of side-effecting tasks are decided under the same rule as approval gates.
    outcomeDeciders: {
      ...(config.workflows.approvers ? { approvers: config.workflows.approvers } : {}),
      requesterMayApprove: config.workflows.requesterMayApprove,
    },
    policy: { rules: policyFor(config), classify: classifyTask },
  });

/** The month's caps from COST_BUDGET_*; undefined when no monthly budget is set (spending recorded, never capped). */
export function budgetCaps(config: Config): BudgetCaps | undefined {
  const { monthlyBudgetUsd, perWorkflowBudgetUsd, warningThreshold, criticalThreshold } = config.cost;
  if (monthlyBudgetUsd === undefined) return undefined;
  return {
    monthlyUsd: monthlyBudgetUsd,
    ...(perWorkflowBudgetUsd !== undefined ? { perWorkflowUsd: perWorkflowBudgetUsd } : {}),
    warningFraction: warningThreshold,
    criticalFraction: criticalThreshold,
  };
}

/** Claude through the Messages API when a key is set; the offline planner otherwise. */
function planner(config: Config): Planner {
  const { apiKey, baseUrl, models, prices } = config.anthropic;
  if (!apiKey) return offlinePlanner(executors);
  return anthropicPlanner({
    apiKey,
    baseUrl,
    registry: executors,
    models: { simple: { model: models.sonnet, price: prices.sonnet }, complex: { model: models.opus, price: prices.opus } },
  });
}

export function slashCommandTable(context: RoleContext, frontEnd: string) {
  const { config, nc, logger } = context;
  const queries = new QueryClient(nc, config.prefix, 2_000);
  const status: StatusSource = {
    planner: config.anthropic.apiKey ? 'anthropic' : 'offline',
    frontEnd,
    pools: POOLS.map((pool) => ({ pool, workers: workerCount(config, pool), taskTypes: executors.filter((e) => e.pool === pool).map((e) => e.taskType) })),
    taskTotals: async () => (await queries.get('task-stats', TOTALS_KEY)) as TaskTotals | undefined,
  };
  const workflows: WorkflowDesk = {
    commands: new CommandClient(nc, config.prefix),
    states: new AggregateStateClient(nc, config.prefix),
    logger: logger.child({ component: 'slash-workflows' }),
    // Templates compile with the policy's gates (gate-requirements.ts).
    registry: gatedRegistry(config),
    maxExecutionMs: config.workflows.maxExecutionTimeMs,
    dryRun: config.features.dryRun,
    // Refused when asked, not when a step runs: what the workflow door checks, and repositories in the workspace when it is here.
    checkRequest: workflowRequestCheck(config),
    policy: { rules: policyFor(config), classify: classifyTask },
  };
  return slashCommands(status, workflows, policyFor(config));
}

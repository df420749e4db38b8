import { flatMap, map, mapLeft, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { noUsage } from '../../domain/cost/token-cost.ts';
import { parseIntent } from '../../domain/intent/index.ts';
import { describeIssues, plannerOutputInvalid, validatePlan, type Plan, type RegisteredTaskType } from '../../domain/plan/index.ts';
import type { Planner, PlannerError, PlanningContext, ProducedPlan } from '../../domain/ports/planner.ts';
import { deployPlan, isDeployRequest } from './deploy-recipe.ts';
import { singleTaskPlan } from './single-task.ts';

// The planner without an API key (DESIGN: "with no Anthropic key the offline planner plans"):
// deterministic, free, and limited to the common requests: one registered task asked for in
// the words its descriptor gives (domain/intent), or the deploy recipe. Its plans pass the same validation as the model's,
// so a recipe naming a task type that is not registered is reported, never run.

export const OFFLINE_MODEL = 'offline';

const spent = { model: OFFLINE_MODEL, usage: noUsage, costUsd: 0 };

export function offlinePlan(request: string, context: PlanningContext, registry: readonly RegisteredTaskType[]): Either<PlannerError, ProducedPlan> {
  const drafted: Either<PlannerError, Plan> = isDeployRequest(request)
    ? deployPlan(request, context.variables, registry)
    : pipe(parseIntent(request, context.variables, registry), map(singleTaskPlan(registry)));
  return pipe(
    drafted,
    flatMap((plan) =>
      pipe(
        validatePlan(plan, registry),
        mapLeft((issues): PlannerError => plannerOutputInvalid(describeIssues(issues), 1, spent)),
      ),
    ),
    map((plan) => ({ plan, ...spent })),
  );
}

export const offlinePlanner = (registry: readonly RegisteredTaskType[]): Planner => ({
  plan: (request, context) => Promise.resolve(offlinePlan(request, context, registry)),
  costCeilingUsd: () => 0,
});

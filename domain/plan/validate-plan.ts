import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { invalidPlanShape, invalidStepParameters, pathEscapesWorkspace, planTooLarge, unknownTaskType, type PlanIssue } from './plan-issues.ts';
import { planSchema, type Plan, type TaskStep } from './plan-schema.ts';
import { allSteps, taskSteps } from './plan-steps.ts';
import type { RegisteredTaskType } from './registered-task-type.ts';
import { checkStepReferences, duplicateStepIds } from './step-references.ts';
import { escapesWorkspace, stringsIn } from './workspace-path.ts';

// A plan may name only registered task types, with parameters their schemas accept, paths
// inside the workspace, unique step ids, and conditions over steps that finish first (SE5,
// TW8, OR1). Every problem is reported, not the first one.

/** A plan a person can still read in a Slack preview. */
export const MAX_PLAN_STEPS = 100;

export function validatePlan(plan: Plan, registry: readonly RegisteredTaskType[]): Either<readonly PlanIssue[], Plan> {
  const count = allSteps(plan).length;
  const issues = [
    ...(count > MAX_PLAN_STEPS ? [planTooLarge(count, MAX_PLAN_STEPS)] : []),
    ...duplicateStepIds(plan),
    ...taskSteps(plan).flatMap((step) => taskStepIssues(step, registry)),
    ...checkStepReferences(plan),
  ];
  return issues.length === 0 ? right(plan) : left(issues);
}

/** Shape first (the plan schema), then the rules above: what the planner's output goes through. */
export function parsePlan(input: unknown, registry: readonly RegisteredTaskType[]): Either<readonly PlanIssue[], Plan> {
  const parsed = planSchema.safeParse(input);
  return parsed.success ? validatePlan(parsed.data, registry) : left(parsed.error.issues.map(invalidPlanShape));
}

function taskStepIssues(step: TaskStep, registry: readonly RegisteredTaskType[]): PlanIssue[] {
  const escapes = stringsIn(step.params, 'params')
    .filter(({ value }) => escapesWorkspace(value))
    .map(({ path, value }) => pathEscapesWorkspace(step.id, path, value));
  const registered = registry.find((r) => r.taskType === step.taskType);
  if (registered === undefined)
    return [
      ...escapes,
      unknownTaskType(
        step.id,
        step.taskType,
        registry.map((r) => r.taskType),
      ),
    ];
  const parsed = registered.parameters.safeParse(step.params);
  return parsed.success ? escapes : [...escapes, ...parsed.error.issues.map((i) => invalidStepParameters(step.id, step.taskType, i))];
}

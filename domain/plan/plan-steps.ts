import { match } from 'ts-pattern';
import type { Plan, PlanStep, TaskStep } from './plan-schema.ts';

// Walking a plan's step tree in document order, which is also the order steps can run in.

/** The steps directly inside a step: a parallel step's branches, a conditional's then and else. */
export const childSteps = (step: PlanStep): readonly PlanStep[] =>
  match(step)
    .with({ kind: 'parallel' }, (s) => s.branches.flat())
    .with({ kind: 'conditional' }, (s) => [...s.then, ...(s.else ?? [])])
    .otherwise(() => []);

/** The steps and everything nested in them, each parent before its children. */
export const flattenSteps = (steps: readonly PlanStep[]): PlanStep[] => steps.flatMap((step) => [step, ...flattenSteps(childSteps(step))]);

export const allSteps = (plan: Plan): PlanStep[] => flattenSteps(plan.phases.flatMap((phase) => phase.steps));

export const taskSteps = (plan: Plan): TaskStep[] => allSteps(plan).filter((step): step is TaskStep => step.kind === 'task');

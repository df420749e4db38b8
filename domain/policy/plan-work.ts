import type { Plan } from '../plan/plan-schema.ts';
import { taskSteps } from '../plan/plan-steps.ts';
import type { WorkStep } from './evaluate.ts';
import type { ClassifyTask } from './workflow-gates.ts';

/** The work a plan's steps would do, for the policy: each task step's type, side-effect class and target org. */
export const planWorkSteps = (plan: Plan, classify: ClassifyTask): WorkStep[] =>
  taskSteps(plan).map((step) => ({
    taskType: step.taskType,
    sideEffect: classify({ ...step, sideEffects: false }),
    targetOrg: typeof step.params['targetOrg'] === 'string' ? step.params['targetOrg'] : undefined,
  }));

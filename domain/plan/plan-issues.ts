import type { z } from 'zod';

// What is wrong with a plan, one issue per problem, each naming the step it is about, so a
// person (or the planner model, in its one repair attempt) can fix all of them at once.

export type PlanIssueCode =
  | 'InvalidPlanShape'
  | 'PlanTooLarge'
  | 'UnknownTaskType'
  | 'InvalidStepParameters'
  | 'PathEscapesWorkspace'
  | 'DuplicateStepId'
  | 'UnknownStepReference'
  | 'StepCycle';

export interface PlanIssue {
  readonly code: PlanIssueCode;
  readonly message: string;
  readonly stepId?: string;
}

const issue = (code: PlanIssueCode, message: string, stepId?: string): PlanIssue => ({ code, message, ...(stepId !== undefined && { stepId }) });

const issuePath = (path: readonly PropertyKey[]): string => (path.length > 0 ? path.map(String).join('.') : 'plan');

export const invalidPlanShape = (zodIssue: z.core.$ZodIssue): PlanIssue => issue('InvalidPlanShape', `${issuePath(zodIssue.path)}: ${zodIssue.message}`);

export const planTooLarge = (count: number, max: number): PlanIssue => issue('PlanTooLarge', `the plan has ${count} steps; at most ${max} are allowed`);

export const unknownTaskType = (stepId: string, taskType: string, known: readonly string[]): PlanIssue =>
  issue('UnknownTaskType', `step ${stepId}: ${JSON.stringify(taskType)} is not a registered task type; use one of ${known.join(', ')}`, stepId);

export const invalidStepParameters = (stepId: string, taskType: string, zodIssue: z.core.$ZodIssue): PlanIssue =>
  issue('InvalidStepParameters', `step ${stepId} (${taskType}): ${['params', ...zodIssue.path.map(String)].join('.')}: ${zodIssue.message}`, stepId);

export const pathEscapesWorkspace = (stepId: string, path: string, value: string): PlanIssue =>
  issue(
    'PathEscapesWorkspace',
    `step ${stepId}: ${path} = ${JSON.stringify(value)} points outside the workspace; use a path relative to it without ".."`,
    stepId,
  );

export const duplicateStepId = (stepId: string, count: number): PlanIssue =>
  issue('DuplicateStepId', `step id ${stepId} is used by ${count} steps; ids must be unique within the plan`, stepId);

export const unknownStepReference = (stepId: string, reference: string): PlanIssue =>
  issue('UnknownStepReference', `step ${stepId}: the condition reads steps.${reference}, but the plan has no step ${reference}`, stepId);

export const stepCycle = (stepId: string, reference: string, why: string): PlanIssue =>
  issue('StepCycle', `step ${stepId}: the condition reads steps.${reference}, ${why}; a condition may only read steps that finish before it`, stepId);

/** One line per issue, for a message or for the planner's repair request. */
export const describeIssues = (issues: readonly PlanIssue[]): string[] => issues.map((i) => `${i.code}: ${i.message}`);

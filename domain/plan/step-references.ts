import { match } from 'ts-pattern';
import { duplicateStepId, stepCycle, unknownStepReference, type PlanIssue } from './plan-issues.ts';
import type { ConditionalStep, Plan, PlanStep } from './plan-schema.ts';
import { allSteps, childSteps, flattenSteps } from './plan-steps.ts';

// Conditions read outputs of steps that have finished. Walking the plan in running order
// keeps the set of steps finished so far: everything in earlier phases and earlier in the
// same sequence, and the whole of an earlier parallel or conditional step. A step in a
// sibling parallel branch, a later step, the conditional itself or one of its own branches
// has not finished when the condition is read: waiting for it would never end (StepCycle).

/**
 * `steps.<id>` or `steps["<id>"]` wherever it appears in a condition. Only the references
 * are read here; parsing and evaluating the expression form is the workflow engine's job.
 */
const STEP_REFERENCE = /\bsteps(?:\.([A-Za-z_][A-Za-z0-9_-]*)|\[\s*(["'])([^"'\]]*)\2\s*\])/g;

export const stepReferences = (condition: string): string[] => [...new Set([...condition.matchAll(STEP_REFERENCE)].map((m) => m[1] ?? m[3] ?? ''))];

export function duplicateStepIds(plan: Plan): PlanIssue[] {
  const counts = new Map<string, number>();
  for (const step of allSteps(plan)) counts.set(step.id, (counts.get(step.id) ?? 0) + 1);
  return [...counts].filter(([, count]) => count > 1).map(([id, count]) => duplicateStepId(id, count));
}

export function checkStepReferences(plan: Plan): PlanIssue[] {
  const known = new Set(allSteps(plan).map((step) => step.id));
  const issues: PlanIssue[] = [];

  const misplaced = (step: ConditionalStep, reference: string): PlanIssue => {
    if (!known.has(reference)) return unknownStepReference(step.id, reference);
    if (reference === step.id) return stepCycle(step.id, reference, 'which is this step itself');
    if (flattenSteps(childSteps(step)).some((s) => s.id === reference)) return stepCycle(step.id, reference, 'which runs inside this condition’s own branches');
    return stepCycle(step.id, reference, `but step ${reference} does not finish before this one (it comes later or runs in parallel with it)`);
  };

  /** Checks a sequence that starts once `before` have finished; returns what has finished after it. */
  const walk = (steps: readonly PlanStep[], before: ReadonlySet<string>): Set<string> => {
    let finished = new Set(before);
    for (const step of steps) {
      finished = match(step)
        .with({ kind: 'parallel' }, (s) => union(s.branches.map((branch) => walk(branch, finished))))
        .with({ kind: 'conditional' }, (s) => {
          for (const reference of stepReferences(s.condition)) if (!finished.has(reference)) issues.push(misplaced(s, reference));
          return union([walk(s.then, finished), walk(s.else ?? [], finished)]);
        })
        .otherwise(() => finished);
      finished.add(step.id);
    }
    return finished;
  };

  plan.phases.reduce<ReadonlySet<string>>((finished, phase) => walk(phase.steps, finished), new Set());
  return issues;
}

const union = (sets: readonly ReadonlySet<string>[]): Set<string> => new Set(sets.flatMap((s) => [...s]));

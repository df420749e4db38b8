import { sideEffectClassFor } from '../../adapters/executors/registry.ts';
import type { ClassifyTask } from '../../domain/policy/index.ts';
import type { SideEffectClass } from '../../domain/workflow/gate-policy.ts';

// A step's side-effect class for the policy: what its executor says these parameters do, made
// no milder than what the step itself declares (a definition may call a step side-effecting).

const ORDER: readonly SideEffectClass[] = ['read-only', 'code-change', 'deploy'];

export const classifyTask: ClassifyTask = (task) => {
  const byExecutor = sideEffectClassFor(task.taskType, task.params);
  const declared: SideEffectClass = task.sideEffects ? 'code-change' : 'read-only';
  return ORDER.indexOf(declared) > ORDER.indexOf(byExecutor) ? declared : byExecutor;
};

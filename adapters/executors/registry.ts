import type { Executor } from '../../domain/ports/executor.ts';
import type { SideEffectClass } from '../../domain/workflow/gate-policy.ts';
import { claudeCode } from './claude/claude-code.ts';
import { analyzeCodebase } from './local/analyze-codebase.ts';
import { gitStatus } from './local/git-status.ts';
import { lint } from './local/lint.ts';
import { runTests } from './local/run-tests.ts';
import { report } from './local/report.ts';
import { sfDeploy } from './salesforce/sf-deploy.ts';
import { sfRunApexTests } from './salesforce/sf-run-apex-tests.ts';

// Every task type a worker can run. Adding one is one executor file plus one line here; chat
// and model output only ever select one of these by name (SE5).

export const executors = [gitStatus, analyzeCodebase, runTests, lint, sfDeploy, sfRunApexTests, report, claudeCode] as const;

export type TaskType = (typeof executors)[number]['taskType'];

export const taskTypes: readonly TaskType[] = executors.map((executor) => executor.taskType);

/** The task types whose executors change something outside (code, deployments). */
export const sideEffectingTaskTypes: readonly TaskType[] = executors.filter((executor) => executor.sideEffects).map((executor) => executor.taskType);

const byType = new Map<string, Executor>(executors.map((executor) => [executor.taskType, executor as Executor]));
if (byType.size !== executors.length) throw new Error('two executors are registered for the same task type');

/** The executor registered for a task type, or undefined for an unknown one. */
export function executorFor(taskType: string): Executor | undefined {
  return byType.get(taskType);
}

export function isTaskType(value: string): value is TaskType {
  return byType.has(value);
}

/**
 * Whether a task of this type with these parameters may run again when an attempt's outcome is
 * unknown. Parameters that do not parse never run, so nothing could repeat: true.
 */
export function rerunSafeFor(taskType: string, payload: unknown): boolean {
  const executor = byType.get(taskType);
  const params = executor?.parameters.safeParse(payload);
  return !executor || !params?.success || (executor.rerunSafe?.(params.data) ?? true);
}

/**
 * What a task of this type with these parameters does outside, for the authorization policy.
 * Parameters that do not parse count as the worst the executor could do (a deploy for an
 * executor that classifies its runs, a code change for one that only declares side effects).
 * An unknown task type never runs: read-only.
 */
export function sideEffectClassFor(taskType: string, payload: unknown): SideEffectClass {
  const executor = byType.get(taskType);
  if (!executor) return 'read-only';
  const params = executor.parameters.safeParse(payload);
  if (!params.success) return executor.sideEffectClass ? 'deploy' : executor.sideEffects ? 'code-change' : 'read-only';
  return executor.sideEffectClass?.(params.data) ?? (executor.sideEffects ? 'code-change' : 'read-only');
}

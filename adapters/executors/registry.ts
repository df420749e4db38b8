import type { TaskTypeDescriptor } from '../../domain/task-types/descriptor.ts';
import type { SideEffectClass } from '../../domain/workflow/gate-policy.ts';
import type { TaskTypeExecutor } from './task-type.ts';
import { claudeCode } from './claude/claude-code.ts';
import { analyzeCodebase } from './local/analyze-codebase.ts';
import { countLines } from './local/count-lines.ts';
import { gitStatus } from './local/git-status.ts';
import { lint } from './local/lint.ts';
import { runTests } from './local/run-tests.ts';
import { report } from './local/report.ts';
import { sfDeploy } from './salesforce/sf-deploy.ts';
import { sfRunApexTests } from './salesforce/sf-run-apex-tests.ts';

// Every task type a worker can run. Adding one is one file (its executor and its descriptor:
// pool, side effects, description, estimate, chat phrasing, reply format, cost setting) plus
// one line here; everything else (chat, replies, plan estimates, pools, cost ceilings) reads
// this list. Chat and model output only ever select one of these by name (SE5).

export const executors = [gitStatus, analyzeCodebase, runTests, lint, sfDeploy, sfRunApexTests, report, claudeCode, countLines] as const;

export type TaskType = (typeof executors)[number]['taskType'];

export const taskTypes: readonly TaskType[] = executors.map((executor) => executor.taskType);

/** The task types whose executors change something outside (code, deployments). */
export const sideEffectingTaskTypes: readonly TaskType[] = executors.filter((executor) => executor.sideEffects).map((executor) => executor.taskType);

/** The registered task types' descriptors (each executor is its type's descriptor), for the pure parts that read them. */
export const taskTypeDescriptors: readonly TaskTypeDescriptor[] = executors;

const byType = new Map<string, TaskTypeExecutor>(executors.map((executor) => [executor.taskType, executor as TaskTypeExecutor]));
if (byType.size !== executors.length) throw new Error('two executors are registered for the same task type');

/** The executor registered for a task type, or undefined for an unknown one. */
export function executorFor(taskType: string): TaskTypeExecutor | undefined {
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

/**
 * The most one run of this type may spend on a model, read from the cost setting its
 * descriptor names (`config.cost`); undefined for a type whose runs spend no model money.
 * A descriptor naming a setting that holds no amount is a registration mistake: it throws.
 */
export function costCeilingUsdFor(taskType: string, costSettings: object): number | undefined {
  const setting = byType.get(taskType)?.costCeilingSetting;
  if (setting === undefined) return undefined;
  const amount: unknown = (costSettings as Record<string, unknown>)[setting];
  if (typeof amount !== 'number') throw new Error(`${taskType}'s cost ceiling setting ${JSON.stringify(setting)} holds no amount`);
  return amount;
}

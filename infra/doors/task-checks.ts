import type { z } from 'zod';
import { escapesWorkspace } from '../../domain/plan/workspace-path.ts';
import type { ReplyTarget } from '../../domain/task/fields.ts';
import type { DoorFacts } from './door-facts.ts';

// The checks one task passes at the door, whether it comes as a QueueTask or as a step of a
// workflow: a registered task type, the pool that runs it, parameters its executor accepts,
// no path out of the workspace, and a reply target this deployment delivers to. The first
// failing check answers; each has its own name.

export type DoorRefusalCode =
  'UnknownTaskType' | 'UnknownPool' | 'InvalidTaskParameters' | 'OutsideWorkspace' | 'ReplyTargetNotServed' | 'SideEffectsUnderstated';

export interface DoorRefusal {
  readonly code: DoorRefusalCode;
  readonly message: string;
}

export interface TaskAtTheDoor {
  readonly taskType: string;
  /** Undefined: the pool that runs the task type (a workflow step without one). */
  readonly pool?: string | undefined;
  readonly params: unknown;
  readonly replyTo?: ReplyTarget | undefined;
  /** How the refusal names the task: `the task`, `step "deploy"`. */
  readonly name: string;
  /** Where the parameters sit in the command, for messages: `payload`, `params`. */
  readonly paramsAt: string;
  /**
   * Workflow steps: parameters may hold `{ "$from": … }` references to earlier steps' outputs
   * and `{{…}}` left for later; only literal values are checked.
   */
  readonly literalOnly?: boolean;
}

type Path = readonly (string | number)[];
type Found = { readonly path: Path; readonly value: string };

const isReference = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).length === 1 &&
  typeof (value as Record<string, unknown>).$from === 'string';
const isPlaceholder = (value: unknown): boolean => typeof value === 'string' && value.includes('{{');

/** Literal strings with their paths, and the paths whose value is only known when the step runs. */
function scan(value: unknown, literalOnly: boolean): { strings: Found[]; unknown: Path[] } {
  const strings: Found[] = [];
  const unknown: Path[] = [];
  const visit = (v: unknown, path: Path): void => {
    if (literalOnly && (isReference(v) || isPlaceholder(v))) unknown.push(path);
    else if (typeof v === 'string') strings.push({ path, value: v });
    else if (Array.isArray(v)) v.forEach((item, i) => visit(item, [...path, i]));
    else if (typeof v === 'object' && v !== null) for (const [key, item] of Object.entries(v)) visit(item, [...path, key]);
  };
  visit(value, []);
  return { strings, unknown };
}

const startsWith = (path: Path, prefix: Path): boolean => prefix.length <= path.length && prefix.every((p, i) => String(path[i]) === String(p));
const at = (base: string, path: Path): string => [base, ...path.map(String)].join('.');

function parameterIssues(schema: z.ZodType, params: unknown, unknown: readonly Path[], base: string): string[] {
  const parsed = schema.safeParse(params);
  if (parsed.success) return [];
  return parsed.error.issues
    .filter((issue) => !unknown.some((u) => startsWith(issue.path as Path, u)))
    .map((issue) => `${at(base, issue.path as Path)}: ${issue.message}`);
}

export function checkTask(task: TaskAtTheDoor, facts: DoorFacts): DoorRefusal | undefined {
  const executor = facts.executorFor(task.taskType);
  if (!executor) return { code: 'UnknownTaskType', message: `${task.name}: no worker here runs "${task.taskType}" tasks` };
  if (task.pool !== undefined && task.pool !== executor.pool) {
    const known = facts.pools.includes(task.pool)
      ? `pool "${task.pool}" does not run "${task.taskType}" tasks`
      : `there is no pool "${task.pool}"; pools: ${facts.pools.join(', ')}`;
    return { code: 'UnknownPool', message: `${task.name}: ${known} (it runs in "${executor.pool}")` };
  }
  const { strings, unknown } = scan(task.params, task.literalOnly === true);
  const escaping = strings.filter((s) => escapesWorkspace(s.value));
  if (escaping.length > 0) {
    const list = escaping.map((s) => `${at(task.paramsAt, s.path)} = ${JSON.stringify(s.value.slice(0, 200))}`).join('; ');
    return { code: 'OutsideWorkspace', message: `${task.name}: paths must stay inside the workspace: ${list}` };
  }
  const issues = parameterIssues(executor.parameters, task.params, unknown, task.paramsAt);
  if (issues.length > 0)
    return { code: 'InvalidTaskParameters', message: `${task.name}: "${task.taskType}" does not take these parameters: ${issues.join('; ')}` };
  return replyTargetRefusal(task, facts);
}

function replyTargetRefusal(task: TaskAtTheDoor, facts: DoorFacts): DoorRefusal | undefined {
  if (!task.replyTo) return undefined;
  const target = facts.replyTargets[task.replyTo.kind];
  return target.served ? undefined : { code: 'ReplyTargetNotServed', message: `${task.name}: the result could not be delivered: ${target.why}` };
}

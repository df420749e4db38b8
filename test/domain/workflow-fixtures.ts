import { isLeft } from 'fp-ts/lib/Either.js';
import {
  registerDefinition,
  type CompiledWorkflow,
  type TaskNode,
  type WorkflowCommand,
  type WorkflowCommandOf,
  type WorkflowEvent,
  type WorkflowEventData,
  type WorkflowEventOf,
} from '../../domain/workflow/index.ts';

// Builders shared by the workflow specifications: a handful of definitions, and events and
// commands with the workflow id and time filled in, so each case reads as its rule.

export const workflowId = 'W1';
export const requester = 'U-req';
/** Minute `m` (and second `s`) past ten on the day of the fixtures. */
export const minute = (m: number, s = 0) => new Date(Date.UTC(2026, 10, 21, 10, m, s)).toISOString();
export const at = minute(0);

export const registry = { taskTypes: ['analyze-codebase', 'run-tests', 'lint', 'claude-code', 'sf-deploy', 'report'] };

export function compiled(definition: unknown): CompiledWorkflow {
  const result = registerDefinition(definition, registry);
  if (isLeft(result)) throw new Error(`fixture definition is invalid: ${result.left.map((e) => e.message).join('; ')}`);
  return result.right;
}

export const task = (id: string, taskType = 'run-tests', extra: object = {}) => ({ type: 'task', id, taskType, params: { repository: 'acme' }, ...extra });
export const tree = (...steps: object[]) => compiled({ form: 'stepTree', name: 'fixture', root: { type: 'sequence', steps } });

export const event = <K extends WorkflowEvent['type']>(type: K, data: Omit<WorkflowEventData<K>, 'workflowId' | 'at'>, when = at): WorkflowEventOf<K> =>
  ({ type, data: { workflowId, ...data, at: when } }) as WorkflowEventOf<K>;
export const command = <K extends WorkflowCommand['type']>(
  type: K,
  fields: Omit<WorkflowCommandOf<K>, 'type' | 'workflowId' | 'at'>,
  when = at,
): WorkflowCommandOf<K> => ({ type, workflowId, at: when, ...fields }) as WorkflowCommandOf<K>;

function taskNode(definition: CompiledWorkflow, stepId: string): TaskNode {
  const search = (nodes: CompiledWorkflow['machine']['nodes']): TaskNode | undefined => {
    for (const node of nodes) {
      if (node.kind === 'task' && node.id === stepId) return node;
      if (node.kind === 'parallel')
        for (const branch of node.branches) {
          const found = search(branch.nodes);
          if (found) return found;
        }
    }
    return undefined;
  };
  const found = search(definition.machine.nodes);
  if (!found) throw new Error(`no task step ${stepId} in the fixture definition`);
  return found;
}

interface Scheduling {
  readonly attempt?: number;
  readonly visit?: number;
  readonly dryRun?: boolean;
  readonly params?: Record<string, unknown>;
}

/** Events and commands for one definition. */
export function fixturesFor(definition: CompiledWorkflow) {
  const toRun = (stepId: string, attempt: number, dryRun: boolean, params?: Record<string, unknown>) => {
    const node = taskNode(definition, stepId);
    return {
      stepId,
      attempt,
      taskId: `${workflowId}_${stepId}_${attempt}`,
      taskType: node.taskType,
      ...(node.title !== undefined && { title: node.title }),
      ...(node.pool !== undefined && { pool: node.pool }),
      params: (params ?? node.params) as TaskNode['params'],
      ...(node.timeoutMs !== undefined && { timeoutMs: node.timeoutMs }),
      dryRun,
      sideEffects: node.sideEffects,
    };
  };
  return {
    started: (overrides: Partial<WorkflowEventData<'WorkflowStarted'>> = {}) =>
      event('WorkflowStarted', {
        definition,
        inputs: {},
        requestedBy: requester,
        maxExecutionMs: 3_600_000,
        timesOutAt: minute(60),
        dryRun: false,
        ...overrides,
      }),
    scheduled: (stepId: string, { attempt = 1, visit = 1, dryRun = false, params }: Scheduling = {}, when = at) =>
      event('StepScheduled', { ...toRun(stepId, attempt, dryRun, params), visit }, when),
    retryScheduled: (stepId: string, attempt: number, delayMs: number, when = at) =>
      event('StepRetryScheduled', { ...toRun(stepId, attempt, false), dueAt: new Date(Date.parse(when) + delayMs).toISOString(), delayMs }, when),
    startWorkflow: (overrides: Partial<WorkflowCommandOf<'StartWorkflow'>> = {}) =>
      command('StartWorkflow', { definition, inputs: {}, requestedBy: requester, maxExecutionMs: 3_600_000, dryRun: false, ...overrides }),
  };
}

// ── events any definition shares ─────────────────────────────────────────────────
export const stepStarted = (stepId: string, attempt = 1, extra: { workerId?: string; timesOutAt?: string } = {}) =>
  event('StepStarted', { stepId, attempt, taskId: `${workflowId}_${stepId}_${attempt}`, ...extra });
export const stepCompleted = (stepId: string, output: unknown = { ok: true }, attempt = 1, when = at) =>
  event('StepCompleted', { stepId, attempt, taskId: `${workflowId}_${stepId}_${attempt}`, output }, when);
export const boom = { code: 'ExitCode', message: 'exited with 1' };
export const stepFailed = (stepId: string, attempt: number, { final = false, retryable = true, error = boom } = {}, when = at) =>
  event('StepFailed', { stepId, attempt, taskId: `${workflowId}_${stepId}_${attempt}`, error, retryable, final }, when);
export const stepSkipped = (stepId: string, reason: 'branchNotTaken' | 'dryRun' = 'branchNotTaken') => event('StepSkipped', { stepId, reason });
export const branchTaken = (nodeId: string, to: string, transition: number, condition?: string) =>
  event('BranchTaken', { nodeId, to, transition, ...(condition !== undefined && { condition }) });
export const workflowCompleted = (endState = '#end', when = at) => event('WorkflowCompleted', { endState }, when);
export const workflowFailed = (
  data: Omit<WorkflowEventData<'WorkflowFailed'>, 'workflowId' | 'at' | 'tasksToCancel'> & { tasksToCancel?: string[] },
  when = at,
) => event('WorkflowFailed', { tasksToCancel: [], ...data }, when);

// ── commands any definition shares ───────────────────────────────────────────────
export const recordStarted = (stepId: string, attempt = 1, workerId?: string) =>
  command('RecordStepStarted', { stepId, attempt, ...(workerId && { workerId }) });
export const recordCompleted = (stepId: string, output: unknown = { ok: true }, attempt = 1, when = at) =>
  command('RecordStepCompleted', { stepId, attempt, output }, when);
export const recordFailed = (
  stepId: string,
  attempt: number,
  { retryable = true, error = boom, jitter }: { retryable?: boolean; error?: typeof boom; jitter?: number } = {},
  when = at,
) => command('RecordStepFailed', { stepId, attempt, error, retryable, ...(jitter !== undefined && { jitter }) }, when);
export const recordTimedOut = (stepId: string, attempt: number, when = at) => command('RecordStepTimedOut', { stepId, attempt }, when);
export const grant = (stepId: string, approver: string, visit?: number) =>
  command('GrantApproval', { stepId, approver, ...(visit !== undefined && { visit }) });
export const reject = (stepId: string, approver: string, reason?: string) =>
  command('RejectApproval', { stepId, approver, ...(reason !== undefined && { reason }) });
export const cancel = () => command('CancelWorkflow', { reason: 'not needed any more', requestedBy: requester });

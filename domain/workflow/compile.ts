import type { CompiledWorkflow, EndNode, Machine, RetryPolicy, Transition, WorkflowNode } from './compiled.ts';
import type { ApprovalGate, MachineState, StateMachineDefinition, StepNode, StepTreeDefinition, TaskStep, WorkflowDefinition } from './definition-schema.ts';
import { DEFAULT_APPROVAL_TIMEOUT_MS } from './step-fields.ts';

// Both definition forms to the one machine the engine walks (see compiled.ts). Compiling only
// rearranges; whether the result makes sense is checked on the compiled form, so both forms
// get the same checks and the decider can repeat them on what it is given.

/** Three runs, one second apart then doubling to at most a minute, unless a step says otherwise. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 1_000, maxBackoffMs: 60_000, nonRetryable: [] };

export interface CompileOptions {
  /** Task types whose executors change something outside; their steps count as side-effecting unless they say. */
  readonly sideEffecting?: readonly string[];
}

export function compileDefinition(definition: WorkflowDefinition, options: CompileOptions = {}): CompiledWorkflow {
  const sideEffecting = new Set(options.sideEffecting ?? []);
  const machine = definition.form === 'stepTree' ? compileTree(definition, sideEffecting) : compileStateMachine(definition, sideEffecting);
  return withoutUndefined({ name: definition.name, description: definition.description, form: definition.form, machine });
}

// ── step tree ────────────────────────────────────────────────────────────────
const ROOT_END = '#end';

function compileTree({ root }: StepTreeDefinition, sideEffecting: ReadonlySet<string>): Machine {
  const nodes: WorkflowNode[] = [];
  compileNode(root, '', ROOT_END, nodes, sideEffecting);
  return withEnd(entryOf(root, ''), nodes, ROOT_END);
}

/** A machine ending at `end`, unless no path leads there (every path ends in a `fail` node). */
function withEnd(start: string, nodes: readonly WorkflowNode[], end: string): Machine {
  const leadsToEnd = start === end || nodes.some((node) => node.kind !== 'end' && node.next.some((t) => t.to === end));
  return { start, nodes: leadsToEnd ? [...nodes, endNode(end)] : nodes };
}

/** Where a path of positions in the tree (`2.then.1`) names a node; the root is `root`. */
const childPath = (path: string, part: string | number): string => (path === '' ? String(part) : `${path}.${part}`);
const label = (path: string): string => (path === '' ? 'root' : path);

/** The id of the first node a tree node compiles to, known before compiling it. */
function entryOf(node: StepNode, path: string): string {
  switch (node.type) {
    case 'task':
    case 'approval':
      return node.id;
    case 'sequence':
      return entryOf(node.steps[0]!, childPath(path, 1));
    case 'parallel':
      return node.id ?? `#parallel-${label(path)}`;
    case 'conditional':
      return node.id ?? `#if-${label(path)}`;
    case 'fail':
      return node.id ?? `#fail-${label(path)}`;
  }
}

function compileNode(node: StepNode, path: string, next: string, into: WorkflowNode[], sideEffecting: ReadonlySet<string>): void {
  const then = [{ to: next }];
  switch (node.type) {
    case 'task':
      into.push(taskNode(node, then, sideEffecting));
      return;
    case 'approval':
      into.push(approvalNode(node, then));
      return;
    case 'sequence':
      node.steps.forEach((step, i) => {
        const following = node.steps[i + 1];
        compileNode(step, childPath(path, i + 1), following ? entryOf(following, childPath(path, i + 2)) : next, into, sideEffecting);
      });
      return;
    case 'parallel': {
      const branches = node.branches.map((branch, i): Machine => {
        const branchPath = childPath(path, i + 1);
        const end = `#end-${branchPath}`;
        const nodes: WorkflowNode[] = [];
        compileNode(branch, branchPath, end, nodes, sideEffecting);
        return withEnd(entryOf(branch, branchPath), nodes, end);
      });
      into.push({ kind: 'parallel', id: entryOf(node, path), branches, next: then });
      return;
    }
    case 'conditional': {
      const thenPath = childPath(path, 'then');
      const elsePath = childPath(path, 'else');
      const taken: Transition = withoutUndefined({ to: entryOf(node.then, thenPath), when: node.condition, skips: nonEmpty(node.else ? stepIdsIn(node.else) : []) });
      const otherwise: Transition = withoutUndefined({ to: node.else ? entryOf(node.else, elsePath) : next, skips: nonEmpty(stepIdsIn(node.then)) });
      into.push({ kind: 'choice', id: entryOf(node, path), next: [taken, otherwise] });
      compileNode(node.then, thenPath, next, into, sideEffecting);
      if (node.else) compileNode(node.else, elsePath, next, into, sideEffecting);
      return;
    }
    case 'fail':
      into.push({ kind: 'end', id: entryOf(node, path), outcome: 'failed', reason: node.reason });
      return;
  }
}

/** The task and approval steps in a subtree, in document order. */
function stepIdsIn(node: StepNode): string[] {
  switch (node.type) {
    case 'task':
    case 'approval':
      return [node.id];
    case 'sequence':
      return node.steps.flatMap(stepIdsIn);
    case 'parallel':
      return node.branches.flatMap(stepIdsIn);
    case 'conditional':
      return [...stepIdsIn(node.then), ...(node.else ? stepIdsIn(node.else) : [])];
    case 'fail':
      return [];
  }
}

// ── state machine ────────────────────────────────────────────────────────────
function compileStateMachine({ start, states }: StateMachineDefinition, sideEffecting: ReadonlySet<string>): Machine {
  return { start, nodes: states.map((state) => machineNode(state, sideEffecting)) };
}

function machineNode(state: MachineState, sideEffecting: ReadonlySet<string>): WorkflowNode {
  switch (state.type) {
    case 'task':
      return taskNode(state, state.transitions.map(withoutUndefined), sideEffecting);
    case 'approval':
      return approvalNode(state, state.transitions.map(withoutUndefined));
    case 'end':
      return withoutUndefined({ kind: 'end', id: state.id, outcome: state.outcome, reason: state.reason });
  }
}

// ── shared ───────────────────────────────────────────────────────────────────
const taskNode = (step: TaskStep, next: readonly Transition[], sideEffecting: ReadonlySet<string>): WorkflowNode =>
  withoutUndefined({
    kind: 'task',
    id: step.id,
    title: step.title,
    taskType: step.taskType,
    params: step.params ?? {},
    pool: step.pool,
    retry: step.retry ? { ...step.retry, nonRetryable: step.retry.nonRetryable ?? [] } : DEFAULT_RETRY,
    timeoutMs: step.timeoutMs,
    sideEffects: step.sideEffects ?? sideEffecting.has(step.taskType),
    next,
  });

const approvalNode = (gate: ApprovalGate, next: readonly Transition[]): WorkflowNode =>
  withoutUndefined({
    kind: 'approval',
    id: gate.id,
    title: gate.title,
    approvers: gate.approvers ?? [],
    quorum: gate.quorum ?? 1,
    requesterMayApprove: gate.requesterMayApprove ?? true,
    timeoutMs: gate.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
    reminderBeforeMs: gate.reminderBeforeMs,
    next,
  });

const endNode = (id: string): EndNode => ({ kind: 'end', id, outcome: 'completed' });

const nonEmpty = (ids: readonly string[]): readonly string[] | undefined => (ids.length > 0 ? ids : undefined);

/** Drops fields left undefined, so compiled definitions and events carry only what was said. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

import { right, type Either } from 'fp-ts/lib/Either.js';
import type { CompiledWorkflow, EndNode, Machine, RetryPolicy, TaskNode, Transition, WorkflowNode } from './compiled.ts';
import type { DefinitionError } from './definition-errors.ts';
import type { ApprovalGate, MachineState, StateMachineDefinition, StepNode, StepTreeDefinition, TaskStep, WorkflowDefinition } from './definition-schema.ts';
import { gateKindFor, type GateKind, type GateRequirements, type SideEffectClass, type SideEffectClassifier } from './gate-policy.ts';
import { requireGates } from './gates.ts';
import { checkGraph } from './graph-checks.ts';
import { placedNodes } from './machine-index.ts';
import { DEFAULT_APPROVAL_TIMEOUT_MS } from './step-fields.ts';

// Both definition forms to the one machine the engine walks (see compiled.ts). Compiling
// rearranges, classifies each task step's side effects and, given the policy's gate
// requirements, puts a gate in front of every side-effecting step that has none (gates.ts).
// Whether the result makes sense is checked on the compiled form, so both forms get the same
// checks and the decider can repeat them on what it is given.

/** Three runs, one second apart then doubling to at most a minute, unless a step says otherwise. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffMs: 1_000, maxBackoffMs: 60_000, nonRetryable: [] };

export interface CompileOptions {
  /** Task types whose executors change something outside; without a classifier, their steps count as side-effecting unless they say. */
  readonly sideEffecting?: readonly string[];
  /**
   * What each step does outside, by task type and parameters. With it a step cannot understate
   * its side effects: its own `sideEffects: false` stands only where the classifier says read-only.
   */
  readonly classify?: SideEffectClassifier;
  /** The policy's gates; with them, every side-effecting step is gated and its gates narrowed to the policy. */
  readonly gateRequirements?: GateRequirements;
}

/** The compiled workflow, or why the policy's gates cannot be put in it (every other check is `checkCompiled`'s). */
export function compileDefinition(definition: WorkflowDefinition, options: CompileOptions = {}): Either<readonly DefinitionError[], CompiledWorkflow> {
  const classes = new Map<string, SideEffectClass>();
  const sideEffectsOf = sideEffectRule(options, classes);
  const machine = definition.form === 'stepTree' ? compileTree(definition, sideEffectsOf) : compileStateMachine(definition, sideEffectsOf);
  const compiled = withoutUndefined({ name: definition.name, description: definition.description, form: definition.form, machine });
  // A machine that does not hold together gets no gates: checkCompiled names what is wrong with it.
  if (!options.gateRequirements || checkGraph(machine).length > 0 || hasDuplicateIds(machine)) return right(compiled);
  // A step that says it has side effects the classifier does not know of is gated as a code change.
  const kindOf = (step: TaskNode): GateKind => gateKindFor(classes.get(step.id) ?? 'deploy') ?? 'code-change';
  return requireGates(compiled, options.gateRequirements, kindOf);
}

const hasDuplicateIds = (machine: Machine): boolean => {
  const ids = [...placedNodes(machine)].map(({ node }) => node.id);
  return new Set(ids).size !== ids.length;
};

type SideEffectsOf = (step: TaskStep) => boolean;

/** Whether a step has side effects, noting each step's class on the way (for the kind of gate it needs). */
function sideEffectRule({ classify, sideEffecting = [] }: CompileOptions, classes: Map<string, SideEffectClass>): SideEffectsOf {
  const listed = new Set(sideEffecting);
  return (step) => {
    if (!classify) {
      const sideEffects = step.sideEffects ?? listed.has(step.taskType);
      classes.set(step.id, sideEffects ? 'deploy' : 'read-only');
      return sideEffects;
    }
    const classified = classify(step.taskType, step.params ?? {});
    classes.set(step.id, classified);
    return classified !== 'read-only' || step.sideEffects === true;
  };
}

// ── step tree ────────────────────────────────────────────────────────────────
const ROOT_END = '#end';

function compileTree({ root }: StepTreeDefinition, sideEffecting: SideEffectsOf): Machine {
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

function compileNode(node: StepNode, path: string, next: string, into: WorkflowNode[], sideEffecting: SideEffectsOf): void {
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
      const taken: Transition = withoutUndefined({
        to: entryOf(node.then, thenPath),
        when: node.condition,
        skips: nonEmpty(node.else ? stepIdsIn(node.else) : []),
      });
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
function compileStateMachine({ start, states }: StateMachineDefinition, sideEffecting: SideEffectsOf): Machine {
  return { start, nodes: states.map((state) => machineNode(state, sideEffecting)) };
}

function machineNode(state: MachineState, sideEffecting: SideEffectsOf): WorkflowNode {
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
const taskNode = (step: TaskStep, next: readonly Transition[], sideEffecting: SideEffectsOf): WorkflowNode =>
  withoutUndefined({
    kind: 'task',
    id: step.id,
    title: step.title,
    taskType: step.taskType,
    params: step.params ?? {},
    pool: step.pool,
    retry: step.retry ? { ...step.retry, nonRetryable: step.retry.nonRetryable ?? [] } : DEFAULT_RETRY,
    timeoutMs: step.timeoutMs,
    sideEffects: sideEffecting(step),
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

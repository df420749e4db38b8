import type { Machine, WorkflowNode } from './compiled.ts';

// Nodes of a compiled workflow by id, each with the parallel node it sits in (if any), and the
// steps inside each parallel node: what the decider looks up while it walks.

export interface PlacedNode {
  readonly node: WorkflowNode;
  /** The machine the node belongs to: the workflow's, or a branch of a parallel node. */
  readonly machine: Machine;
  /** The parallel node whose branch holds this node; none at the top level. */
  readonly parent?: string | undefined;
}

export interface MachineIndex {
  node(id: string): PlacedNode | undefined;
  /** Task and approval ids anywhere inside a parallel node's branches. */
  stepsWithin(parallelId: string): readonly string[];
}

/** Every node, depth first, branches right after the parallel node that holds them. */
export function* placedNodes(machine: Machine, parent?: string): Generator<PlacedNode> {
  for (const node of machine.nodes) {
    yield { node, machine, parent };
    if (node.kind === 'parallel') for (const branch of node.branches) yield* placedNodes(branch, node.id);
  }
}

type StepNode = Extract<WorkflowNode, { kind: 'task' | 'approval' }>;

const isStep = (node: WorkflowNode): node is StepNode => node.kind === 'task' || node.kind === 'approval';

/** The tasks and approval gates of a workflow, in the order they are drawn (depth first). */
export const stepNodes = (machine: Machine): StepNode[] => [...placedNodes(machine)].map(({ node }) => node).filter(isStep);

// A workflow's definition object lives as long as its state, so the index is built once per definition.
const indexes = new WeakMap<Machine, MachineIndex>();

export function indexMachine(machine: Machine): MachineIndex {
  const known = indexes.get(machine);
  if (known) return known;
  const nodes = new Map<string, PlacedNode>();
  for (const placed of placedNodes(machine)) if (!nodes.has(placed.node.id)) nodes.set(placed.node.id, placed);
  const within = new Map<string, string[]>();
  for (const { node } of nodes.values()) {
    if (node.kind !== 'parallel') continue;
    const inside = node.branches.flatMap((branch) => [...placedNodes(branch, node.id)]);
    within.set(
      node.id,
      inside.filter((p) => isStep(p.node)).map((p) => p.node.id),
    );
  }
  const index: MachineIndex = { node: (id) => nodes.get(id), stepsWithin: (id) => within.get(id) ?? [] };
  indexes.set(machine, index);
  return index;
}

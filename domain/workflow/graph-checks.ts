import type { Machine, WorkflowNode } from './compiled.ts';
import {
  deadEndState,
  loopWithoutExit,
  loopWithoutTask,
  noEndState,
  unknownStart,
  unknownState,
  unreachableState,
  type DefinitionError,
} from './definition-errors.ts';

// The shape of each machine (the workflow's and each parallel branch's): known targets, one
// reachable start, an end, every state reachable, and from every state a way to an end.

const runsTask = (node: WorkflowNode): boolean => node.kind === 'task' || (node.kind === 'parallel' && node.branches.some((b) => b.nodes.some(runsTask)));

const targets = (node: WorkflowNode): readonly string[] => (node.kind === 'end' ? [] : node.next.map((t) => t.to));

export function checkGraph(machine: Machine, scope = 'the workflow'): DefinitionError[] {
  const byId = new Map(machine.nodes.map((node) => [node.id, node] as const));
  const errors: DefinitionError[] = [];
  if (!byId.has(machine.start)) errors.push(unknownStart(machine.start, scope));
  for (const node of machine.nodes) for (const to of targets(node)) if (!byId.has(to)) errors.push(unknownState(node.id, to));
  if (!machine.nodes.some((node) => node.kind === 'end')) errors.push(noEndState(scope));

  const edges = (id: string): string[] => targets(byId.get(id)!).filter((to) => byId.has(to));
  const reachable = reach(byId.has(machine.start) ? [machine.start] : [], edges);
  for (const node of machine.nodes) if (!reachable.has(node.id)) errors.push(unreachableState(node.id, scope));

  const incoming = new Map<string, string[]>();
  for (const id of byId.keys()) for (const to of edges(id)) incoming.set(to, [...(incoming.get(to) ?? []), id]);
  const ends = machine.nodes.filter((node) => node.kind === 'end').map((node) => node.id);
  const canEnd = reach(ends, (id) => incoming.get(id) ?? []);

  for (const node of machine.nodes) {
    if (reachable.has(node.id) && node.kind !== 'end' && node.next.length === 0) errors.push(deadEndState(node.id));
  }
  const order = machine.nodes.map((node) => node.id).filter((id) => reachable.has(id));
  for (const loop of cycles(order, edges)) {
    if (!canEnd.has(loop[0]!)) errors.push(loopWithoutExit(loop));
    else if (!loop.some((id) => runsTask(byId.get(id)!))) errors.push(loopWithoutTask(loop));
  }

  for (const node of machine.nodes) {
    if (node.kind === 'parallel') node.branches.forEach((branch, i) => errors.push(...checkGraph(branch, `branch ${i + 1} of "${node.id}"`)));
  }
  return errors;
}

function reach(from: readonly string[], edges: (id: string) => readonly string[]): Set<string> {
  const seen = new Set(from);
  const pending = [...from];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    for (const to of edges(id)) {
      if (seen.has(to)) continue;
      seen.add(to);
      pending.push(to);
    }
  }
  return seen;
}

/**
 * The loops among `ids`: strongly connected components (Tarjan) with more than one state, or
 * one state with a transition to itself. Members are listed in definition order.
 */
function cycles(ids: readonly string[], edges: (id: string) => readonly string[]): string[][] {
  const position = new Map(ids.map((id, i) => [id, i] as const));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;

  const visit = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter += 1;
    stack.push(id);
    onStack.add(id);
    for (const to of edges(id)) {
      if (!position.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(id, Math.min(low.get(id)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(id, Math.min(low.get(id)!, index.get(to)!));
    }
    if (low.get(id) !== index.get(id)) return;
    const component: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      component.push(member);
      if (member === id) break;
    }
    if (component.length > 1 || edges(id).includes(id)) found.push(component.sort((a, b) => position.get(a)! - position.get(b)!));
  };

  for (const id of ids) if (!index.has(id)) visit(id);
  return found.sort((a, b) => position.get(a[0]!)! - position.get(b[0]!)!);
}

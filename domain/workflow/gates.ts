import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { ApprovalNode, CompiledWorkflow, Machine, TaskNode, Transition, WorkflowNode } from './compiled.ts';
import { gateApproversOutsidePolicy, gateQuorumUnreachable, type DefinitionError } from './definition-errors.ts';
import type { GateKind, GateRequirement, GateRequirements } from './gate-policy.ts';
import { placedNodes } from './machine-index.ts';
import { DEFAULT_APPROVAL_TIMEOUT_MS } from './step-fields.ts';

// Gates the model cannot skip (WF3, OR3). A side-effecting step is gated when every path from
// the workflow's start to it passes an approval gate (the gates dominate it); any approval gate
// counts, because the gates that can be the last one passed before the step are narrowed to the
// policy of the step's kind (see `narrowGates`), so whichever is passed is adequate. A parallel
// node is left only once every branch has ended, so a branch that can only end through a gate
// gates what follows the parallel node. In a loop, the gate passed on the way in covers the
// step's later visits.

/** Task steps with side effects that some path from the start reaches without passing an approval gate, in the order found. */
export function ungatedSideEffects(machine: Machine): TaskNode[] {
  const found: TaskNode[] = [];
  walkUngated(machine, found);
  return found;
}

/** Follows the paths from the machine's start that pass no gate; true when one of them reaches a completed end. */
function walkUngated(machine: Machine, found: TaskNode[]): boolean {
  const byId = new Map(machine.nodes.map((node) => [node.id, node] as const));
  const seen = new Set<string>();
  const pending = [machine.start];
  let reachesEnd = false;
  for (let id = pending.shift(); id !== undefined; id = pending.shift()) {
    const node = byId.get(id);
    if (seen.has(id) || !node) continue;
    seen.add(id);
    if (node.kind === 'approval') continue;
    if (node.kind === 'end') {
      reachesEnd ||= node.outcome === 'completed';
      continue;
    }
    if (node.kind === 'task' && node.sideEffects) found.push(node);
    if (node.kind === 'parallel') {
      // Every branch is walked (no short cut): each may hold ungated steps of its own.
      const open = node.branches.map((branch) => walkUngated(branch, found));
      if (!open.every(Boolean)) continue;
    }
    pending.push(...node.next.map((t) => t.to));
  }
  return reachesEnd;
}

/** A step that needs a gate, and the kind of gate its side effects call for. */
export interface GatedStep {
  readonly stepId: string;
  readonly kind: GateKind;
}

/**
 * Puts the policy's gate in front of every side-effecting step that has none, then narrows every
 * gate that can be the last one passed before a side-effecting step to the policy of its kind:
 * approvers intersected (none named on either side means anyone), quorum and the requester rule
 * at least the policy's. `kindOf` gives each side-effecting step's gate kind.
 */
export function requireGates(
  workflow: CompiledWorkflow,
  requirements: GateRequirements,
  kindOf: (step: TaskNode) => GateKind,
): Either<readonly DefinitionError[], CompiledWorkflow> {
  const taken = new Set([...placedNodes(workflow.machine)].map(({ node }) => node.id));
  const inserted = new Map<string, string>();
  for (const step of ungatedSideEffects(workflow.machine)) {
    if (!inserted.has(step.id)) inserted.set(step.id, freshId(`approve-${step.id}`, taken));
  }
  const machine = withGates(workflow.machine, inserted, (step, gateId) => gateFor(step, gateId, requirements[kindOf(step)]));
  const narrowed = narrowGates(machine, requirements, kindOf, new Set(inserted.values()));
  if (narrowed.errors.length > 0) return left(narrowed.errors);
  return right({ ...workflow, machine: narrowed.machine });
}

function freshId(wanted: string, taken: Set<string>): string {
  let id = wanted;
  for (let n = 2; taken.has(id); n += 1) id = `${wanted}-${n}`;
  taken.add(id);
  return id;
}

const KIND_WORDS: Readonly<Record<GateKind, string>> = { deploy: 'Deploy', 'code-change': 'Code-change', cost: 'Costly' };

function gateFor(step: TaskNode, id: string, requirement: GateRequirement): ApprovalNode {
  return {
    kind: 'approval',
    id,
    title: `${KIND_WORDS[requirement.kind]} step ${step.id} changes things: approve?`,
    approvers: [...requirement.approvers],
    quorum: requirement.quorum,
    requesterMayApprove: requirement.requesterMayApprove,
    timeoutMs: requirement.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
    ...(requirement.reminderBeforeMs !== undefined &&
      requirement.reminderBeforeMs < (requirement.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS) && { reminderBeforeMs: requirement.reminderBeforeMs }),
    next: [{ to: step.id }],
  };
}

/** Each step in `gates` gets its gate right before it; every transition that entered the step (and the start) now enters the gate. */
function withGates(machine: Machine, gates: ReadonlyMap<string, string>, gate: (step: TaskNode, gateId: string) => ApprovalNode): Machine {
  const repoint = (t: Transition): Transition => {
    const gateId = gates.get(t.to);
    const skips = t.skips?.flatMap((id) => (gates.has(id) ? [gates.get(id)!, id] : [id]));
    return { ...t, ...(gateId !== undefined && { to: gateId }), ...(skips !== undefined && { skips }) };
  };
  const nodes = machine.nodes.flatMap((node): WorkflowNode[] => {
    const moved =
      node.kind === 'end'
        ? node
        : node.kind === 'parallel'
          ? { ...node, branches: node.branches.map((b) => withGates(b, gates, gate)), next: node.next.map(repoint) }
          : { ...node, next: node.next.map(repoint) };
    const gateId = gates.get(node.id);
    return node.kind === 'task' && gateId !== undefined ? [gate(node as TaskNode, gateId), moved] : [moved];
  });
  return { start: gates.get(machine.start) ?? machine.start, nodes };
}

/** The flattened graph: a parallel node leads into its branches' starts, and their completed ends lead where it goes next. */
function predecessorsOf(machine: Machine): Map<string, string[]> {
  const before = new Map<string, string[]>();
  const link = (from: string, to: string) => before.set(to, [...(before.get(to) ?? []), from]);
  const visit = (m: Machine): void => {
    for (const node of m.nodes) {
      if (node.kind === 'end') continue;
      if (node.kind !== 'parallel') {
        for (const t of node.next) link(node.id, t.to);
        continue;
      }
      for (const branch of node.branches) {
        link(node.id, branch.start);
        for (const end of branch.nodes) if (end.kind === 'end' && end.outcome === 'completed') for (const t of node.next) link(end.id, t.to);
        visit(branch);
      }
    }
  };
  visit(machine);
  return before;
}

/** The gates from which `stepId` is reached without passing another gate: those that can be the last one passed before it. */
function lastGatesBefore(stepId: string, before: ReadonlyMap<string, readonly string[]>, nodes: ReadonlyMap<string, WorkflowNode>): string[] {
  const gates: string[] = [];
  const seen = new Set<string>([stepId]);
  const pending = [...(before.get(stepId) ?? [])];
  for (let id = pending.shift(); id !== undefined; id = pending.shift()) {
    if (seen.has(id)) continue;
    seen.add(id);
    if (nodes.get(id)?.kind === 'approval') gates.push(id);
    else pending.push(...(before.get(id) ?? []));
  }
  return gates;
}

function narrowGates(
  machine: Machine,
  requirements: GateRequirements,
  kindOf: (step: TaskNode) => GateKind,
  inserted: ReadonlySet<string>,
): { machine: Machine; errors: DefinitionError[] } {
  const nodes = new Map([...placedNodes(machine)].map(({ node }) => [node.id, node] as const));
  const before = predecessorsOf(machine);
  const rules = new Map<string, GateRequirement[]>();
  for (const node of nodes.values()) {
    if (node.kind !== 'task' || !node.sideEffects) continue;
    for (const gateId of lastGatesBefore(node.id, before, nodes)) rules.set(gateId, [...(rules.get(gateId) ?? []), requirements[kindOf(node)]]);
  }
  const errors: DefinitionError[] = [];
  const narrowed = new Map<string, ApprovalNode>();
  for (const [gateId, applying] of rules) {
    const gate = nodes.get(gateId) as ApprovalNode;
    let approvers: readonly string[] = gate.approvers;
    let outside = false;
    for (const rule of applying) {
      if (rule.approvers.length === 0) continue;
      if (approvers.length === 0) approvers = rule.approvers;
      else {
        approvers = approvers.filter((a) => rule.approvers.includes(a));
        outside ||= approvers.length === 0;
      }
    }
    if (outside) {
      errors.push(
        gateApproversOutsidePolicy(
          gateId,
          gate.approvers,
          applying.flatMap((r) => r.approvers),
        ),
      );
      continue;
    }
    const quorum = Math.max(gate.quorum, ...applying.map((r) => r.quorum));
    if (approvers.length > 0 && quorum > approvers.length) {
      errors.push(gateQuorumUnreachable(gateId, quorum, approvers, inserted.has(gateId)));
      continue;
    }
    narrowed.set(gateId, {
      ...gate,
      approvers: [...new Set(approvers)],
      quorum,
      requesterMayApprove: gate.requesterMayApprove && applying.every((r) => r.requesterMayApprove),
    });
  }
  return { machine: replaceNodes(machine, narrowed), errors };
}

function replaceNodes(machine: Machine, replaced: ReadonlyMap<string, WorkflowNode>): Machine {
  return {
    ...machine,
    nodes: machine.nodes.map(
      (node) => replaced.get(node.id) ?? (node.kind === 'parallel' ? { ...node, branches: node.branches.map((b) => replaceNodes(b, replaced)) } : node),
    ),
  };
}

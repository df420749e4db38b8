import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { ApprovalNode, CompiledWorkflow, Machine, TaskNode, WorkflowNode } from '../workflow/compiled.ts';
import type { GateKind, SideEffectClass } from '../workflow/gate-policy.ts';
import { narrowApprovers, strictestGateKind, type WorkStep } from './evaluate.ts';
import type { Policy, PolicyRefusal } from './policy.ts';

// The policy applied to a compiled workflow before it is started: what its steps do (for who
// may start it) and, for each gate, the kind of work it guards, so its approvers are narrowed
// to the policy's for that kind (never widened), its quorum raised to the policy's and the
// requester's say taken away where the policy takes it away.

/** A task's side-effect class, from its task type and parameters (the registry knows). */
export type ClassifyTask = (task: { readonly taskType: string; readonly params: unknown; readonly sideEffects: boolean }) => SideEffectClass;

function* allNodes(machine: Machine): Generator<WorkflowNode> {
  for (const node of machine.nodes) {
    yield node;
    if (node.kind === 'parallel') for (const branch of node.branches) yield* allNodes(branch);
  }
}

const targetOrgOf = (task: TaskNode): string | undefined => (typeof task.params['targetOrg'] === 'string' ? task.params['targetOrg'] : undefined);

/** Every task step of the workflow as the policy sees it. */
export const workflowSteps = (workflow: CompiledWorkflow, classify: ClassifyTask): WorkStep[] =>
  [...allNodes(workflow.machine)].flatMap((node) =>
    node.kind === 'task' ? [{ taskType: node.taskType, sideEffect: classify(node), targetOrg: targetOrgOf(node) }] : [],
  );

/**
 * For each gate, the kind of work that may follow it: every task reachable from it (through
 * parallel branches, and past the end of the branch it sits in). Over-approximates, which only
 * makes a gate stricter.
 */
export function gateKinds(workflow: CompiledWorkflow, classify: ClassifyTask): Map<string, GateKind | undefined> {
  const kinds = new Map<string, GateKind | undefined>();
  const visit = (machine: Machine, after: readonly SideEffectClass[]): void => {
    const byId = new Map(machine.nodes.map((n) => [n.id, n]));
    const reachable = (from: WorkflowNode): SideEffectClass[] => {
      const seen = new Set<string>();
      const classes: SideEffectClass[] = [...after];
      const queue = from.kind === 'end' ? [] : from.next.map((t) => t.to);
      while (queue.length > 0) {
        const id = queue.shift()!;
        if (seen.has(id)) continue;
        seen.add(id);
        const node = byId.get(id);
        if (!node) continue;
        if (node.kind === 'task') classes.push(classify(node));
        if (node.kind === 'parallel')
          for (const branch of node.branches) for (const inner of allNodes(branch)) if (inner.kind === 'task') classes.push(classify(inner));
        if (node.kind !== 'end') queue.push(...node.next.map((t) => t.to));
      }
      return classes;
    };
    for (const node of machine.nodes) {
      if (node.kind === 'approval') kinds.set(node.id, strictestGateKind(reachable(node)));
      if (node.kind === 'parallel') {
        const following = reachable(node);
        for (const branch of node.branches) visit(branch, following);
      }
    }
  };
  visit(workflow.machine, []);
  return kinds;
}

/** The named approvers of every gate (who, besides the requester and admins, may cancel it). */
export const gateApprovers = (workflow: CompiledWorkflow): string[] => [
  ...new Set([...allNodes(workflow.machine)].flatMap((node) => (node.kind === 'approval' ? node.approvers : []))),
];

/** The kind of the gate `stepId`, or undefined when it guards no side effects (or is unknown). */
export const gateKindOf = (workflow: CompiledWorkflow, stepId: string, classify: ClassifyTask): GateKind | undefined =>
  gateKinds(workflow, classify).get(stepId);

function narrowGate(policy: Policy, node: ApprovalNode, kind: GateKind): Either<PolicyRefusal, ApprovalNode> {
  const narrowed = narrowApprovers(policy, kind, node.approvers);
  if (narrowed._tag === 'Left') return narrowed;
  const gate = policy.gates[kind];
  const quorum = Math.max(node.quorum, gate.quorum);
  if (narrowed.right.length > 0 && narrowed.right.length < quorum) {
    return left({
      code: 'NotAuthorized',
      rule: `gates.${kind}.quorum`,
      message: `the gate "${node.id}" needs ${quorum} approvers but names ${narrowed.right.length} (${narrowed.right.join(', ')}) (rule gates.${kind}.quorum)`,
    });
  }
  return right({ ...node, approvers: narrowed.right, quorum, requesterMayApprove: node.requesterMayApprove && gate.requesterMayApprove });
}

/** The workflow with every gate that guards side effects held to the policy, or the rule it breaks. */
export function applyGatePolicy(policy: Policy, workflow: CompiledWorkflow, classify: ClassifyTask): Either<PolicyRefusal, CompiledWorkflow> {
  const kinds = gateKinds(workflow, classify);
  let refused: PolicyRefusal | undefined;
  const mapMachine = (machine: Machine): Machine => ({
    ...machine,
    nodes: machine.nodes.map((node): WorkflowNode => {
      if (node.kind === 'parallel') return { ...node, branches: node.branches.map(mapMachine) };
      if (node.kind !== 'approval') return node;
      const kind = kinds.get(node.id);
      if (kind === undefined) return node;
      const narrowed = narrowGate(policy, node, kind);
      if (narrowed._tag === 'Left') {
        refused ??= narrowed.left;
        return node;
      }
      return narrowed.right;
    }),
  });
  const machine = mapMachine(workflow.machine);
  return refused ? left(refused) : right({ ...workflow, machine });
}

import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { GateKind, GateRequirements, SideEffectClass } from '../workflow/gate-policy.ts';
import { refusal, type Policy, type PolicyDecision, type PolicyRefusal, type Who } from './policy.ts';
import { isAmong, isApiIdentity, members, orgMatches, parseReference } from './principals.ts';

// The questions the front doors ask before sending anything: may this person start this work,
// approve this kind of gate, cancel this workflow; and which approvers a gate ends up with when
// the requester names some. Each answer names the rule that decided it.

/** One step of the work asked for: what it runs, what it does outside, where it deploys. */
export interface WorkStep {
  readonly taskType: string;
  readonly sideEffect: SideEffectClass;
  readonly targetOrg?: string | undefined;
}

export interface StartRequest {
  readonly actor: string;
  readonly template?: string | undefined;
  readonly steps: readonly WorkStep[];
}

const CLASS_ORDER: readonly SideEffectClass[] = ['read-only', 'code-change', 'deploy'];

/** The gate kind guarding work of these classes: the strictest of them; none for read-only work. */
export function strictestGateKind(classes: readonly SideEffectClass[]): GateKind | undefined {
  if (classes.includes('deploy')) return 'deploy';
  return classes.includes('code-change') ? 'code-change' : undefined;
}

/** "deployers", "members of release-managers", "U1, U2", "anyone". */
export function describeWho(who: Who): string {
  const parts = who.map((text) => {
    const ref = parseReference(text);
    if (ref.kind === 'anyone') return 'anyone';
    if (ref.kind === 'role') return `${ref.role}s`;
    if (ref.kind === 'group') return `members of ${ref.group}`;
    return ref.id;
  });
  return parts.length === 0 ? 'nobody' : parts.join(', ');
}

/** `describeWho`, saying so when an API identity is refused only because '*' never covers one. */
const describeFor = (policy: Policy, actor: string, who: Who): string =>
  `${describeWho(who)}${isApiIdentity(actor) && members(policy, who).anyone ? ` (an ${actor.split(':')[0]}: identity must be named; '*' does not cover it)` : ''}`;

const allowed = (rules: readonly string[]): PolicyDecision => ({ rule: [...new Set(rules)].join(', ') });

function checkStep(policy: Policy, actor: string, step: WorkStep): Either<PolicyRefusal, string[]> {
  const rules: string[] = [];
  if (step.sideEffect === 'deploy') {
    const org = step.targetOrg ?? '';
    const index = policy.deploy.targets.findIndex((t) => orgMatches(t.org, org));
    const rule = index >= 0 ? `deploy.targets[${index}]` : 'deploy.otherOrgs';
    const who = index >= 0 ? policy.deploy.targets[index]!.who : policy.deploy.otherOrgs;
    if (!isAmong(policy, actor, who)) return left(refusal(rule, `only ${describeFor(policy, actor, who)} may deploy to ${org || 'the default org'}`));
    rules.push(rule);
  } else {
    const rule = `start.${step.sideEffect}`;
    const who = policy.start[step.sideEffect];
    if (!isAmong(policy, actor, who))
      return left(refusal(rule, `only ${describeFor(policy, actor, who)} may start ${step.sideEffect} work (${step.taskType})`));
    rules.push(rule);
  }
  if (Object.hasOwn(policy.taskTypes, step.taskType)) {
    const rule = `taskTypes.${step.taskType}`;
    const who = policy.taskTypes[step.taskType]!;
    if (!isAmong(policy, actor, who)) return left(refusal(rule, `only ${describeFor(policy, actor, who)} may run ${step.taskType}`));
    rules.push(rule);
  }
  return right(rules);
}

/** Whether `actor` may start this work: every step's class (and org, for deploys), task type and the template. */
export function mayStart(policy: Policy, request: StartRequest): Either<PolicyRefusal, PolicyDecision> {
  const rules: string[] = [];
  if (request.template !== undefined && Object.hasOwn(policy.templates, request.template)) {
    const rule = `templates.${request.template}`;
    const who = policy.templates[request.template]!;
    if (!isAmong(policy, request.actor, who))
      return left(refusal(rule, `only ${describeFor(policy, request.actor, who)} may start the ${request.template} template`));
    rules.push(rule);
  }
  // Work with no task steps (gates only) is judged as read-only work.
  const given = request.steps.length > 0 ? request.steps : [{ taskType: '(none)', sideEffect: 'read-only' as const }];
  // Strictest steps first, so the refusal names the rule that matters most.
  const steps = [...given].sort((a, b) => CLASS_ORDER.indexOf(b.sideEffect) - CLASS_ORDER.indexOf(a.sideEffect));
  for (const step of steps) {
    const checked = checkStep(policy, request.actor, step);
    if (checked._tag === 'Left') return checked;
    rules.push(...checked.right);
  }
  return right(allowed(rules));
}

/** Whether `actor` may decide gates of this kind (the gate's own approvers are the decider's to check). */
export function mayApprove(policy: Policy, actor: string, kind: GateKind): Either<PolicyRefusal, PolicyDecision> {
  const rule = `gates.${kind}.approvers`;
  const who = policy.gates[kind].approvers;
  return isAmong(policy, actor, who) ? right({ rule }) : left(refusal(rule, `only ${describeFor(policy, actor, who)} may decide ${kind} gates`));
}

export interface CancelTarget {
  /** Who started it. */
  readonly requestedBy: string;
  /** The named approvers of its gates (a gate anyone may decide names nobody). */
  readonly approvers: readonly string[];
}

/** The requester, an approver of one of its gates, or an admin. */
export function mayCancel(policy: Policy, actor: string, target: CancelTarget): Either<PolicyRefusal, PolicyDecision> {
  if (actor === target.requestedBy) return right({ rule: 'cancel.requester' });
  if (target.approvers.includes(actor)) return right({ rule: 'cancel.approver' });
  if (isAmong(policy, actor, policy.roles.admin)) return right({ rule: 'cancel.admin' });
  return left(refusal('cancel', `only the requester (${target.requestedBy}), the approvers of its gates or admins may cancel it`));
}

/**
 * The approvers a gate of this kind gets when the requester names `requested` (empty: the
 * policy's). Naming someone the policy does not allow is refused: a requester narrows, never widens.
 */
export function narrowApprovers(policy: Policy, kind: GateKind, requested: readonly string[]): Either<PolicyRefusal, readonly string[]> {
  const rule = `gates.${kind}.approvers`;
  const allowedMembers = members(policy, policy.gates[kind].approvers);
  if (requested.length === 0) return right(allowedMembers.anyone ? [] : allowedMembers.users);
  const outside = requested.filter(
    (id) => !allowedMembers.users.includes(id) && !(allowedMembers.anyone && !isApiIdentity(id) && parseReference(id).kind === 'user'),
  );
  if (outside.length > 0)
    return left(refusal(rule, `${outside.join(', ')} may not approve ${kind} gates; only ${describeWho(policy.gates[kind].approvers)} may`));
  return right([...new Set(requested)]);
}

/** Per gate kind, what compile puts in front of a side-effecting step that has no gate. */
export function gateRequirements(policy: Policy): GateRequirements {
  const requirement = (kind: GateKind) => {
    const gate = policy.gates[kind];
    const found = members(policy, gate.approvers);
    return { kind, approvers: found.anyone ? [] : found.users, quorum: gate.quorum, requesterMayApprove: gate.requesterMayApprove };
  };
  return { deploy: requirement('deploy'), 'code-change': requirement('code-change'), cost: requirement('cost') };
}

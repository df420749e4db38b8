import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { GateKind } from '../workflow/gate-policy.ts';
import { policyFileSchema, ROLE_NAMES, type PolicyFile, type RoleName } from './policy-file.ts';
import type { GatePolicy, InvalidPolicy, Policy, PolicyProblem, Who } from './policy.ts';
import { isRoleName, members, parseReference } from './principals.ts';

// From a policy file (or none) and the settings to the policy evaluated everywhere, with every
// problem of the file reported at once by its path. The defaults are safe and still usable
// from the console with no setup at all:
//
// - everyone is a requester, and requesters may start read-only and code-change work;
// - without a file everyone is also a deployer, so deploys are allowed, always behind a deploy
//   gate (compile inserts one); with a file only the deployers it names may deploy;
// - gate approvers: roles.approver, which defaults to WORKFLOW_APPROVERS; nobody named: anyone;
// - quorum 1; the requester may approve per WORKFLOW_REQUESTER_MAY_APPROVE, except deploy gates
//   with named approvers, where the requester never counts alone;
// - admins: ORCH_ADMINS (none by default), added to the file's.

export interface PolicySettings {
  /** WORKFLOW_APPROVERS. */
  readonly approvers?: readonly string[] | undefined;
  /** WORKFLOW_REQUESTER_MAY_APPROVE. */
  readonly requesterMayApprove: boolean;
  /** ORCH_ADMINS. */
  readonly admins?: readonly string[] | undefined;
  /** When given, `taskTypes` and `templates` keys must be among these. */
  readonly knownTaskTypes?: readonly string[] | undefined;
  readonly knownTemplates?: readonly string[] | undefined;
}

const GATE_KINDS: readonly GateKind[] = ['deploy', 'code-change', 'cost'];

/** The policy when no file is given. */
export const defaultPolicy = (settings: PolicySettings): Policy => {
  const built = buildPolicy({ roles: { deployer: ['*'] } }, settings, 'defaults');
  // The defaults are built from constants; a failure here is a bug, not an input problem.
  if (built._tag === 'Left') throw new Error(`the default policy is invalid: ${built.left.message}`);
  return built.right;
};

export function buildPolicy(input: unknown, settings: PolicySettings, source: string): Either<InvalidPolicy, Policy> {
  const parsed = policyFileSchema.safeParse(input ?? {});
  if (!parsed.success)
    return left(
      invalid(
        source,
        parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(top)', message: issue.message })),
      ),
    );
  const file = parsed.data;
  const roles = rolesFrom(file, settings);
  const groups = file.groups ?? {};
  const namedApprovers = members({ groups, roles }, roles.approver).users.length > 0;
  const gates = Object.fromEntries(GATE_KINDS.map((kind) => [kind, gateFrom(kind, file, settings, namedApprovers)])) as Record<GateKind, GatePolicy>;
  const policy: Policy = {
    source,
    groups,
    roles,
    start: { 'read-only': file.start?.['read-only'] ?? ['role:requester'], 'code-change': file.start?.['code-change'] ?? ['role:requester'] },
    deploy: { targets: file.deploy?.targets ?? [], otherOrgs: file.deploy?.otherOrgs ?? ['role:deployer'] },
    templates: file.templates ?? {},
    taskTypes: file.taskTypes ?? {},
    gates,
  };
  const problems = [...referenceProblems(file), ...knownNameProblems(file, settings), ...gateProblems(policy)];
  return problems.length > 0 ? left(invalid(source, problems)) : right(policy);
}

const invalid = (source: string, problems: readonly PolicyProblem[]): InvalidPolicy => ({
  code: 'InvalidPolicy',
  message: `${source}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
  problems,
});

function rolesFrom(file: PolicyFile, settings: PolicySettings): Record<RoleName, Who> {
  const given = file.roles ?? {};
  return {
    admin: [...(given.admin ?? []), ...(settings.admins ?? [])],
    approver: given.approver ?? settings.approvers ?? [],
    deployer: given.deployer ?? [],
    requester: given.requester ?? ['*'],
  };
}

function gateFrom(kind: GateKind, file: PolicyFile, settings: PolicySettings, namedApprovers: boolean): GatePolicy {
  const given = file.gates?.[kind] ?? {};
  const approvers = given.approvers ?? (namedApprovers ? ['role:approver'] : ['*']);
  const named = !approvers.includes('*');
  return {
    approvers,
    quorum: given.quorum ?? 1,
    requesterMayApprove: given.requesterMayApprove ?? (kind === 'deploy' && named ? false : settings.requesterMayApprove),
  };
}

/** Every "who" list of the file with its path. */
function whoLists(file: PolicyFile): { path: string; who: Who }[] {
  return [
    ...ROLE_NAMES.flatMap((role) => (file.roles?.[role] ? [{ path: `roles.${role}`, who: file.roles[role] }] : [])),
    ...(['read-only', 'code-change'] as const).flatMap((c) => (file.start?.[c] ? [{ path: `start.${c}`, who: file.start[c] }] : [])),
    ...(file.deploy?.targets ?? []).map((t, i) => ({ path: `deploy.targets.${i}.who`, who: t.who })),
    ...(file.deploy?.otherOrgs ? [{ path: 'deploy.otherOrgs', who: file.deploy.otherOrgs }] : []),
    ...Object.entries(file.templates ?? {}).map(([id, who]) => ({ path: `templates.${id}`, who })),
    ...Object.entries(file.taskTypes ?? {}).map(([id, who]) => ({ path: `taskTypes.${id}`, who })),
    ...GATE_KINDS.flatMap((kind) => (file.gates?.[kind]?.approvers ? [{ path: `gates.${kind}.approvers`, who: file.gates[kind].approvers }] : [])),
  ];
}

function referenceProblems(file: PolicyFile): PolicyProblem[] {
  const groups = file.groups ?? {};
  const problems: PolicyProblem[] = [];
  for (const [name, list] of Object.entries(groups)) {
    list.forEach((member, i) => {
      if (parseReference(member).kind !== 'user')
        problems.push({ path: `groups.${name}.${i}`, message: `group members are user ids (U…, api:<name>, a Slack user group S…), not "${member}"` });
    });
  }
  for (const { path, who } of whoLists(file)) {
    who.forEach((text, i) => {
      const ref = parseReference(text);
      if (ref.kind === 'role' && !isRoleName(ref.role))
        problems.push({ path: `${path}.${i}`, message: `no role "${ref.role}" (roles: ${ROLE_NAMES.join(', ')})` });
      if (ref.kind === 'role' && path.startsWith('roles.')) problems.push({ path: `${path}.${i}`, message: 'a role lists users and groups, not other roles' });
      if (ref.kind === 'group' && !Object.hasOwn(groups, ref.group)) problems.push({ path: `${path}.${i}`, message: `no group "${ref.group}" under groups` });
    });
  }
  return problems;
}

function knownNameProblems(file: PolicyFile, settings: PolicySettings): PolicyProblem[] {
  const unknown = (section: string, names: readonly string[], known: readonly string[] | undefined): PolicyProblem[] =>
    known === undefined
      ? []
      : names
          .filter((n) => !known.includes(n))
          .map((n) => ({ path: `${section}.${n}`, message: `no ${section === 'templates' ? 'template' : 'task type'} "${n}" (known: ${known.join(', ')})` }));
  return [
    ...unknown('templates', Object.keys(file.templates ?? {}), settings.knownTemplates),
    ...unknown('taskTypes', Object.keys(file.taskTypes ?? {}), settings.knownTaskTypes),
  ];
}

/** A gate nobody may approve, or whose quorum more people than named, could never open. */
function gateProblems(policy: Policy): PolicyProblem[] {
  return GATE_KINDS.flatMap((kind) => {
    const gate = policy.gates[kind];
    const found = members(policy, gate.approvers);
    if (found.anyone) return [];
    if (found.users.length === 0)
      return [{ path: `gates.${kind}.approvers`, message: 'names nobody (an empty role or group): no gate of this kind could ever open' }];
    if (found.users.length < gate.quorum)
      return [{ path: `gates.${kind}.quorum`, message: `needs ${gate.quorum} approvers but only ${found.users.length} are named` }];
    return [];
  });
}

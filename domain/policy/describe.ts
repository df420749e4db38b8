import type { GateKind } from '../workflow/gate-policy.ts';
import { describeWho } from './evaluate.ts';
import type { Policy } from './policy.ts';
import { isAmong, rolesOf } from './principals.ts';

// What the policy lets one person do, in lines a person reads (`/orchestrator policy`).

const yesNo = (yes: boolean): string => (yes ? 'yes' : 'no');

export function describePolicyFor(policy: Policy, actor: string): string {
  const among = (who: readonly string[]) => isAmong(policy, actor, who);
  const roles = rolesOf(policy, actor);
  const lines = [`Policy (${policy.source}) for ${actor}:`, `• Roles: ${roles.length > 0 ? roles.join(', ') : 'none'}`];
  lines.push(`• Start read-only work: ${yesNo(among(policy.start['read-only']))} (start.read-only: ${describeWho(policy.start['read-only'])})`);
  lines.push(`• Start code changes: ${yesNo(among(policy.start['code-change']))} (start.code-change: ${describeWho(policy.start['code-change'])})`);
  policy.deploy.targets.forEach((target, i) =>
    lines.push(`• Deploy to ${target.org}: ${yesNo(among(target.who))} (deploy.targets[${i}]: ${describeWho(target.who)})`),
  );
  lines.push(
    `• Deploy to ${policy.deploy.targets.length > 0 ? 'other orgs' : 'any org'}: ${yesNo(among(policy.deploy.otherOrgs))} (deploy.otherOrgs: ${describeWho(policy.deploy.otherOrgs)})`,
  );
  for (const [id, who] of Object.entries(policy.templates)) lines.push(`• Template ${id}: ${yesNo(among(who))} (templates.${id}: ${describeWho(who)})`);
  for (const [id, who] of Object.entries(policy.taskTypes)) lines.push(`• Task type ${id}: ${yesNo(among(who))} (taskTypes.${id}: ${describeWho(who)})`);
  for (const kind of ['deploy', 'code-change', 'cost'] as GateKind[]) {
    const gate = policy.gates[kind];
    const requester = gate.requesterMayApprove ? 'the requester may approve' : 'the requester does not count alone';
    lines.push(`• Approve ${kind} gates: ${yesNo(among(gate.approvers))} (gates.${kind}: ${describeWho(gate.approvers)}; quorum ${gate.quorum}; ${requester})`);
  }
  const admin = among(policy.roles.admin);
  lines.push(`• Cancel: ${admin ? 'any workflow (admin)' : 'workflows you started or whose gates you approve'}`);
  return lines.join('\n');
}

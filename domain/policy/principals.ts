import { ROLE_NAMES, type RoleName } from './policy-file.ts';
import type { Policy, Who } from './policy.ts';

// Who a "who" list names: '*' (anyone a front end verified), roles, groups and user ids.
// Outside API producers (`api:<name>`) are never "anyone": they must be named, directly or
// through a group or role, before the policy lets them do something.

export const ANYONE = '*';
export const API_PREFIX = 'api:';

export interface Members {
  /** '*' was among them. */
  readonly anyone: boolean;
  /** The named user ids (Slack user groups expanded when resolved). */
  readonly users: readonly string[];
}

export const isApiIdentity = (actor: string): boolean => actor.startsWith(API_PREFIX);

export type Reference = { kind: 'anyone' } | { kind: 'role'; role: string } | { kind: 'group'; group: string } | { kind: 'user'; id: string };

export function parseReference(text: string): Reference {
  if (text === ANYONE) return { kind: 'anyone' };
  if (text.startsWith('role:')) return { kind: 'role', role: text.slice('role:'.length) };
  if (text.startsWith('group:')) return { kind: 'group', group: text.slice('group:'.length) };
  return { kind: 'user', id: text };
}

export const isRoleName = (name: string): name is RoleName => (ROLE_NAMES as readonly string[]).includes(name);

/** A group's members; a Slack user group (`S…`) named as a user expands once it is resolved into `groups`. */
const groupMembers = (policy: Pick<Policy, 'groups'>, name: string): readonly string[] =>
  (Object.hasOwn(policy.groups, name) ? policy.groups[name]! : []).flatMap((member) =>
    member !== name && Object.hasOwn(policy.groups, member) ? policy.groups[member]! : [member],
  );

export function members(policy: Pick<Policy, 'groups' | 'roles'>, who: Who, depth = 0): Members {
  let anyone = false;
  const users = new Set<string>();
  for (const text of who) {
    const ref = parseReference(text);
    switch (ref.kind) {
      case 'anyone':
        anyone = true;
        break;
      case 'role':
        // Roles hold no roles (checked when the policy is built); depth guards anyway.
        if (depth === 0 && isRoleName(ref.role)) {
          const inner = members(policy, policy.roles[ref.role], depth + 1);
          anyone ||= inner.anyone;
          inner.users.forEach((u) => users.add(u));
        }
        break;
      case 'group':
        groupMembers(policy, ref.group).forEach((u) => users.add(u));
        break;
      case 'user':
        // A resolved Slack user group named directly.
        if (Object.hasOwn(policy.groups, ref.id)) groupMembers(policy, ref.id).forEach((u) => users.add(u));
        else users.add(ref.id);
        break;
    }
  }
  return { anyone, users: [...users] };
}

/** Whether `actor` is among `who`: named, or covered by '*' unless it is an API identity. */
export const isAmong = (policy: Pick<Policy, 'groups' | 'roles'>, actor: string, who: Who): boolean => {
  const found = members(policy, who);
  return found.users.includes(actor) || (found.anyone && !isApiIdentity(actor));
};

export const rolesOf = (policy: Pick<Policy, 'groups' | 'roles'>, actor: string): RoleName[] =>
  ROLE_NAMES.filter((role) => isAmong(policy, actor, policy.roles[role]));

/** Org patterns: exact, or a glob with `*` (any run) and `?` (one character); case does not matter. */
export function orgMatches(pattern: string, org: string): boolean {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(org);
}

import type { GateKind } from '../workflow/gate-policy.ts';
import type { RoleName } from './policy-file.ts';

// The policy as evaluated: every section filled in (defaults applied, settings merged), every
// reference checked. Built by build-policy.ts from a file (or from nothing) and the settings.

export type Who = readonly string[];

export interface GatePolicy {
  readonly approvers: Who;
  readonly quorum: number;
  readonly requesterMayApprove: boolean;
}

export interface DeployTarget {
  readonly org: string;
  readonly who: Who;
}

export interface Policy {
  /** Where it came from: the file's path, or "defaults". */
  readonly source: string;
  /** Inline groups, plus Slack user groups (keyed by their `S…` id) once resolved. */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  readonly roles: Readonly<Record<RoleName, Who>>;
  readonly start: { readonly 'read-only': Who; readonly 'code-change': Who };
  readonly deploy: { readonly targets: readonly DeployTarget[]; readonly otherOrgs: Who };
  readonly templates: Readonly<Record<string, Who>>;
  readonly taskTypes: Readonly<Record<string, Who>>;
  readonly gates: Readonly<Record<GateKind, GatePolicy>>;
}

/** A request the policy does not allow, naming the rule that refused it. */
export interface PolicyRefusal {
  readonly code: 'NotAuthorized';
  /** Where in the policy: `deploy.targets[1]`, `gates.deploy.approvers`, `cancel`. */
  readonly rule: string;
  readonly message: string;
}

/** What allowed a request, for the answer and the log. */
export interface PolicyDecision {
  readonly rule: string;
}

export interface PolicyProblem {
  /** Where in the file, e.g. `deploy.targets.1.who.0`. */
  readonly path: string;
  readonly message: string;
}

export interface InvalidPolicy {
  readonly code: 'InvalidPolicy';
  readonly message: string;
  readonly problems: readonly PolicyProblem[];
}

export const refusal = (rule: string, message: string): PolicyRefusal => ({ code: 'NotAuthorized', rule, message: `${message} (rule ${rule})` });

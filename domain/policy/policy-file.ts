import { z } from 'zod';

// The authorization policy as written in ORCH_POLICY_FILE (YAML or JSON). Every section is
// optional; what is missing takes the defaults in build-policy.ts. Unknown keys are refused, so
// a misspelt section never silently allows more than the author meant.
//
// A "who" list holds references, each one of:
//   '*'               everyone verified by a front end (never an `api:` identity)
//   'role:<name>'     a role: admin, approver, deployer, requester
//   'group:<name>'    a group declared under `groups`
//   anything else     a user id: Slack `U…`/`W…`, the console's local operator, `api:<name>`,
//                     or a Slack user group `S…` (its members when a lookup resolves it)

export const ROLE_NAMES = ['admin', 'approver', 'deployer', 'requester'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

const reference = z.string().trim().min(1).max(200);
const who = z.array(reference).max(1_000);
const groupName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'group names are letters, digits, _ . - (at most 100)');

const gate = z
  .object({
    approvers: who.optional(),
    quorum: z.int().min(1).max(50).optional(),
    requesterMayApprove: z.boolean().optional(),
  })
  .strict();

export const policyFileSchema = z
  .object({
    version: z.literal(1).optional(),
    groups: z.record(groupName, z.array(reference).max(1_000)).optional(),
    roles: z.object({ admin: who.optional(), approver: who.optional(), deployer: who.optional(), requester: who.optional() }).strict().optional(),
    /** Who may start work by side-effect class; deploys are governed by `deploy`. */
    start: z.object({ 'read-only': who.optional(), 'code-change': who.optional() }).strict().optional(),
    deploy: z
      .object({
        /** The first target whose org pattern (exact, or a glob with * and ?) matches decides. */
        targets: z
          .array(z.object({ org: z.string().trim().min(1).max(200), who }).strict())
          .max(200)
          .optional(),
        /** Orgs no target matches. */
        otherOrgs: who.optional(),
      })
      .strict()
      .optional(),
    /** Narrower rules per template id: who may start it at all. */
    templates: z.record(z.string().min(1).max(100), who).optional(),
    /** Narrower rules per task type: who may start work that runs it. */
    taskTypes: z.record(z.string().min(1).max(100), who).optional(),
    gates: z.object({ deploy: gate.optional(), 'code-change': gate.optional(), cost: gate.optional() }).strict().optional(),
  })
  .strict();

export type PolicyFile = z.infer<typeof policyFileSchema>;

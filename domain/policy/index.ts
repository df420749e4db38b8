// The authorization policy (SE2): who may start, approve and cancel what. Pure: files are read
// by infra/policy, and the front doors ask these functions before they send anything.

export { authorizeCommand, type CommandToAuthorize } from './authorize-command.ts';
export { buildPolicy, defaultPolicy, type PolicySettings } from './build-policy.ts';
export { describePolicyFor } from './describe.ts';
export {
  describeWho,
  gateRequirements,
  mayApprove,
  mayCancel,
  mayStart,
  narrowApprovers,
  strictestGateKind,
  type CancelTarget,
  type StartRequest,
  type WorkStep,
} from './evaluate.ts';
export { policyFileSchema, ROLE_NAMES, type PolicyFile, type RoleName } from './policy-file.ts';
export { refusal, type GatePolicy, type InvalidPolicy, type Policy, type PolicyDecision, type PolicyProblem, type PolicyRefusal, type Who } from './policy.ts';
export { isAmong, isApiIdentity, members, orgMatches, rolesOf } from './principals.ts';
export { applyGatePolicy, gateApprovers, gateKindOf, gateKinds, workflowSteps, type ClassifyTask } from './workflow-gates.ts';
export { planWorkSteps } from './plan-work.ts';

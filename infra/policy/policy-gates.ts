import { gateRequirements } from '../../domain/policy/index.ts';
import type { GateRequirements } from '../../domain/workflow/gate-policy.ts';
import type { Config } from '../config/schema.ts';
import { policyFor } from './load-policy.ts';

// The gates compile puts before side-effecting steps, from the authorization policy (approvers,
// quorum, the requester's say) with WORKFLOW_APPROVAL_TIMEOUT for how long they wait.

export function policyGateRequirements(config: Config): GateRequirements {
  const fromPolicy = gateRequirements(policyFor(config));
  const timeoutMs = config.workflows.approvalTimeoutMs;
  // A nudge a fifth of the way before the end, at most two minutes before it.
  const timing = { timeoutMs, ...(timeoutMs >= 5_000 ? { reminderBeforeMs: Math.min(120_000, Math.floor(timeoutMs / 5)) } : {}) };
  return {
    deploy: { ...fromPolicy.deploy, ...timing },
    'code-change': { ...fromPolicy['code-change'], ...timing },
    cost: { ...fromPolicy.cost, ...timing },
  };
}

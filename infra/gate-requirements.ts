import { sideEffectClassFor, sideEffectingTaskTypes, taskTypes } from '../adapters/executors/registry.ts';
import type { GateRequirement, GateRequirements, SideEffectClassifier } from '../domain/workflow/gate-policy.ts';
import type { GateRules, Registry } from '../domain/workflow/index.ts';
import { gateRequirements as policyGateRequirements } from '../domain/policy/index.ts';
import type { Config } from './config/schema.ts';
import { policyFor } from './policy/load-policy.ts';

// The gates the deployment requires in front of side-effecting steps and over-cap spend, from
// the authorization policy (domain/policy); and what each step
// does outside, from the executor registry. Compiling a template, a plan or a definition and the
// workflow engine all read these two functions, so every path to a side effect meets the same gate.

/**
 * Per gate kind, the authorization policy's approvers, quorum and requester rule (ORCH_POLICY_FILE,
 * or its defaults from WORKFLOW_APPROVERS and WORKFLOW_REQUESTER_MAY_APPROVE), with
 * WORKFLOW_APPROVAL_TIMEOUT and a reminder a fifth of the way before it (at most two minutes before).
 */
export function gateRequirements(config: Config): GateRequirements {
  const { approvalTimeoutMs } = config.workflows;
  const policy = policyGateRequirements(policyFor(config));
  const timed = (requirement: GateRequirement): GateRequirement => ({
    ...requirement,
    timeoutMs: approvalTimeoutMs,
    ...(approvalTimeoutMs >= 5_000 ? { reminderBeforeMs: Math.min(120_000, Math.floor(approvalTimeoutMs / 5)) } : {}),
  });
  return { deploy: timed(policy.deploy), 'code-change': timed(policy['code-change']), cost: timed(policy.cost) };
}

/** The rules for the gates a plan itself proposes: the deploy requirement's, the strictest (gates before side effects are narrowed further on compile). */
export function planGateRules(requirements: GateRequirements): GateRules {
  const { approvers, quorum, requesterMayApprove, timeoutMs, reminderBeforeMs } = requirements.deploy;
  return {
    ...(approvers.length > 0 ? { approvers } : {}),
    quorum,
    requesterMayApprove,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(reminderBeforeMs !== undefined ? { reminderBeforeMs } : {}),
  };
}

/** What a step does outside, by task type and parameters: the executor registry's answer (`sideEffectClassFor`). */
export const sideEffectClassOf: SideEffectClassifier = (taskType, params) => sideEffectClassFor(taskType, params);

/** The registry every compile of a template, plan or definition uses: task types, their classes, and the gates they require. */
export function gatedRegistry(config: Config): Registry {
  return { taskTypes, sideEffecting: sideEffectingTaskTypes, classify: sideEffectClassOf, gateRequirements: gateRequirements(config) };
}

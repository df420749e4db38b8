import { isLeft } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { compileTemplate, registerDefinition, workflowOfPlan, type CompiledWorkflow } from '../../domain/workflow/index.ts';
import { loadConfig } from '../../infra/config/load-config.ts';
import { gatedRegistry, gateRequirements, planGateRules, sideEffectClassOf } from '../../infra/gate-requirements.ts';
import { testsThenDeploy } from '../support/plan-fixtures.ts';

// The registry every front end compiles with (templates, plans, definitions): the deployment's
// gate requirements from its settings and the executor registry's classes, so WORKFLOW_APPROVERS
// cannot be widened by a template's `approvers=` and no deploy runs without its gate.

const config = (env: Record<string, string> = {}) => loadConfig({ LOG_LEVEL: 'silent', ...env }, { envFile: false });
const opsOnly = config({ WORKFLOW_APPROVERS: 'U0OPS', WORKFLOW_APPROVAL_TIMEOUT: '300000' });
const gatesOf = (workflow: CompiledWorkflow) => workflow.machine.nodes.filter((n) => n.kind === 'approval');

describe('gate requirements from the settings', () => {
  it('given named approvers, then every kind of gate takes them, and deploy gates never let the requester approve alone', () => {
    const requirements = gateRequirements(config({ WORKFLOW_APPROVERS: 'U0OPS', WORKFLOW_REQUESTER_MAY_APPROVE: 'true', WORKFLOW_APPROVAL_TIMEOUT: '300000' }));
    expect(requirements.deploy).toEqual({
      kind: 'deploy',
      approvers: ['U0OPS'],
      quorum: 1,
      requesterMayApprove: false,
      timeoutMs: 300_000,
      reminderBeforeMs: 60_000,
    });
    expect(requirements['code-change']).toMatchObject({ approvers: ['U0OPS'], requesterMayApprove: true });
    expect(requirements.cost).toMatchObject({ approvers: ['U0OPS'], quorum: 1 });
  });

  it('given no approvers named, then anyone may approve (an empty list), the requester per WORKFLOW_REQUESTER_MAY_APPROVE', () => {
    expect(gateRequirements(config()).deploy).toMatchObject({ approvers: [], requesterMayApprove: false });
  });

  it('classifies steps by their parameters: a validation is read-only, a deploy deploys, an edit changes code', () => {
    expect(sideEffectClassOf('sf-deploy', { repository: 'acme', targetOrg: 'prod', mode: 'validate' })).toBe('read-only');
    expect(sideEffectClassOf('sf-deploy', { repository: 'acme', targetOrg: 'prod' })).toBe('deploy');
    expect(sideEffectClassOf('claude-code', { repository: 'acme', prompt: 'fix it', mode: 'edit' })).toBe('code-change');
    expect(sideEffectClassOf('run-tests', { repository: 'acme' })).toBe('read-only');
  });
});

describe('compiling with the deployment’s registry', () => {
  it('given WORKFLOW_APPROVERS, when the deployment template names someone else, then it is refused before anything starts', () => {
    const result = compileTemplate('deployment', { repository: 'acme', targetOrg: 'prod', approvers: ['UFRIEND'] }, gatedRegistry(opsOnly));
    expect(isLeft(result) && result.left.map((e) => e.code)).toEqual(['GateApproversOutsidePolicy']);
  });

  it('given WORKFLOW_APPROVERS, when the deployment template names nobody, then the gate is the configured approver’s', () => {
    const result = compileTemplate('deployment', { repository: 'acme', targetOrg: 'prod' }, gatedRegistry(opsOnly));
    if (isLeft(result)) expect.fail(result.left.map((e) => e.message).join('; '));
    expect(JSON.stringify(result.right)).toContain('"approvers":["U0OPS"]');
  });

  it('given a plan that deploys without a gate, when compiled as the plan runner does, then the deploy gets the configured gate', () => {
    const plan = testsThenDeploy('acme');
    const ungated = {
      ...plan,
      phases: [
        plan.phases[0]!,
        {
          name: 'Deploy',
          steps: [{ kind: 'task' as const, id: 'deploy', taskType: 'sf-deploy', params: { repository: 'acme', targetOrg: 'prod' }, why: 'asked' }],
        },
      ],
    };
    const registry = gatedRegistry(opsOnly);
    const definition = workflowOfPlan(ungated, { name: 'plan', gates: planGateRules(registry.gateRequirements!), sideEffecting: registry.sideEffecting ?? [] });
    const result = registerDefinition(definition, registry);
    if (isLeft(result)) expect.fail(result.left.map((e) => e.message).join('; '));
    expect(gatesOf(result.right)).toEqual([
      expect.objectContaining({ id: 'approve-deploy', approvers: ['U0OPS'], requesterMayApprove: false, next: [{ to: 'deploy' }] }),
    ]);
  });
});

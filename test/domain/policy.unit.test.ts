import { isLeft, isRight, type Either } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  applyGatePolicy,
  authorizeCommand,
  buildPolicy,
  defaultPolicy,
  describePolicyFor,
  gateKinds,
  gateRequirements,
  mayApprove,
  mayCancel,
  mayStart,
  narrowApprovers,
  orgMatches,
  workflowSteps,
  type Policy,
  type PolicyDecision,
  type PolicyRefusal,
  type PolicySettings,
  type StartRequest,
} from '../../domain/policy/index.ts';
import { compileTemplate, type ApprovalNode, type CompiledWorkflow } from '../../domain/workflow/index.ts';
import { executors } from '../../adapters/executors/registry.ts';
import { classifyTask } from '../../infra/policy/classify-task.ts';
import { sideEffectClassFor } from '../../adapters/executors/registry.ts';
import { approvalPolicyFor } from '../../domain/plan/index.ts';
import { policyAuthorizer } from '../../infra/policy/gateway-authorize.ts';
import { registry as planRegistry, reviewPlan, testsThenDeploy } from '../support/plan-fixtures.ts';

// SE2: the authorization policy as specifications: given a policy, when someone asks, then the
// answer is allowed or refused naming the rule.

const settings: PolicySettings = { requesterMayApprove: false };

const file = {
  groups: { 'release-managers': ['U_REL1', 'U_REL2'], platform: ['S_PLATFORM'] },
  roles: { admin: ['U_ADMIN'], approver: ['group:release-managers'], deployer: ['group:release-managers', 'api:ci'], requester: ['*'] },
  deploy: {
    targets: [
      { org: 'sandbox-*', who: ['role:requester'] },
      { org: 'prod*', who: ['role:deployer'] },
    ],
  },
  templates: { 'code-review': ['U_REVIEWER'] },
  taskTypes: { lint: ['role:deployer'] },
  gates: { deploy: { approvers: ['role:approver'] } },
};

const policyOf = (input: unknown, with_: Partial<PolicySettings> = {}): Policy => {
  const built = buildPolicy(input, { ...settings, ...with_ }, 'test-policy.yaml');
  if (isLeft(built)) expect.fail(built.left.message);
  return built.right;
};

const expectAllowed = (result: Either<PolicyRefusal, PolicyDecision>, rule: string) => {
  if (isLeft(result)) expect.fail(`expected allowed by ${rule} but refused: ${result.left.message}`);
  expect(result.right.rule).toContain(rule);
};
const expectRefused = (result: Either<PolicyRefusal, unknown>, rule: string) => {
  if (isRight(result)) expect.fail(`expected refusal by ${rule} but it was allowed`);
  expect(result.left).toMatchObject({ code: 'NotAuthorized', rule });
  expect(result.left.message).toContain(`(rule ${rule})`);
};

const given = (policy: Policy) => ({
  whenStarting: (request: StartRequest) => ({
    thenAllows: (rule: string) => expectAllowed(mayStart(policy, request), rule),
    thenRefuses: (rule: string) => expectRefused(mayStart(policy, request), rule),
  }),
});

const deploy = (targetOrg: string) => ({ taskType: 'sf-deploy', sideEffect: 'deploy' as const, targetOrg });
const registry = { taskTypes: executors.map((e) => e.taskType), sideEffecting: executors.filter((e) => e.sideEffects).map((e) => e.taskType) };
const compiled = (id: string, values: Record<string, string>): CompiledWorkflow => {
  const result = compileTemplate(id, values, registry);
  if (isLeft(result)) expect.fail(result.left.map((e) => e.message).join('; '));
  return result.right;
};
const gate = (workflow: CompiledWorkflow, id: string): ApprovalNode => {
  const node = workflow.machine.nodes.flatMap(function all(n): ApprovalNode[] {
    return n.kind === 'approval' ? [n] : n.kind === 'parallel' ? n.branches.flatMap((b) => b.nodes.flatMap(all)) : [];
  });
  const found = node.find((n) => n.id === id) ?? expect.fail(`no gate ${id}`);
  return found;
};

describe('the defaults (no policy file)', () => {
  const defaults = defaultPolicy(settings);

  it('let anyone start read-only, code-change and deploy work', () => {
    given(defaults)
      .whenStarting({ actor: 'U_ANY', steps: [{ taskType: 'git-status', sideEffect: 'read-only' }] })
      .thenAllows('start.read-only');
    given(defaults)
      .whenStarting({ actor: 'U_ANY', steps: [{ taskType: 'claude-code', sideEffect: 'code-change' }] })
      .thenAllows('start.code-change');
    given(defaults)
      .whenStarting({ actor: 'local-operator', steps: [deploy('prod')] })
      .thenAllows('deploy.otherOrgs');
  });

  it('never count an outside API identity as "anyone"', () => {
    given(defaults)
      .whenStarting({ actor: 'api:ci', steps: [{ taskType: 'git-status', sideEffect: 'read-only' }] })
      .thenRefuses('start.read-only');
  });

  it('take gate approvers from WORKFLOW_APPROVERS, and keep the requester from approving a deploy alone then', () => {
    const requirements = gateRequirements(defaultPolicy({ approvers: ['U_BOSS'], requesterMayApprove: true }));
    expect(requirements.deploy).toEqual({ kind: 'deploy', approvers: ['U_BOSS'], quorum: 1, requesterMayApprove: false });
    expect(requirements['code-change']).toEqual({ kind: 'code-change', approvers: ['U_BOSS'], quorum: 1, requesterMayApprove: true });
  });

  it('let anyone approve when no approvers are named, with WORKFLOW_REQUESTER_MAY_APPROVE for the requester', () => {
    const requirements = gateRequirements(defaultPolicy({ requesterMayApprove: true }));
    expect(requirements.deploy).toMatchObject({ approvers: [], quorum: 1, requesterMayApprove: true });
    expectAllowed(mayApprove(defaultPolicy(settings), 'U_ANY', 'deploy'), 'gates.deploy.approvers');
  });

  it('take admins from ORCH_ADMINS', () => {
    const policy = defaultPolicy({ ...settings, admins: ['U_OPS'] });
    expectAllowed(mayCancel(policy, 'U_OPS', { requestedBy: 'U_OTHER', approvers: [] }), 'cancel.admin');
    expectRefused(mayCancel(defaultPolicy(settings), 'U_OPS', { requestedBy: 'U_OTHER', approvers: [] }), 'cancel');
  });
});

describe('starting work', () => {
  const policy = policyOf(file);

  it('refuses a deploy to a restricted org by a non-deployer, naming the target rule', () => {
    const refused = mayStart(policy, { actor: 'U_DEV', steps: [deploy('prod')] });
    expect(isLeft(refused) && refused.left).toEqual({
      code: 'NotAuthorized',
      rule: 'deploy.targets[1]',
      message: 'only deployers may deploy to prod (rule deploy.targets[1])',
    });
  });

  it('allows the same deploy to a deployer, through a group', () => {
    given(policy)
      .whenStarting({ actor: 'U_REL1', steps: [deploy('prod-eu')] })
      .thenAllows('deploy.targets[1]');
  });

  it('lets a requester deploy to a sandbox (first matching target decides)', () => {
    given(policy)
      .whenStarting({ actor: 'U_DEV', steps: [deploy('sandbox-42')] })
      .thenAllows('deploy.targets[0]');
  });

  it('sends orgs no target matches to otherOrgs (deployers by default when a file is given)', () => {
    given(policy)
      .whenStarting({ actor: 'U_DEV', steps: [deploy('uat')] })
      .thenRefuses('deploy.otherOrgs');
    given(policy)
      .whenStarting({ actor: 'api:ci', steps: [deploy('uat')] })
      .thenAllows('deploy.otherOrgs');
  });

  it('refuses a template only some may start', () => {
    given(policy).whenStarting({ actor: 'U_DEV', template: 'code-review', steps: [] }).thenRefuses('templates.code-review');
    given(policy).whenStarting({ actor: 'U_REVIEWER', template: 'code-review', steps: [] }).thenAllows('templates.code-review');
  });

  it('refuses a task type only some may run', () => {
    given(policy)
      .whenStarting({ actor: 'U_DEV', steps: [{ taskType: 'lint', sideEffect: 'read-only' }] })
      .thenRefuses('taskTypes.lint');
  });

  it('judges a whole template by its steps: the deployment template deploys to its targetOrg', () => {
    const workflow = compiled('deployment', { repository: 'crm', targetOrg: 'prod' });
    const steps = workflowSteps(workflow, classifyTask);
    expect(steps.filter((s) => s.sideEffect === 'deploy')).toEqual([{ taskType: 'sf-deploy', sideEffect: 'deploy', targetOrg: 'prod' }]);
    given(policy).whenStarting({ actor: 'U_DEV', template: 'deployment', steps }).thenRefuses('deploy.targets[1]');
  });
});

describe('approvers a requester names', () => {
  const policy = policyOf(file);

  it('may narrow the policy approvers of a gate kind', () => {
    const narrowed = narrowApprovers(policy, 'deploy', ['U_REL2']);
    expect(isRight(narrowed) && narrowed.right).toEqual(['U_REL2']);
  });

  it('may not widen them: naming someone else is refused naming the rule', () => {
    expectRefused(narrowApprovers(policy, 'deploy', ['U_REL1', 'UFRIEND']), 'gates.deploy.approvers');
  });

  it('are the policy approvers when none are named', () => {
    const narrowed = narrowApprovers(policy, 'deploy', []);
    expect(isRight(narrowed) && narrowed.right).toEqual(['U_REL1', 'U_REL2']);
  });

  it('hold a template gate to the policy: approvers=UFRIEND on a deployment is refused', () => {
    const workflow = compiled('deployment', { repository: 'crm', targetOrg: 'prod', approvers: 'UFRIEND' });
    expect(gateKinds(workflow, classifyTask).get('approve-deploy')).toBe('deploy');
    expectRefused(applyGatePolicy(policy, workflow, classifyTask), 'gates.deploy.approvers');
  });

  it('fill an unnamed deploy gate with the policy approvers, and keep the requester from approving it alone', () => {
    const workflow = compiled('deployment', { repository: 'crm', targetOrg: 'prod' });
    const applied = applyGatePolicy(policy, workflow, classifyTask);
    if (isLeft(applied)) expect.fail(applied.left.message);
    expect(gate(applied.right, 'approve-deploy')).toMatchObject({ approvers: ['U_REL1', 'U_REL2'], quorum: 1, requesterMayApprove: false });
  });

  it('hold the gate of a code change to the code-change rule (the approver role, by default, once it names people)', () => {
    const friend = compiled('bug-fix', { repository: 'api', issue: 'crash', approvers: 'UFRIEND' });
    expect(gateKinds(friend, classifyTask).get('approve-fix')).toBe('code-change');
    expectRefused(applyGatePolicy(policy, friend, classifyTask), 'gates.code-change.approvers');
    const applied = applyGatePolicy(policy, compiled('bug-fix', { repository: 'api', issue: 'crash', approvers: 'U_REL2' }), classifyTask);
    if (isLeft(applied)) expect.fail(applied.left.message);
    expect(gate(applied.right, 'approve-fix').approvers).toEqual(['U_REL2']);
  });

  it('let a requester name anyone for a gate kind open to anyone', () => {
    const open = policyOf({ ...file, gates: { deploy: { approvers: ['role:approver'] }, 'code-change': { approvers: ['*'] } } });
    const applied = applyGatePolicy(open, compiled('bug-fix', { repository: 'api', issue: 'crash', approvers: 'UFRIEND' }), classifyTask);
    if (isLeft(applied)) expect.fail(applied.left.message);
    expect(gate(applied.right, 'approve-fix').approvers).toEqual(['UFRIEND']);
  });

  it('refuse a gate narrowed below the quorum', () => {
    const strict = policyOf({ ...file, gates: { deploy: { approvers: ['role:approver'], quorum: 2 } } });
    const workflow = compiled('deployment', { repository: 'crm', targetOrg: 'prod', approvers: 'U_REL1' });
    expectRefused(applyGatePolicy(strict, workflow, classifyTask), 'gates.deploy.quorum');
  });
});

describe('approving and cancelling', () => {
  const policy = policyOf(file);

  it('lets only the policy approvers decide deploy gates', () => {
    expectAllowed(mayApprove(policy, 'U_REL1', 'deploy'), 'gates.deploy.approvers');
    expectRefused(mayApprove(policy, 'UFRIEND', 'deploy'), 'gates.deploy.approvers');
  });

  it('lets the requester, a gate approver and an admin cancel, and nobody else', () => {
    const target = { requestedBy: 'U_DEV', approvers: ['U_REL1'] };
    expectAllowed(mayCancel(policy, 'U_DEV', target), 'cancel.requester');
    expectAllowed(mayCancel(policy, 'U_REL1', target), 'cancel.approver');
    expectAllowed(mayCancel(policy, 'U_ADMIN', target), 'cancel.admin');
    expectRefused(mayCancel(policy, 'U_STRANGER', target), 'cancel');
  });

  it('expands a Slack user group once it is resolved into groups', () => {
    const resolved: Policy = { ...policy, groups: { ...policy.groups, S_PLATFORM: ['U_PLAT'] } };
    const request = { actor: 'U_PLAT', steps: [{ taskType: 'lint', sideEffect: 'read-only' as const }] };
    expectRefused(mayStart(policyOf({ ...file, taskTypes: { lint: ['group:platform'] } }), request), 'taskTypes.lint');
    expectAllowed(mayStart({ ...resolved, taskTypes: { lint: ['group:platform'] } }, request), 'taskTypes.lint');
  });
});

describe('commands from outside producers', () => {
  const policy = policyOf(file);

  it('refuse a lone task that deploys or changes code, whoever asks: it has no gate in front of it', () => {
    const command = {
      actor: 'api:ci',
      category: 'task',
      type: 'QueueTask',
      data: { taskType: 'sf-deploy', payload: { targetOrg: 'prod' } },
      sideEffect: 'deploy' as const,
    };
    expectRefused(authorizeCommand(policy, command), 'gates.required');
    expectRefused(authorizeCommand(policy, { ...command, data: { taskType: 'claude-code' }, sideEffect: 'code-change' as const }), 'gates.required');
    expectRefused(authorizeCommand(policy, { ...command, sideEffect: undefined }), 'gates.required');
  });

  it('allow a named API identity to queue read-only work, and no one else', () => {
    const named = policyOf({ ...file, roles: { ...file.roles, requester: ['*', 'api:ci'] } });
    const command = {
      actor: 'api:ci',
      category: 'task',
      type: 'QueueTask',
      data: { taskType: 'git-status', payload: { repository: 'crm' } },
      sideEffect: 'read-only' as const,
    };
    expectAllowed(authorizeCommand(named, command), 'start.read-only');
    expectRefused(authorizeCommand(named, { ...command, actor: 'api:other' }), 'start.read-only');
  });

  it('count work of unknown class as a deploy', () => {
    expectRefused(
      authorizeCommand(policy, { actor: 'api:other', category: 'workflow', type: 'StartWorkflow', data: {}, targetOrg: 'prod' }),
      'deploy.targets[1]',
    );
  });

  it('refuse approvals from an API identity the policy does not name', () => {
    expectRefused(
      authorizeCommand(policy, { actor: 'api:ci', category: 'workflow', type: 'GrantApproval', data: { approver: 'U_REL1' } }),
      'gates.deploy.approvers',
    );
  });

  it('judge a workflow definition by its steps at the gateway (a deploy to prod needs a named deployer)', () => {
    const authorize = policyAuthorizer(policy);
    const data = { definition: compiled('deployment', { repository: 'crm', targetOrg: 'prod' }) };
    expect(authorize({ actor: 'api:other', category: 'workflow', id: 'wf-1', type: 'StartWorkflow', data })).toMatchObject({
      allowed: false,
      code: 'NotAuthorized',
      message: expect.stringContaining('(rule deploy.targets[1])'),
    });
    // Its read-only steps need the identity named among requesters too: '*' does not cover it.
    expect(authorize({ actor: 'api:ci', category: 'workflow', id: 'wf-1', type: 'StartWorkflow', data })).toMatchObject({
      allowed: false,
      message: expect.stringContaining('(rule start.read-only)'),
    });
    const named = policyAuthorizer(policyOf({ ...file, roles: { ...file.roles, requester: ['*', 'api:ci'] } }));
    expect(named({ actor: 'api:ci', category: 'workflow', id: 'wf-1', type: 'StartWorkflow', data })).toMatchObject({
      allowed: true,
      rule: expect.stringContaining('deploy.targets[1]'),
    });
    expect(
      authorize({
        actor: 'api:other',
        category: 'workflow',
        id: 'wf-1',
        type: 'StartWorkflow',
        data: { definition: { name: 'gates only', form: 'stepTree', machine: { start: 'end', nodes: [{ kind: 'end', id: 'end', outcome: 'completed' }] } } },
      }),
    ).toMatchObject({ allowed: false });
  });

  it('refuse cancels except by admins when the target is unknown, and commands not open to them', () => {
    expectRefused(authorizeCommand(policy, { actor: 'api:ci', category: 'workflow', type: 'CancelWorkflow', data: {} }), 'cancel');
    expectRefused(authorizeCommand(policy, { actor: 'api:ci', category: 'budget', type: 'ReserveBudget', data: {} }), 'commands.ReserveBudget');
  });
});

describe('the policy file', () => {
  it('is refused with every problem by its path', () => {
    const built = buildPolicy(
      {
        roles: { admin: ['role:approver'] },
        start: { 'read-only': ['group:nope', 'role:boss'] },
        gates: { deploy: { approvers: ['U1'], quorum: 3 } },
        taskTypes: { 'no-such': ['*'] },
      },
      { ...settings, knownTaskTypes: ['lint'] },
      'policy.yaml',
    );
    if (isRight(built)) expect.fail('expected InvalidPolicy');
    expect(built.left.code).toBe('InvalidPolicy');
    expect(built.left.problems.map((p) => p.path)).toEqual([
      'roles.admin.0',
      'start.read-only.0',
      'start.read-only.1',
      'taskTypes.no-such',
      'gates.deploy.quorum',
    ]);
    expect(built.left.message).toContain('policy.yaml: ');
  });

  it('refuses unknown sections and wrong shapes (a misspelling never allows more)', () => {
    const built = buildPolicy({ role: { admin: ['U1'] }, gates: { deploy: { quorum: 0 } } }, settings, 'policy.yaml');
    if (isRight(built)) expect.fail('expected InvalidPolicy');
    expect(built.left.problems.map((p) => p.path).sort()).toEqual(['(top)', 'gates.deploy.quorum']);
  });

  it('refuses gates nobody could ever open', () => {
    const built = buildPolicy({ gates: { cost: { approvers: ['role:admin'] } } }, settings, 'policy.yaml');
    if (isRight(built)) expect.fail('expected InvalidPolicy');
    expect(built.left.problems).toEqual([{ path: 'gates.cost.approvers', message: expect.stringContaining('names nobody') }]);
  });

  it('matches orgs exactly or by glob, ignoring case', () => {
    expect(orgMatches('prod*', 'PROD-eu')).toBe(true);
    expect(orgMatches('prod', 'production')).toBe(false);
    expect(orgMatches('uat-?', 'uat-1')).toBe(true);
    expect(orgMatches('a.b', 'axb')).toBe(false);
  });

  it('is shown to a person as what they may do', () => {
    const text = describePolicyFor(policyOf(file), 'U_REL1');
    expect(text).toContain('Roles: approver, deployer, requester');
    expect(text).toContain('Deploy to prod*: yes (deploy.targets[1]: deployers)');
    expect(text).toContain('Approve deploy gates: yes');
  });
});

describe('"Run this plan" under the policy', () => {
  const policy = policyOf(file);
  const rules = { costThresholdUsd: 1, requesterMayApprove: true, gates: gateRequirements(policy), classify: sideEffectClassFor };

  it("takes the approvers of the plan's strictest kind of work from the policy", () => {
    expect(approvalPolicyFor(testsThenDeploy(), planRegistry, rules)).toMatchObject({
      required: true,
      approvers: ['U_REL1', 'U_REL2'],
      requesterMayApprove: true,
    });
  });

  it('names nobody for a plan that changes nothing outside', () => {
    expect(approvalPolicyFor(reviewPlan(), planRegistry, rules).approvers).toBeUndefined();
  });
});

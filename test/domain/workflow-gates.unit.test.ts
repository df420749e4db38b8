import { isLeft } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { sideEffectClassFor } from '../../adapters/executors/registry.ts';
import type { GateRequirement, GateRequirements } from '../../domain/workflow/gate-policy.ts';
import {
  compileTemplate,
  registerDefinition,
  workflowDecider,
  workflowOfPlan,
  type CompiledWorkflow,
  type DefinitionError,
  type Registry,
  type TaskNode,
  type WorkflowNode,
} from '../../domain/workflow/index.ts';
import type { PlanStep } from '../../domain/plan/index.ts';
import { specFor } from '../support/decider-spec.ts';
import { testsThenDeploy } from '../support/plan-fixtures.ts';
import { fixturesFor, task, registry as plainRegistry } from './workflow-fixtures.ts';

// WF3, OR3: compiling any definition or plan with the policy's gate requirements puts a gate in
// front of every side-effecting step that has none and narrows the gates already there to the
// policy; a step cannot understate its side effects; and the decider refuses to start any
// definition that could reach a side effect without passing a gate, whoever sends it.

const requirement = (kind: GateRequirement['kind'], extra: Partial<GateRequirement> = {}): GateRequirement => ({
  kind,
  approvers: [],
  quorum: 1,
  requesterMayApprove: true,
  timeoutMs: 300_000,
  ...extra,
});
const policy: GateRequirements = {
  deploy: requirement('deploy', { approvers: ['U_OPS1', 'U_OPS2'], requesterMayApprove: false, reminderBeforeMs: 60_000 }),
  'code-change': requirement('code-change', { approvers: ['U_DEV'] }),
  cost: requirement('cost'),
};
const gated: Registry = { taskTypes: plainRegistry.taskTypes, classify: sideEffectClassFor, gateRequirements: policy };

const register = (definition: unknown, registry: Registry = gated) => registerDefinition(definition, registry);
const compile = (definition: unknown, registry: Registry = gated): CompiledWorkflow => {
  const result = register(definition, registry);
  if (isLeft(result)) expect.fail(result.left.map((e) => e.message).join('; '));
  return result.right;
};
const refusal = (definition: unknown, registry: Registry = gated): DefinitionError[] => {
  const result = register(definition, registry);
  if (!isLeft(result)) expect.fail('expected the definition to be refused');
  return [...result.left];
};
const steps = (...nodes: object[]) => ({ form: 'stepTree', name: 'gates', root: { type: 'sequence', steps: nodes } });
const deploy = (id = 'deploy', extra: object = {}) => task(id, 'sf-deploy', { params: { repository: 'acme', targetOrg: 'prod', mode: 'deploy' }, ...extra });
const validate = (id = 'validate', extra: object = {}) =>
  task(id, 'sf-deploy', { params: { repository: 'acme', targetOrg: 'prod', mode: 'validate' }, ...extra });
const edit = (id = 'fix') => task(id, 'claude-code', { params: { repository: 'acme', mode: 'edit', prompt: 'fix it' } });

const allNodes = (workflow: CompiledWorkflow): WorkflowNode[] => {
  const walk = (nodes: readonly WorkflowNode[]): WorkflowNode[] =>
    nodes.flatMap((n) => [n, ...(n.kind === 'parallel' ? n.branches.flatMap((b) => walk(b.nodes)) : [])]);
  return walk(workflow.machine.nodes);
};
const node = (workflow: CompiledWorkflow, id: string): WorkflowNode => allNodes(workflow).find((n) => n.id === id) ?? expect.fail(`no node ${id}`);

describe('compiling puts the policy’s gate before every ungated side effect', () => {
  it('given a deploy step with no gate, when compiled, then a deploy gate with the policy’s approvers comes right before it', () => {
    const workflow = compile(steps(task('test'), deploy()));
    expect(node(workflow, 'test')).toMatchObject({ next: [{ to: 'approve-deploy' }] });
    expect(node(workflow, 'approve-deploy')).toEqual({
      kind: 'approval',
      id: 'approve-deploy',
      title: 'Deploy step deploy changes things: approve?',
      approvers: ['U_OPS1', 'U_OPS2'],
      quorum: 1,
      requesterMayApprove: false,
      timeoutMs: 300_000,
      reminderBeforeMs: 60_000,
      next: [{ to: 'deploy' }],
    });
  });

  it('given a code change first thing, when compiled, then the workflow starts at a code-change gate', () => {
    const workflow = compile(steps(edit(), task('test')));
    expect(workflow.machine.start).toBe('approve-fix');
    expect(node(workflow, 'approve-fix')).toMatchObject({
      title: 'Code-change step fix changes things: approve?',
      approvers: ['U_DEV'],
      requesterMayApprove: true,
    });
  });

  it('given a step that says it has no side effects, when the classifier says it deploys, then it is recorded as side-effecting and gated', () => {
    const workflow = compile(steps(deploy('deploy', { sideEffects: false })));
    expect(node(workflow, 'deploy')).toMatchObject({ sideEffects: true });
    expect(workflow.machine.start).toBe('approve-deploy');
  });

  it('given read-only steps (a validation, tests), when compiled, then no gate is added and they stay free of side effects', () => {
    const workflow = compile(steps(validate('validate', { sideEffects: false }), task('test')));
    expect(allNodes(workflow).map((n) => n.kind)).not.toContain('approval');
    expect(node(workflow, 'validate')).toMatchObject({ sideEffects: false });
  });

  it('given a gate id already taken, when a gate is inserted, then it gets the next free id', () => {
    const workflow = compile(steps(task('approve-deploy'), deploy()));
    expect(node(workflow, 'approve-deploy')).toMatchObject({ kind: 'task' });
    expect(node(workflow, 'approve-deploy-2')).toMatchObject({ kind: 'approval', next: [{ to: 'deploy' }] });
  });

  it('given a deploy inside one branch of a parallel step, when compiled, then the gate goes inside that branch', () => {
    const workflow = compile(steps({ type: 'parallel', id: 'both', branches: [task('lint', 'lint'), deploy()] }));
    const both = node(workflow, 'both');
    expect(both.kind === 'parallel' && both.branches.map((b) => b.start)).toEqual(['lint', 'approve-deploy']);
  });

  it('given a deploy on a conditional branch, when compiled, then the gate is skipped with it when the branch is not taken', () => {
    const workflow = compile(steps(task('test'), { type: 'conditional', id: 'green', condition: 'steps.test.output.success == true', then: deploy() }));
    expect(node(workflow, 'green')).toMatchObject({ next: [{ to: 'approve-deploy' }, { to: '#end', skips: ['approve-deploy', 'deploy'] }] });
  });

  it('given a state machine entering the deploy from two states and from a loop, when compiled, then every transition into it enters the gate', () => {
    const workflow = compile({
      form: 'stateMachine',
      name: 'machine',
      start: 'test',
      states: [
        {
          type: 'task',
          id: 'test',
          taskType: 'run-tests',
          params: { repository: 'acme' },
          transitions: [{ to: 'deploy', when: 'steps.test.output.success == true' }, { to: 'lint' }],
        },
        { type: 'task', id: 'lint', taskType: 'lint', params: { repository: 'acme' }, transitions: [{ to: 'deploy' }] },
        {
          type: 'task',
          id: 'deploy',
          taskType: 'sf-deploy',
          params: { repository: 'acme', targetOrg: 'prod' },
          transitions: [{ to: 'done', when: 'steps.deploy.output.success == true' }, { to: 'deploy' }],
        },
        { type: 'end', id: 'done' },
      ],
    });
    expect(node(workflow, 'test')).toMatchObject({ next: [{ to: 'approve-deploy' }, { to: 'lint' }] });
    expect(node(workflow, 'lint')).toMatchObject({ next: [{ to: 'approve-deploy' }] });
    expect(node(workflow, 'deploy')).toMatchObject({ next: [{ to: 'done' }, { to: 'approve-deploy' }] });
    expect(workflow.machine.nodes.filter((n) => n.kind === 'approval')).toHaveLength(1);
  });
});

describe('a gate already before a side effect keeps its place and is narrowed to the policy', () => {
  it('given a gate naming approvers beyond the policy, when compiled, then only the policy’s remain, and quorum and requester rule are raised', () => {
    const gate = { type: 'approval', id: 'go', approvers: ['U_OPS1', 'UFRIEND'], requesterMayApprove: true };
    const workflow = compile(steps(gate, deploy()));
    expect(
      allNodes(workflow)
        .filter((n) => n.kind === 'approval')
        .map((n) => n.id),
    ).toEqual(['go']);
    expect(node(workflow, 'go')).toMatchObject({ approvers: ['U_OPS1'], quorum: 1, requesterMayApprove: false });
  });

  it('given a gate naming nobody (anyone), when compiled, then it takes the policy’s approvers', () => {
    expect(node(compile(steps({ type: 'approval', id: 'go' }, deploy())), 'go')).toMatchObject({ approvers: ['U_OPS1', 'U_OPS2'] });
  });

  it('given a gate whose approvers are all outside the policy, when compiled, then it is refused naming the gate', () => {
    const errors = refusal(steps({ type: 'approval', id: 'go', approvers: ['UFRIEND'] }, deploy()));
    expect(errors).toEqual([expect.objectContaining({ code: 'GateApproversOutsidePolicy', culprit: 'go' })]);
    expect(errors[0]!.message).toContain('UFRIEND');
  });

  it('given a policy quorum of 2, when the gate keeps one allowed approver, then it is refused as unreachable', () => {
    const strict: Registry = { ...gated, gateRequirements: { ...policy, deploy: { ...policy.deploy, quorum: 2 } } };
    expect(refusal(steps({ type: 'approval', id: 'go', approvers: ['U_OPS1'] }, deploy()), strict)).toEqual([
      expect.objectContaining({ code: 'GateQuorumUnreachable', culprit: 'go' }),
    ]);
    expect(node(compile(steps({ type: 'approval', id: 'go' }, deploy()), strict), 'go')).toMatchObject({ quorum: 2, approvers: ['U_OPS1', 'U_OPS2'] });
  });

  it('given approvals on every branch of a parallel step before a deploy, when compiled, then they gate it and no gate is added', () => {
    const workflow = compile(
      steps(
        {
          type: 'parallel',
          id: 'sign-off',
          branches: [
            { type: 'approval', id: 'qa' },
            { type: 'approval', id: 'security' },
          ],
        },
        deploy(),
      ),
    );
    expect(
      allNodes(workflow)
        .filter((n) => n.kind === 'approval')
        .map((n) => n.id),
    ).toEqual(['qa', 'security']);
    expect(node(workflow, 'qa')).toMatchObject({ approvers: ['U_OPS1', 'U_OPS2'], requesterMayApprove: false });
  });

  it('given an approval on one branch only, when the other branch ends without one, then the deploy after the parallel step is still gated by it', () => {
    const workflow = compile(steps({ type: 'parallel', id: 'sign-off', branches: [{ type: 'approval', id: 'qa' }, task('lint', 'lint')] }, deploy()));
    expect(
      allNodes(workflow)
        .filter((n) => n.kind === 'approval')
        .map((n) => n.id),
    ).toEqual(['qa']);
  });

  it('given a gate on only one of two paths to the deploy, when compiled, then a gate is added right before the deploy', () => {
    const workflow = compile(
      steps(
        task('test'),
        { type: 'conditional', id: 'careful', condition: 'steps.test.output.success != true', then: { type: 'approval', id: 'anyway' } },
        deploy(),
      ),
    );
    expect(node(workflow, 'anyway')).toMatchObject({ next: [{ to: 'approve-deploy' }] });
    expect(node(workflow, 'approve-deploy')).toMatchObject({ next: [{ to: 'deploy' }] });
  });
});

describe('templates compile with the policy’s gates', () => {
  const templates: Registry = { ...gated, taskTypes: [...gated.taskTypes, 'sf-run-apex-tests'] };

  it('given the deployment template started with an approver outside the policy, when compiled, then it is refused naming the gate', () => {
    const result = compileTemplate('deployment', { repository: 'acme', targetOrg: 'prod', approvers: ['UFRIEND'] }, templates);
    expect(isLeft(result) && result.left).toEqual([expect.objectContaining({ code: 'GateApproversOutsidePolicy', culprit: 'approve-deploy' })]);
  });

  it('given the deployment template with no approvers named, when compiled, then its gate takes the policy’s approvers and nothing else is gated', () => {
    const result = compileTemplate('deployment', { repository: 'acme', targetOrg: 'prod' }, templates);
    if (isLeft(result)) expect.fail(result.left.map((e) => e.message).join('; '));
    expect(node(result.right, 'approve-deploy')).toMatchObject({ approvers: ['U_OPS1', 'U_OPS2'], requesterMayApprove: false });
    expect(
      allNodes(result.right)
        .filter((n) => n.kind === 'approval')
        .map((n) => n.id),
    ).toEqual(['approve-deploy']);
    expect(node(result.right, 'validate')).toMatchObject({ sideEffects: false });
  });

  it('given the bug-fix template, when compiled, then its fix gate is narrowed to the code-change approvers', () => {
    const result = compileTemplate('bug-fix', { repository: 'acme', issue: 'it crashes' }, templates);
    if (isLeft(result)) expect.fail(result.left.map((e) => e.message).join('; '));
    expect(node(result.right, 'approve-fix')).toMatchObject({ approvers: ['U_DEV'] });
    expect(node(result.right, 'fix')).toMatchObject({ sideEffects: true });
  });
});

describe('without the policy, registration still refuses ungated side effects', () => {
  it('given a deploy without a gate and no requirements, when registered, then UngatedSideEffect names the step', () => {
    const errors = refusal(steps(task('test'), task('deploy', 'sf-deploy', { sideEffects: true })), { taskTypes: plainRegistry.taskTypes });
    expect(errors).toEqual([expect.objectContaining({ code: 'UngatedSideEffect', culprit: 'deploy' })]);
  });
});

describe('planned workflows', () => {
  const planRegistry: Registry = { ...gated, taskTypes: [...gated.taskTypes, 'git-status'] };
  const withoutGate = () => {
    const plan = testsThenDeploy('acme');
    const [test, deployPhase] = plan.phases;
    const conditional = deployPhase!.steps[0] as Extract<PlanStep, { kind: 'conditional' }>;
    return {
      ...plan,
      phases: [test!, { ...deployPhase!, steps: [{ ...conditional, then: conditional.then.filter((s: PlanStep) => s.kind !== 'approval') }] }],
    };
  };

  it('given a plan that deploys without proposing a gate, when compiled, then the deploy gets the policy’s gate', () => {
    const definition = workflowOfPlan(withoutGate(), { name: 'plan', gates: { requesterMayApprove: false }, sideEffecting: ['sf-deploy'] });
    const workflow = compile(definition, planRegistry);
    expect(node(workflow, 'approve-deploy')).toMatchObject({ kind: 'approval', approvers: ['U_OPS1', 'U_OPS2'], next: [{ to: 'deploy' }] });
  });

  it('given gate rules with a quorum, when a plan proposes a gate, then the gate takes that quorum', () => {
    const definition = workflowOfPlan(testsThenDeploy('acme'), {
      name: 'plan',
      gates: { approvers: ['U_OPS1', 'U_OPS2'], quorum: 2, requesterMayApprove: false },
      sideEffecting: ['sf-deploy'],
    });
    expect(node(compile(definition, planRegistry), 'go')).toMatchObject({ quorum: 2, approvers: ['U_OPS1', 'U_OPS2'] });
  });
});

describe('the decider refuses to start a definition that reaches a side effect without a gate', () => {
  const { given } = specFor(workflowDecider);
  const ungated: CompiledWorkflow = {
    name: 'raw',
    form: 'stepTree',
    machine: {
      start: 'deploy',
      nodes: [
        {
          kind: 'task',
          id: 'deploy',
          taskType: 'sf-deploy',
          params: { repository: 'acme', targetOrg: 'prod' },
          retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0, nonRetryable: [] },
          sideEffects: true,
          next: [{ to: 'done' }],
        },
        { kind: 'end', id: 'done', outcome: 'completed' },
      ],
    },
  };

  it('given nothing, when a raw StartWorkflow carries a deploy with no gate, then it is refused with UngatedSideEffect', () => {
    given().when(fixturesFor(ungated).startWorkflow()).thenRejects('UngatedSideEffect');
    const decided = workflowDecider.decide(fixturesFor(ungated).startWorkflow(), workflowDecider.initialState());
    expect(isLeft(decided) && decided.left.message).toContain('"deploy"');
  });

  it('given nothing, when the deploy sits in a parallel branch next to a gate in the other branch, then it is still refused', () => {
    const beside: CompiledWorkflow = {
      ...ungated,
      machine: {
        start: 'both',
        nodes: [
          {
            kind: 'parallel',
            id: 'both',
            branches: [
              {
                start: 'ok',
                nodes: [
                  { kind: 'approval', id: 'ok', approvers: [], quorum: 1, requesterMayApprove: true, timeoutMs: 60_000, next: [{ to: 'end-1' }] },
                  { kind: 'end', id: 'end-1', outcome: 'completed' },
                ],
              },
              {
                start: 'deploy',
                nodes: [
                  { ...(ungated.machine.nodes[0] as TaskNode), next: [{ to: 'end-2' }] },
                  { kind: 'end', id: 'end-2', outcome: 'completed' },
                ],
              },
            ],
            next: [{ to: 'done' }],
          },
          { kind: 'end', id: 'done', outcome: 'completed' },
        ],
      },
    };
    given().when(fixturesFor(beside).startWorkflow()).thenRejects('UngatedSideEffect');
  });

  it('given nothing, when the compiled definition puts a gate before the deploy, then it starts and waits for the gate', () => {
    const workflow = compile(steps(deploy()));
    const decided = workflowDecider.decide(fixturesFor(workflow).startWorkflow(), workflowDecider.initialState());
    expect(isLeft(decided) ? decided.left.code : decided.right.map((e) => e.type)).toEqual(['WorkflowStarted', 'ApprovalRequested']);
  });
});

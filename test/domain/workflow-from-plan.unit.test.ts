import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { parsePlan, type Plan } from '../../domain/plan/index.ts';
import { registerDefinition, workflowOfPlan, type CompiledWorkflow, type PlanToWorkflow, type WorkflowNode } from '../../domain/workflow/index.ts';
import { registry, reviewPlan, testsThenDeploy } from '../support/plan-fixtures.ts';

// A plan becomes a workflow step for step (OR1 → WF1): what the preview showed is what runs.

const taskTypes = registry.map((r) => r.taskType);
const sideEffecting = registry.filter((r) => r.sideEffects).map((r) => r.taskType);
const options: PlanToWorkflow = { name: 'Plan p1', gates: { requesterMayApprove: false, approvers: ['U_APPROVER'], timeoutMs: 300_000 }, sideEffecting };

const compiled = (plan: Plan, with_: PlanToWorkflow = options): CompiledWorkflow => {
  const result = registerDefinition(workflowOfPlan(plan, with_), { taskTypes, sideEffecting });
  if (isLeft(result)) expect.fail(result.left.map((e) => e.message).join('; '));
  return result.right;
};

const nodesOf = (workflow: CompiledWorkflow): WorkflowNode[] => {
  const walk = (nodes: readonly WorkflowNode[]): WorkflowNode[] =>
    nodes.flatMap((n) => [n, ...(n.kind === 'parallel' ? n.branches.flatMap((b) => walk(b.nodes)) : [])]);
  return walk(workflow.machine.nodes);
};
const node = (workflow: CompiledWorkflow, id: string): WorkflowNode => {
  const found = nodesOf(workflow).find((n) => n.id === id);
  if (!found) expect.fail(`no node ${id}`);
  return found;
};

describe('a plan compiled into a workflow', () => {
  it('keeps every task step with its task type, parameters and reason', () => {
    const workflow = compiled(testsThenDeploy('acme'));
    expect(node(workflow, 'tests')).toMatchObject({
      kind: 'task',
      taskType: 'run-tests',
      params: { repository: 'acme' },
      title: 'Deploy only what passes.',
      sideEffects: false,
    });
    expect(node(workflow, 'deploy')).toMatchObject({ kind: 'task', taskType: 'sf-deploy', sideEffects: true });
    expect(workflow.name).toBe('Plan p1');
  });

  it("gives gates the deployment's approvers and policy, whatever the planner wrote", () => {
    const gate = node(compiled(testsThenDeploy()), 'go');
    expect(gate).toMatchObject({
      kind: 'approval',
      approvers: ['U_APPROVER'],
      requesterMayApprove: false,
      timeoutMs: 300_000,
      title: 'Deploy acme to production',
    });
    const open = node(compiled(testsThenDeploy(), { ...options, gates: { requesterMayApprove: true } }), 'go');
    expect(open).toMatchObject({ approvers: [], requesterMayApprove: true });
  });

  it('runs tests before the conditional that reads their output, and the gate before the deploy', () => {
    const workflow = compiled(testsThenDeploy());
    expect(workflow.machine.start).toBe('tests');
    expect(node(workflow, 'tests').kind === 'task' && node(workflow, 'tests')).toMatchObject({ next: [{ to: 'green' }] });
    expect(node(workflow, 'green')).toMatchObject({ kind: 'choice', next: [{ to: 'go', when: 'steps.tests.output.failed == 0' }, {}] });
    expect(node(workflow, 'go')).toMatchObject({ next: [{ to: 'deploy' }] });
  });

  it('keeps a parallel step as parallel branches, and a conditional with both branches', () => {
    const workflow = compiled(reviewPlan());
    const checks = node(workflow, 'checks');
    expect(checks.kind).toBe('parallel');
    if (checks.kind !== 'parallel') return;
    expect(checks.branches.map((b) => b.start)).toEqual(['analyze', 'lint']);
    expect(node(workflow, 'clean')).toMatchObject({ kind: 'choice' });
    expect(node(workflow, 'look')).toMatchObject({ kind: 'approval' });
  });

  it('clips a long reason to the 200 characters a step title may have', () => {
    const plan = testsThenDeploy();
    const long: Plan = {
      ...plan,
      phases: [{ name: 'Only', steps: [{ kind: 'task', id: 'tests', taskType: 'run-tests', params: { repository: 'acme' }, why: 'x'.repeat(500) }] }],
    };
    const title = (node(compiled(long), 'tests') as { title: string }).title;
    expect(title).toHaveLength(200);
    expect(title.endsWith('…')).toBe(true);
  });
});

describe('plan step ids follow the workflow rule', () => {
  it('refuses "_" in a step id, which would break the task ids of its runs', () => {
    const plan = testsThenDeploy();
    const bad = {
      ...plan,
      phases: [{ name: 'Test', steps: [{ kind: 'task', id: 'run_tests', taskType: 'run-tests', params: { repository: 'acme' }, why: 'x' }] }],
    };
    const parsed = parsePlan(bad, registry);
    expect(isLeft(parsed)).toBe(true);
    if (isLeft(parsed)) expect(parsed.left.map((i) => i.message).join(' ')).toMatch(/letters and digits, joined by single "-"/);
    expect(isRight(parsePlan(testsThenDeploy(), registry))).toBe(true);
  });
});

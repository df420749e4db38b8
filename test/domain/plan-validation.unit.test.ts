import { isLeft, isRight, type Either } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  approvalPolicyFor,
  escapesWorkspace,
  MAX_PLAN_STEPS,
  parsePlan,
  stepReferences,
  validatePlan,
  type Plan,
  type PlanIssue,
  type PlanStep,
} from '../../domain/plan/index.ts';
import { registry, reviewPlan, statusPlan, testsThenDeploy } from '../support/plan-fixtures.ts';

// ── fixtures ────────────────────────────────────────────────────────────────
const task = (id: string, taskType = 'git-status', params: Record<string, unknown> = { repository: 'acme' }): PlanStep => ({
  kind: 'task',
  id,
  taskType,
  params,
  why: 'because',
});
const when = (id: string, condition: string, then: PlanStep[], otherwise?: PlanStep[]): PlanStep => ({
  kind: 'conditional',
  id,
  condition,
  then,
  ...(otherwise && { else: otherwise }),
});
const parallel = (id: string, ...branches: PlanStep[][]): PlanStep => ({ kind: 'parallel', id, branches });
const planOf = (...phases: PlanStep[][]): Plan => ({
  summary: 'test plan',
  complexity: 'complex',
  phases: phases.map((steps, i) => ({ name: `phase ${i + 1}`, steps })),
  estimate: { estimatedMs: 1_000, estimatedCostUsd: 0 },
});

function issuesOf(result: Either<readonly PlanIssue[], Plan>): readonly PlanIssue[] {
  if (isRight(result)) expect.fail('expected the plan to be refused');
  return result.left;
}
const accepted = (plan: Plan) => {
  const result = validatePlan(plan, registry);
  if (isLeft(result)) expect.fail(`expected a valid plan, got ${result.left.map((i) => i.message).join('; ')}`);
};
const codes = (plan: Plan) => issuesOf(validatePlan(plan, registry)).map((i) => i.code);

// ── rules ───────────────────────────────────────────────────────────────────
describe('valid plans', () => {
  it('accepts sequential, parallel, conditional and approval steps naming registered task types', () => {
    accepted(statusPlan());
    accepted(testsThenDeploy());
    accepted(reviewPlan());
  });
});

describe('shape (the plan schema)', () => {
  it('names the path of each shape problem', () => {
    const issues = issuesOf(parsePlan({ summary: '', complexity: 'medium', phases: [], estimate: { estimatedMs: -1, estimatedCostUsd: 0 } }, registry));
    expect(issues.every((i) => i.code === 'InvalidPlanShape')).toBe(true);
    expect(issues.map((i) => i.message.split(':')[0])).toEqual(expect.arrayContaining(['summary', 'complexity', 'phases', 'estimate.estimatedMs']));
  });

  it('refuses a step id a condition could not name', () => {
    const issues = issuesOf(parsePlan(planOf([task('run.tests')]), registry));
    expect(issues[0]?.message).toMatch(/^phases\.0\.steps\.0\.id: /);
  });

  it('refuses an unknown step kind and a parallel step with one branch', () => {
    const plan = planOf([{ kind: 'loop', id: 'x' } as unknown as PlanStep], [parallel('p', [task('a')])]);
    expect(issuesOf(parsePlan(plan, registry)).map((i) => i.message.split(':')[0])).toEqual(['phases.0.steps.0.kind', 'phases.1.steps.0.branches']);
  });
});

describe('task types and parameters', () => {
  it('UnknownTaskType names the step and the registered types', () => {
    const [issue] = issuesOf(validatePlan(planOf([task('wipe', 'rm-rf')]), registry));
    expect(issue).toMatchObject({ code: 'UnknownTaskType', stepId: 'wipe' });
    expect(issue?.message).toContain('git-status, analyze-codebase, run-tests, lint, sf-deploy');
  });

  it('InvalidStepParameters names the step, the task type and the parameter', () => {
    const [issue] = issuesOf(validatePlan(planOf([task('tests', 'run-tests', { repository: 'acme', timeoutMs: 'soon' })]), registry));
    expect(issue).toMatchObject({ code: 'InvalidStepParameters', stepId: 'tests' });
    expect(issue?.message).toMatch(/^step tests \(run-tests\): params\.timeoutMs: /);
  });

  it('InvalidStepParameters for a missing required parameter', () => {
    expect(issuesOf(validatePlan(planOf([task('status', 'git-status', {})]), registry))[0]?.message).toMatch(/params\.repository/);
  });
});

describe('PathEscapesWorkspace', () => {
  it.each([['../other'], ['/etc'], ['~/secrets'], ['C:\\Users'], ['team/../../x'], ['file:///etc/passwd'], ['..']])('refuses %s', (path) => {
    const [issue] = issuesOf(validatePlan(planOf([task('status', 'git-status', { repository: path })]), registry));
    expect(issue).toMatchObject({ code: 'PathEscapesWorkspace', stepId: 'status' });
    expect(issue?.message).toContain('params.repository');
  });

  it('looks inside nested parameter values too', () => {
    const plan = planOf([task('deploy', 'sf-deploy', { repository: 'acme', extra: { files: ['src/a.cls', '../../b.cls'] } })]);
    expect(issuesOf(validatePlan(plan, registry))[0]?.message).toContain('params.extra.files.1');
  });

  it.each([['acme'], ['team/acme'], ['acme..old'], ['https://example.com/a/../b'], ['force-app/main/default']])('lets %s through', (value) => {
    expect(escapesWorkspace(value)).toBe(false);
  });
});

describe('DuplicateStepId', () => {
  it('reports each id used more than once, however deep', () => {
    const plan = planOf([task('status')], [parallel('p', [task('status')], [task('other')])]);
    expect(issuesOf(validatePlan(plan, registry))).toEqual([expect.objectContaining({ code: 'DuplicateStepId', stepId: 'status' })]);
  });
});

describe('conditions read only steps that finish before them', () => {
  it('accepts earlier phases, earlier steps in the same sequence, and whole earlier parallel steps', () => {
    accepted(planOf([task('a')], [task('b'), when('c', 'steps.a.output.x == 1 && steps.b.status == "completed"', [task('d')])]));
    accepted(planOf([parallel('p', [task('x')], [task('y')]), when('c', 'steps.x.output.ok == true && steps.p.status == "completed"', [task('d')])]));
    accepted(planOf([task('run-tests', 'run-tests')], [when('c', 'steps["run-tests"].output.failed == 0', [task('d')])]));
  });

  it('UnknownStepReference for a step the plan does not have', () => {
    const [issue] = issuesOf(validatePlan(planOf([task('a'), when('c', 'steps.nope.output.failed == 0', [task('d')])]), registry));
    expect(issue).toMatchObject({ code: 'UnknownStepReference', stepId: 'c' });
    expect(issue?.message).toContain('steps.nope');
  });

  it('StepCycle for the conditional itself', () => {
    expect(codes(planOf([when('c', 'steps.c.status == "completed"', [task('d')])]))).toEqual(['StepCycle']);
  });

  it('StepCycle for a step inside its own branches', () => {
    expect(codes(planOf([when('c', 'steps.d.output.ok', [task('d')], [task('e')])]))).toEqual(['StepCycle']);
  });

  it('StepCycle for a later step', () => {
    expect(codes(planOf([when('c', 'steps.later.output.ok', [task('d')])], [task('later')]))).toEqual(['StepCycle']);
  });

  it('StepCycle for a step in a sibling parallel branch', () => {
    const [issue] = issuesOf(validatePlan(planOf([parallel('p', [task('x')], [when('c', 'steps.x.output.ok', [task('d')])])]), registry));
    expect(issue).toMatchObject({ code: 'StepCycle', stepId: 'c' });
    expect(issue?.message).toContain('runs in parallel');
  });

  it('finds the references in both notations', () => {
    expect(stepReferences('steps.a.output.x == 1 || steps["b-2"].status != "failed" || steps.a.ok')).toEqual(['a', 'b-2']);
  });
});

describe('every problem at once', () => {
  it('reports all issues of a plan, not the first', () => {
    const plan = planOf([task('a', 'nope'), task('a', 'git-status', { repository: '/etc' }), when('c', 'steps.zz.ok', [task('d')])]);
    expect(codes(plan).sort()).toEqual(['DuplicateStepId', 'PathEscapesWorkspace', 'UnknownStepReference', 'UnknownTaskType']);
  });

  it(`PlanTooLarge beyond ${MAX_PLAN_STEPS} steps`, () => {
    const many = Array.from({ length: 11 }, (_, p) => Array.from({ length: 10 }, (_, s) => task(`s${p}_${s}`)));
    expect(codes(planOf(...many))).toEqual(['PlanTooLarge']);
  });
});

describe('approvalPolicyFor', () => {
  const rules = { costThresholdUsd: 1 };

  it('requires approval for a step with side effects, naming it', () => {
    expect(approvalPolicyFor(testsThenDeploy(), registry, rules)).toEqual({
      required: true,
      reasons: ['step deploy runs sf-deploy, which changes things outside (side effects)'],
      requesterMayApprove: true,
    });
  });

  it('requires approval when the estimated cost is over the threshold', () => {
    const plan = { ...statusPlan(), estimate: { estimatedMs: 1, estimatedCostUsd: 2.5 } };
    expect(approvalPolicyFor(plan, registry, rules).reasons).toEqual(['the estimated cost $2.50 is over the $1.00 threshold']);
  });

  it('needs none for read-only steps within the threshold', () => {
    expect(approvalPolicyFor(reviewPlan(), registry, rules)).toEqual({ required: false, reasons: [], requesterMayApprove: true });
  });

  it('carries the policy on who may approve', () => {
    expect(approvalPolicyFor(testsThenDeploy(), registry, { ...rules, requesterMayApprove: false, approvers: ['U_LEAD'] })).toMatchObject({
      requesterMayApprove: false,
      approvers: ['U_LEAD'],
    });
  });
});

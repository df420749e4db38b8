import { isLeft, isRight, type Either } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { executors } from '../../adapters/executors/registry.ts';
import { offlinePlan, offlinePlanner } from '../../adapters/offline-planner/offline-planner.ts';
import { approvalPolicyFor, taskSteps } from '../../domain/plan/index.ts';
import type { PlannerError, PlanningContext, ProducedPlan } from '../../domain/ports/planner.ts';
import { registry } from '../support/plan-fixtures.ts';

// ── fixtures ────────────────────────────────────────────────────────────────
const thread = (currentRepo?: string): PlanningContext => ({ variables: currentRepo === undefined ? {} : { currentRepo } });

function planned(result: Either<PlannerError, ProducedPlan>): ProducedPlan {
  if (isLeft(result)) expect.fail(`expected a plan, got ${result.left.code}: ${result.left.message}`);
  return result.right;
}
function refused(result: Either<PlannerError, ProducedPlan>): PlannerError {
  if (isRight(result)) expect.fail(`expected no plan, got ${result.right.plan.summary}`);
  return result.left;
}
const stepsOf = (produced: ProducedPlan) => taskSteps(produced.plan).map((s) => [s.taskType, s.params]);

// ── single-task requests (domain/intent) ────────────────────────────────────
describe('one registered task', () => {
  it('plans one step, free and deterministic', () => {
    const produced = planned(offlinePlan('run the tests in acme', thread(), registry));
    expect(produced).toMatchObject({ model: 'offline', usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0 });
    expect(produced.plan).toMatchObject({ summary: 'Run the tests in acme.', complexity: 'simple' });
    expect(stepsOf(produced)).toEqual([['run-tests', { repository: 'acme' }]]);
    expect(offlinePlan('run the tests in acme', thread(), registry)).toEqual(offlinePlan('run the tests in acme', thread(), registry));
  });

  it("uses the thread's current repository for a follow-up", () => {
    expect(stepsOf(planned(offlinePlan('now run the tests', thread('acme'), registry)))).toEqual([['run-tests', { repository: 'acme' }]]);
  });

  it.each([
    ['git status of acme', 'git-status'],
    ['analyze repo acme', 'analyze-codebase'],
    ['lint acme', 'lint'],
  ])('%s → %s, needing no approval', (request, taskType) => {
    const produced = planned(offlinePlan(request, thread(), registry));
    expect(stepsOf(produced)).toEqual([[taskType, { repository: 'acme' }]]);
    expect(approvalPolicyFor(produced.plan, registry, { costThresholdUsd: 1 }).required).toBe(false);
  });

  it('answers what it can do for anything else', () => {
    const error = refused(offlinePlan('make me a sandwich', thread(), registry));
    expect(error.code).toBe('RequestNotUnderstood');
    expect(error.message).toContain('run the tests in my-service');
  });
});

// ── the deploy recipe ───────────────────────────────────────────────────────
describe('deploy requests', () => {
  it('"deploy my changes, test everything first": tests, then approval, then sf-deploy', () => {
    const produced = planned(offlinePlan('deploy my changes, test everything first', thread('acme'), registry));
    expect(produced.plan.phases.map((p) => p.name)).toEqual(['Test', 'Deploy']);
    expect(produced.plan.phases[1]?.steps[0]).toMatchObject({
      kind: 'conditional',
      condition: 'steps.tests.output.success == true',
      then: [{ kind: 'approval' }, { kind: 'task', taskType: 'sf-deploy', params: { repository: 'acme' } }],
    });
    expect(produced.plan.complexity).toBe('complex');
    expect(approvalPolicyFor(produced.plan, registry, { costThresholdUsd: 1 })).toMatchObject({ required: true });
  });

  it.each([
    ['deploy acme'],
    ['deploy the acme repo to production'],
    ['test and deploy acme'],
    ['<@U0BOT> please deploy my changes in `acme`, run the tests first'],
    ['ship it'],
    ['deploy ‘acme’ please'],
  ])('%s → the recipe for acme', (request) => {
    expect(stepsOf(planned(offlinePlan(request, thread('acme'), registry)))).toEqual([
      ['run-tests', { repository: 'acme' }],
      ['sf-deploy', { repository: 'acme' }],
    ]);
  });

  it('a repository named in the request wins over the thread’s', () => {
    expect(stepsOf(planned(offlinePlan('deploy billing', thread('acme'), registry)))[0]).toEqual(['run-tests', { repository: 'billing' }]);
  });

  it('asks which repository when neither the request nor the thread says', () => {
    const error = refused(offlinePlan('deploy my changes, test everything first', thread(), registry));
    expect(error.code).toBe('RepositoryNotGiven');
    expect(error.message).toContain('deploy');
  });

  it('refuses a repository outside the workspace', () => {
    expect(refused(offlinePlan('deploy ../../etc', thread(), registry)).code).toBe('RepositoryOutsideWorkspace');
  });

  it('reports, rather than plans, a recipe whose task type is not registered', () => {
    const withoutSalesforce = executors.filter((e) => e.taskType !== 'sf-deploy');
    const error = refused(offlinePlan('deploy acme', thread(), withoutSalesforce));
    expect(error.code).toBe('PlannerOutputInvalid');
    expect(error.message).toContain('"sf-deploy" is not a registered task type');
  });
});

describe('as the Planner port', () => {
  it('plans through the port and costs nothing to reserve', async () => {
    const planner = offlinePlanner(registry);
    expect(planned(await planner.plan('lint acme', thread()))).toMatchObject({ model: 'offline', costUsd: 0 });
    expect(planner.costCeilingUsd('lint acme', thread())).toBe(0);
  });
});

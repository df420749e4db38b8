import { executors } from '../../adapters/executors/registry.ts';
import type { Plan, RegisteredTaskType } from '../../domain/plan/index.ts';

// Plans and the task-type registry for plan and planner tests: the real executors (sf-deploy
// among them, with side effects).

export const registry: readonly RegisteredTaskType[] = executors;

export const testsThenDeploy = (repository = 'acme'): Plan => ({
  summary: `Run the tests of ${repository}, then deploy it once approved.`,
  complexity: 'complex',
  phases: [
    { name: 'Test', steps: [{ kind: 'task', id: 'tests', taskType: 'run-tests', params: { repository }, why: 'Deploy only what passes.' }] },
    {
      name: 'Deploy',
      steps: [
        {
          kind: 'conditional',
          id: 'green',
          condition: 'steps.tests.output.failed == 0',
          then: [
            { kind: 'approval', id: 'go', reason: `Deploy ${repository} to production` },
            { kind: 'task', id: 'deploy', taskType: 'sf-deploy', params: { repository }, why: 'The change the request asked for.' },
          ],
        },
      ],
    },
  ],
  estimate: { estimatedMs: 900_000, estimatedCostUsd: 0.2 },
});

export const statusPlan = (repository = 'acme'): Plan => ({
  summary: `Show the git status of ${repository}.`,
  complexity: 'simple',
  phases: [{ name: 'Status', steps: [{ kind: 'task', id: 'status', taskType: 'git-status', params: { repository }, why: 'Asked for.' }] }],
  estimate: { estimatedMs: 2_000, estimatedCostUsd: 0 },
});

/** A review fanned out in parallel, then a conditional fix: every step kind, references valid. */
export const reviewPlan = (): Plan => ({
  summary: 'Analyze and lint acme at once, then run the tests if the linter is clean.',
  complexity: 'complex',
  phases: [
    {
      name: 'Review',
      steps: [
        {
          kind: 'parallel',
          id: 'checks',
          branches: [
            [{ kind: 'task', id: 'analyze', taskType: 'analyze-codebase', params: { repository: 'acme' }, why: 'Size and structure.' }],
            [{ kind: 'task', id: 'lint', taskType: 'lint', params: { repository: 'acme' }, why: 'Style problems.' }],
          ],
        },
      ],
    },
    {
      name: 'Verify',
      steps: [
        {
          kind: 'conditional',
          id: 'clean',
          condition: 'steps.lint.output.errors == 0 && steps.analyze.status == "completed"',
          then: [{ kind: 'task', id: 'tests', taskType: 'run-tests', params: { repository: 'acme' }, why: 'Confirm behaviour.' }],
          else: [{ kind: 'approval', id: 'look', reason: 'The linter found errors; continue anyway?' }],
        },
      ],
    },
  ],
  estimate: { estimatedMs: 120_000, estimatedCostUsd: 0 },
});

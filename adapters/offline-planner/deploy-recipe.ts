import { left, map, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { capabilitiesOf, checkRepositoryName, REPOSITORY_VARIABLE, type IntentContext, type NotUnderstood } from '../../domain/intent/index.ts';
import type { Plan, RegisteredTaskType } from '../../domain/plan/index.ts';
import { estimatedMsFor } from '../../domain/task-types/estimates.ts';

// "deploy my changes, test everything first": without a model, every deploy request gets the
// same recipe. The tests run first; only when they pass is a person asked to approve, and only
// then does `sf-deploy` run (OR3: nothing deploys without an approval).

export const DEPLOY_TASK_TYPE = 'sf-deploy';

// Raw chat text: Slack mentions (<@U…>) do not disturb these patterns, and quotes, straight
// or curly, may surround a name.
const DEPLOY = /\b(?:deploy|ship|release)\b/i;
/** The word after the verb: "deploy acme", "deploy the acme repo", "deploy my changes". */
const DEPLOY_TARGET = /\b(?:deploy|ship|release)\s+(?:(?:the|my|our|these|those|this)\s+)?[`"'‘’“”]?(?<target>[^\s,;`"'‘’“”]+)/i;
/** A repository named anywhere: "deploy my changes in acme". */
const NAMED_REPOSITORY = /\b(?:in|of|from|for)\s+(?:the\s+)?(?:repo(?:sitory)?\s+)?[`"'‘’“”]?(?<name>[A-Za-z0-9_./-]+)/i;
/** Words in those places that mean "what we are working on", or where to, not which repository. */
const NOT_A_REPOSITORY = new Set(
  [
    'changes',
    'change',
    'it',
    'this',
    'that',
    'them',
    'everything',
    'all',
    'code',
    'work',
    'stuff',
    'branch',
    'latest',
    'now',
    'to',
    'into',
    'please',
    'me',
    'us',
    'repo',
    'repository',
  ].concat(['production', 'prod', 'staging', 'sandbox', 'org', 'main', 'master']),
);

export const isDeployRequest = (request: string): boolean => DEPLOY.test(request);

const candidate = (found: string | undefined): string | undefined => {
  const name = found?.replace(/[.!?]+$/, '');
  return name && !NOT_A_REPOSITORY.has(name.toLowerCase()) ? name : undefined;
};

const repositoryNotGiven = (registry: readonly RegisteredTaskType[]): NotUnderstood => ({
  code: 'RepositoryNotGiven',
  message: 'Which repository should I deploy? This thread has none yet; say for example "deploy my-service, test everything first".',
  capabilities: capabilitiesOf(registry),
});

export function deployPlan(request: string, context: IntentContext, registry: readonly RegisteredTaskType[]): Either<NotUnderstood, Plan> {
  const named = candidate(NAMED_REPOSITORY.exec(request)?.groups?.name) ?? candidate(DEPLOY_TARGET.exec(request)?.groups?.target);
  const current = context[REPOSITORY_VARIABLE];
  const repository = named ?? (typeof current === 'string' && current !== '' ? current : undefined);
  if (repository === undefined) return left(repositoryNotGiven(registry));
  // Held to the same naming rules as any repository from chat.
  return pipe(checkRepositoryName('run-tests', repository, capabilitiesOf(registry)), map(recipe(registry)));
}

const recipe =
  (registry: readonly RegisteredTaskType[]) =>
  (repository: string): Plan => ({
    summary: `Run the tests of ${repository}; if they pass, deploy it once someone approves.`,
    complexity: 'complex',
    phases: [
      { name: 'Test', steps: [{ kind: 'task', id: 'tests', taskType: 'run-tests', params: { repository }, why: 'Deploy only what passes its tests.' }] },
      {
        name: 'Deploy',
        steps: [
          {
            kind: 'conditional',
            id: 'tests-passed',
            condition: 'steps.tests.output.success == true',
            then: [
              { kind: 'approval', id: 'approve-deploy', reason: `Deploy ${repository}: its tests passed.` },
              { kind: 'task', id: 'deploy', taskType: DEPLOY_TASK_TYPE, params: { repository }, why: 'The deployment that was asked for.' },
            ],
          },
        ],
      },
    ],
    estimate: { estimatedMs: estimatedMsFor(registry, ['run-tests', DEPLOY_TASK_TYPE]), estimatedCostUsd: 0 },
  });

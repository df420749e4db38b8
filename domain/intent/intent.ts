import { match } from 'ts-pattern';
import type { Rejection } from '../decider.ts';
import type { KnownContextVariable } from '../conversation/context.ts';

// What the offline planner can turn a chat request into: one registered task type with its
// parameters, plus the context variable the request changes. Anything else is answered with
// what it can do, so a person learns the phrasing instead of meeting silence.

/** The task types the offline path maps requests to; each is registered in adapters/executors/registry.ts. */
export const intentTaskTypes = ['git-status', 'analyze-codebase', 'run-tests', 'lint'] as const;
export type IntentTaskType = (typeof intentTaskTypes)[number];

/** The Conversation context variable holding the thread's repository ("now run the tests"). */
export const REPOSITORY_VARIABLE = 'currentRepo' satisfies KnownContextVariable;

export interface Intent {
  readonly taskType: IntentTaskType;
  readonly params: { readonly repository: string };
  /** Context variables to set on the conversation once the task is accepted. */
  readonly setContext: { readonly [REPOSITORY_VARIABLE]: string };
  /** Whether the repository was named in the request or taken from the thread's context. */
  readonly repositoryFrom: 'request' | 'context';
  /** One line for the reply, e.g. "run the tests in acme". */
  readonly summary: string;
}

export interface Capability {
  readonly taskType: IntentTaskType;
  readonly description: string;
  readonly example: string;
}

export const capabilities: readonly Capability[] = [
  { taskType: 'git-status', description: 'show the branch, commits ahead/behind and changed files of a repository', example: 'git status of my-service' },
  { taskType: 'analyze-codebase', description: 'analyze a codebase: languages, size and structure', example: 'analyze repo my-service' },
  { taskType: 'run-tests', description: "run a repository's tests", example: 'run the tests in my-service' },
  { taskType: 'lint', description: "run a repository's linter", example: 'lint my-service' },
];

export type NotUnderstoodCode = 'RequestNotUnderstood' | 'RepositoryNotGiven' | 'InvalidRepositoryName' | 'RepositoryOutsideWorkspace';

export interface NotUnderstood extends Rejection<NotUnderstoodCode> {
  /** Set when the task was clear and only the repository was missing or refused. */
  readonly taskType?: IntentTaskType;
  readonly capabilities: readonly Capability[];
}

export const describeTask = (taskType: IntentTaskType, repository: string): string =>
  match(taskType)
    .with('git-status', () => `git status of ${repository}`)
    .with('analyze-codebase', () => `analyze the codebase of ${repository}`)
    .with('run-tests', () => `run the tests in ${repository}`)
    .with('lint', () => `lint ${repository}`)
    .exhaustive();

const examples = (): string => capabilities.map((c) => `"${c.example}"`).join(', ');

export const requestNotUnderstood = (request: string): NotUnderstood => ({
  code: 'RequestNotUnderstood',
  message: `${request === '' ? 'What should I do?' : `I did not understand ${JSON.stringify(request)}.`} Without the planner I can ${capabilities.map((c) => c.description).join('; ')}. For example: ${examples()}.`,
  capabilities,
});

export const repositoryNotGiven = (taskType: IntentTaskType): NotUnderstood => ({
  code: 'RepositoryNotGiven',
  message: `Which repository? This thread has none yet; say for example "${describeTask(taskType, 'my-service')}".`,
  taskType,
  capabilities,
});

export const invalidRepositoryName = (taskType: IntentTaskType, repository: string, reason: string): NotUnderstood => ({
  code: 'InvalidRepositoryName',
  message: `${JSON.stringify(repository)} is not a repository name: ${reason}.`,
  taskType,
  capabilities,
});

export const repositoryOutsideWorkspace = (taskType: IntentTaskType, repository: string): NotUnderstood => ({
  code: 'RepositoryOutsideWorkspace',
  message: `${JSON.stringify(repository)} points outside the workspace; name a repository by its path under the workspace, e.g. "my-service" or "team/my-service".`,
  taskType,
  capabilities,
});

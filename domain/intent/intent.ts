import type { Rejection } from '../decider.ts';
import type { KnownContextVariable } from '../conversation/context.ts';
import type { TaskTypeDescriptor } from '../task-types/descriptor.ts';

// What the offline planner can turn a chat request into: one registered task type with its
// parameters, plus the context variable the request changes. Anything else is answered with
// what it can do, so a person learns the phrasing instead of meeting silence. Which task types
// chat can ask for, and with which words, their descriptors say (adapters/executors/registry.ts).

/** What the offline path reads of a registered task type: its descriptor's chat phrasing. */
export type ChatTaskType = Pick<TaskTypeDescriptor, 'taskType' | 'description' | 'chat'>;

/** The Conversation context variable holding the thread's repository ("now run the tests"). */
export const REPOSITORY_VARIABLE = 'currentRepo' satisfies KnownContextVariable;

export interface Intent {
  readonly taskType: string;
  readonly params: { readonly repository: string };
  /** Context variables to set on the conversation once the task is accepted. */
  readonly setContext: { readonly [REPOSITORY_VARIABLE]: string };
  /** Whether the repository was named in the request or taken from the thread's context. */
  readonly repositoryFrom: 'request' | 'context';
  /** One line for the reply, e.g. "run the tests in acme". */
  readonly summary: string;
}

export interface Capability {
  readonly taskType: string;
  readonly description: string;
  readonly example: string;
}

/** The task types chat can ask for without the planner, in registration order. */
export const capabilitiesOf = (taskTypes: readonly ChatTaskType[]): readonly Capability[] =>
  taskTypes.flatMap((t) => (t.chat ? [{ taskType: t.taskType, description: t.description, example: t.chat.example }] : []));

export type NotUnderstoodCode = 'RequestNotUnderstood' | 'RepositoryNotGiven' | 'InvalidRepositoryName' | 'RepositoryOutsideWorkspace';

export interface NotUnderstood extends Rejection<NotUnderstoodCode> {
  /** Set when the task was clear and only the repository was missing or refused. */
  readonly taskType?: string;
  readonly capabilities: readonly Capability[];
}

const examples = (capabilities: readonly Capability[]): string => capabilities.map((c) => `"${c.example}"`).join(', ');

export const requestNotUnderstood = (request: string, capabilities: readonly Capability[]): NotUnderstood => ({
  code: 'RequestNotUnderstood',
  message: `${request === '' ? 'What should I do?' : `I did not understand ${JSON.stringify(request)}.`} Without the planner I can ${capabilities.map((c) => c.description).join('; ')}. For example: ${examples(capabilities)}.`,
  capabilities,
});

/** `example` is the request with a repository named: "run the tests in my-service". */
export const repositoryNotGiven = (taskType: string, example: string, capabilities: readonly Capability[]): NotUnderstood => ({
  code: 'RepositoryNotGiven',
  message: `Which repository? This thread has none yet; say for example "${example}".`,
  taskType,
  capabilities,
});

export const invalidRepositoryName = (taskType: string, repository: string, reason: string, capabilities: readonly Capability[]): NotUnderstood => ({
  code: 'InvalidRepositoryName',
  message: `${JSON.stringify(repository)} is not a repository name: ${reason}.`,
  taskType,
  capabilities,
});

export const repositoryOutsideWorkspace = (taskType: string, repository: string, capabilities: readonly Capability[]): NotUnderstood => ({
  code: 'RepositoryOutsideWorkspace',
  message: `${JSON.stringify(repository)} points outside the workspace; name a repository by its path under the workspace, e.g. "my-service" or "team/my-service".`,
  taskType,
  capabilities,
});

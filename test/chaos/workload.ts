import type { CommandCategory, CommandDataOf, CommandTypeOf } from '../../domain/commands/catalog.ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { CommandClient } from '../../actors/runtime/command-client.ts';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { taskEventIn } from '../../domain/events/typed-events.ts';
import { registerDefinition } from '../../domain/workflow/index.ts';
import type { ChaosWorkspace } from './workspace.ts';

// What a fault run asks of the product, and how it ends. Workflows are sequences of `run-tests`
// steps (every `deployEvery`-th ends with an `sf-deploy` step in deploy mode instead);
// standalone tasks are single `run-tests` tasks or `sf-deploy` deploys. Each step and task has
// its own repository, so its marker file (or, for a deploy, the org's record) counts its runs. Optionally each workflow has a Slack thread
// (a conversation) and each task answers in one, so the stand-in's posts can be counted.

export interface SlackThreads {
  readonly channel: string;
  /** Seeds the thread's parent message (the user's request) and returns its ts. */
  open(text: string): string;
}

export interface WorkflowItem {
  readonly id: string;
  /** The repositories of its `run-tests` steps (counted by marker files). */
  readonly repos: readonly string[];
  /** The Salesforce projects of its `sf-deploy` steps (counted by the org's record). */
  readonly deployRepos: readonly string[];
  readonly conversationId?: string;
  /** `Date.now()` when the StartWorkflow was accepted. */
  readonly acceptedAt: number;
}

export type TaskKind = 'run-tests' | 'sf-deploy';

export interface TaskItem {
  readonly id: string;
  readonly taskType: TaskKind;
  readonly repo: string;
  readonly slack: boolean;
  readonly acceptedAt: number;
}

export type Ending = 'completed' | 'failed' | 'running' | 'absent';

export interface WorkloadOptions {
  readonly commands: CommandClient;
  readonly store: EventStore;
  readonly workspace: ChaosWorkspace;
  /** Makes ids of this run unique: `wf-<tag>-<n>`, `tk-<tag>-<n>`. */
  readonly tag: string;
  readonly stepsPerWorkflow: number;
  /** Every n-th workflow (by number) ends with an `sf-deploy` step in deploy mode; 0 for none. */
  readonly deployEvery?: number;
  /** While an item has waited this long for a person (outcome unknown), it is not waited for any longer. */
  readonly unknownWaitMs?: number;
  readonly slack?: SlackThreads;
  /** Aborted when the run gives up: pending sends stop retrying. */
  readonly signal?: AbortSignal;
}

const REQUESTER = 'U0CHAOS';
/** The `--target-org` every deploy names; the stand-in keeps one org whatever its name. */
export const TARGET_ORG = 'chaos-org';
const deployParams = (repository: string) => ({ repository, targetOrg: TARGET_ORG, mode: 'deploy' });

export class Workload {
  readonly workflows: WorkflowItem[] = [];
  readonly tasks: TaskItem[] = [];
  /** Commands answered with something other than "accepted": they started nothing. */
  readonly refused: string[] = [];

  constructor(private readonly options: WorkloadOptions) {}

  /** Starts workflow number `n` and resolves once StartWorkflow is accepted (retried through outages under one command id). */
  /** `deploys`: whether its last step is an `sf-deploy` (by default every `deployEvery`-th workflow of label `wf`). */
  async startWorkflow(
    n: number,
    label = 'wf',
    steps = this.options.stepsPerWorkflow,
    deploys = label === 'wf' && (this.options.deployEvery ?? 0) > 0 && n % this.options.deployEvery! === 0,
  ): Promise<WorkflowItem | undefined> {
    const { workspace, tag, slack } = this.options;
    const id = `${label}-${tag}-${n}`;
    const plan = Array.from({ length: steps }, (_, i) => ({
      repo: `${id}-s${i + 1}`,
      taskType: (deploys && i === steps - 1 ? 'sf-deploy' : 'run-tests') as TaskKind,
    }));
    for (const { repo, taskType } of plan) await (taskType === 'sf-deploy' ? workspace.makeSalesforceProject(repo) : workspace.makeRepository(repo));
    const taskSteps = plan.map(({ repo, taskType }, i) => ({
      type: 'task',
      id: `s${i + 1}`,
      taskType,
      params: taskType === 'sf-deploy' ? deployParams(repo) : { repository: repo },
      ...(taskType === 'sf-deploy' ? { sideEffects: true } : {}),
      // Faults fail attempts (a killed worker, an unreachable broker); the workflow retries them.
      // A deploy whose outcome is unknown is not retried by the workflow: it waits for the check.
      retry: { attempts: 6, backoffMs: 250, maxBackoffMs: 2_000 },
    }));
    // Nothing deploys without a gate (WF3): one at the start, granted by the workload right after it starts.
    const root = { type: 'sequence', steps: deploys ? [{ type: 'approval', id: 'go', timeoutMs: 3_600_000 }, ...taskSteps] : taskSteps };
    const compiled = registerDefinition({ form: 'stepTree', name: `chaos ${id}`, root }, { taskTypes: ['run-tests', 'sf-deploy'] });
    if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
    let conversationId: string | undefined;
    if (slack) {
      conversationId = `cv-${id}`;
      const threadTs = slack.open(`run the chaos workflow ${id}`);
      const opened = await this.send('conversation', conversationId, `open-${conversationId}`, 'StartConversation', {
        user: REQUESTER,
        channel: slack.channel,
        threadTs,
        source: 'slack',
      });
      if (!opened) return undefined;
    }
    const started = await this.send('workflow', id, `start-${id}`, 'StartWorkflow', {
      definition: compiled.right,
      requestedBy: REQUESTER,
      ...(conversationId ? { conversationId } : {}),
    });
    if (!started) return undefined;
    if (deploys && !(await this.send('workflow', id, `grant-${id}`, 'GrantApproval', { stepId: 'go' }))) return undefined;
    const repos = plan.filter((s) => s.taskType === 'run-tests').map((s) => s.repo);
    const deployRepos = plan.filter((s) => s.taskType === 'sf-deploy').map((s) => s.repo);
    const item: WorkflowItem = { id, repos, deployRepos, acceptedAt: Date.now(), ...(conversationId ? { conversationId } : {}) };
    this.workflows.push(item);
    return item;
  }

  /** Queues standalone task number `n`, `run-tests` or an `sf-deploy` deploy (answering in a Slack thread when threads are given). */
  async queueTask(n: number, taskType: TaskKind = 'run-tests'): Promise<TaskItem | undefined> {
    const { workspace, tag, slack } = this.options;
    const deploy = taskType === 'sf-deploy';
    const id = `${deploy ? 'dp' : 'tk'}-${tag}-${n}`;
    await (deploy ? workspace.makeSalesforceProject(id) : workspace.makeRepository(id));
    const replyTo = slack
      ? { kind: 'slack' as const, channel: slack.channel, threadTs: slack.open(deploy ? `deploy ${id} to ${TARGET_ORG}` : `run the tests of ${id}`) }
      : undefined;
    const queued = await this.send('task', id, `queue-${id}`, 'QueueTask', {
      taskType,
      pool: deploy ? 'salesforce' : 'local-ops',
      payload: deploy ? deployParams(id) : { repository: id },
      timeoutMs: 120_000,
      maxAttempts: 10,
      requestedBy: REQUESTER,
      ...(replyTo ? { replyTo } : {}),
    });
    if (!queued) return undefined;
    const item: TaskItem = { id, taskType, repo: id, slack: replyTo !== undefined, acceptedAt: Date.now() };
    this.tasks.push(item);
    return item;
  }

  private async send<C extends CommandCategory, T extends CommandTypeOf<C>>(
    category: C,
    id: string,
    commandId: string,
    type: T,
    data: CommandDataOf<C, T>,
  ): Promise<boolean> {
    const reply = await this.options.commands.sendUntilAnswered(
      { category, id },
      { commandId, type, actor: REQUESTER, data },
      { maxDelayMs: 1_000, ...(this.options.signal ? { signal: this.options.signal } : {}) },
    );
    if (reply.status === 'accepted') return true;
    this.refused.push(`${type} ${id}: ${JSON.stringify(reply)}`);
    return false;
  }

  /** Where a workflow stands in the log. */
  async workflowEnding(id: string): Promise<Ending> {
    return workflowEnding(await this.history('workflow', id));
  }

  async taskEnding(id: string): Promise<Ending> {
    return taskEnding(await this.history('task', id));
  }

  /**
   * Polls until the item has ended (or `timeoutMs` passes); read errors during outages are waited
   * out. An item that has waited `unknownWaitMs` for a person (its outcome unknown, no check
   * resolved it) is not waited for any longer: `waitingForPerson` says so; the audit counts it stuck.
   */
  async waitForEnd(
    kind: 'workflow' | 'task',
    id: string,
    timeoutMs: number,
    intervalMs = 250,
  ): Promise<{ ending: Ending; at: number; waitingForPerson?: boolean }> {
    const deadline = Date.now() + timeoutMs;
    const unknownWaitMs = this.options.unknownWaitMs ?? Number.POSITIVE_INFINITY;
    let ending: Ending = 'absent';
    for (;;) {
      try {
        const events = await this.history(kind, id);
        ending = kind === 'workflow' ? workflowEnding(events) : taskEnding(events);
        if (ending === 'completed' || ending === 'failed') return { ending, at: Date.now() };
        const since = waitingSince(events);
        if (since !== undefined && Date.now() - since >= unknownWaitMs) return { ending, at: Date.now(), waitingForPerson: true };
      } catch {
        // The broker is down or a leader is being elected: ask again.
      }
      if (Date.now() > deadline || this.options.signal?.aborted) return { ending, at: Date.now() };
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  private async history(category: string, id: string): Promise<readonly RecordedEvent[]> {
    return (await this.options.store.read(streamName(category, id))).events;
  }
}

const WORKFLOW_FAILURES = new Set(['WorkflowFailed', 'WorkflowCancelled', 'WorkflowTimedOut']);

export function workflowEnding(events: readonly RecordedEvent[]): Ending {
  if (events.length === 0) return 'absent';
  if (events.some((e) => e.type === 'WorkflowCompleted')) return 'completed';
  if (events.some((e) => WORKFLOW_FAILURES.has(e.type))) return 'failed';
  return 'running';
}

/**
 * When the item's outcome became unknown, if it still waits for a resolution: a task whose last
 * TaskOutcomeUnknown no TaskOutcomeResolved or TaskCancelled followed; a workflow whose last
 * event is StepOutcomeUnknown. `recordedAt` in ms.
 */
export function waitingSince(events: readonly RecordedEvent[]): number | undefined {
  const last = events.at(-1);
  if (last?.type === 'StepOutcomeUnknown') return Date.parse(last.recordedAt);
  let since: number | undefined;
  for (const e of events) {
    if (e.type === 'TaskOutcomeUnknown') since = Date.parse(e.recordedAt);
    else if (e.type === 'TaskOutcomeResolved' || e.type === 'TaskCancelled' || e.type === 'TaskCompleted') since = undefined;
  }
  return since;
}

export function taskEnding(events: readonly RecordedEvent[]): Ending {
  if (events.length === 0) return 'absent';
  if (events.some((e) => e.type === 'TaskCompleted')) return 'completed';
  // A final failure or a cancellation ends a task; a retryable failure is followed by a retry.
  if (events.some((e) => e.type === 'TaskCancelled' || (e.type === 'TaskFailed' && isFinalFailure(e)))) return 'failed';
  return 'running';
}

const isFinalFailure = (recorded: RecordedEvent): boolean => {
  const typed = taskEventIn(recorded);
  return typed?.event.type === 'TaskFailed' && typed.event.data.final;
};

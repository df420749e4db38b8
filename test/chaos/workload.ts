import { isLeft } from 'fp-ts/lib/Either.js';
import type { CommandClient } from '../../actors/runtime/command-client.ts';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { taskEventIn } from '../../projections/models/domain-events.ts';
import { registerDefinition } from '../../domain/workflow/index.ts';
import type { ChaosWorkspace } from './workspace.ts';

// What a fault run asks of the product, and how it ends. Workflows are sequences of `run-tests`
// steps; standalone tasks are single `run-tests` tasks. Each step and task has its own
// repository, so its marker file counts its runs. Optionally each workflow has a Slack thread
// (a conversation) and each task answers in one, so the stand-in's posts can be counted.

export interface SlackThreads {
  readonly channel: string;
  /** Seeds the thread's parent message (the user's request) and returns its ts. */
  open(text: string): string;
}

export interface WorkflowItem {
  readonly id: string;
  readonly repos: readonly string[];
  readonly conversationId?: string;
  /** `Date.now()` when the StartWorkflow was accepted. */
  readonly acceptedAt: number;
}

export interface TaskItem {
  readonly id: string;
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
  readonly slack?: SlackThreads;
  /** Aborted when the run gives up: pending sends stop retrying. */
  readonly signal?: AbortSignal;
}

const REQUESTER = 'U0CHAOS';

export class Workload {
  readonly workflows: WorkflowItem[] = [];
  readonly tasks: TaskItem[] = [];
  /** Commands answered with something other than "accepted": they started nothing. */
  readonly refused: string[] = [];

  constructor(private readonly options: WorkloadOptions) {}

  /** Starts workflow number `n` and resolves once StartWorkflow is accepted (retried through outages under one command id). */
  async startWorkflow(n: number, label = 'wf', steps = this.options.stepsPerWorkflow): Promise<WorkflowItem | undefined> {
    const { workspace, tag, slack } = this.options;
    const id = `${label}-${tag}-${n}`;
    const repos = Array.from({ length: steps }, (_, i) => `${id}-s${i + 1}`);
    for (const repo of repos) await workspace.makeRepository(repo);
    const root = {
      type: 'sequence',
      steps: repos.map((repo, i) => ({
        type: 'task',
        id: `s${i + 1}`,
        taskType: 'run-tests',
        params: { repository: repo },
        // Faults fail attempts (a killed worker, an unreachable broker); the workflow retries them.
        retry: { attempts: 6, backoffMs: 250, maxBackoffMs: 2_000 },
      })),
    };
    const compiled = registerDefinition({ form: 'stepTree', name: `chaos ${id}`, root }, { taskTypes: ['run-tests'] });
    if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
    let conversationId: string | undefined;
    if (slack) {
      conversationId = `cv-${id}`;
      const threadTs = slack.open(`run the chaos workflow ${id}`);
      const opened = await this.send('conversation', conversationId, `open-${conversationId}`, 'StartConversation', { user: REQUESTER, channel: slack.channel, threadTs, source: 'slack' });
      if (!opened) return undefined;
    }
    const started = await this.send('workflow', id, `start-${id}`, 'StartWorkflow', {
      definition: compiled.right,
      requestedBy: REQUESTER,
      ...(conversationId ? { conversationId } : {}),
    });
    if (!started) return undefined;
    const item: WorkflowItem = { id, repos, acceptedAt: Date.now(), ...(conversationId ? { conversationId } : {}) };
    this.workflows.push(item);
    return item;
  }

  /** Queues standalone task number `n` (answering in a Slack thread when threads are given). */
  async queueTask(n: number): Promise<TaskItem | undefined> {
    const { workspace, tag, slack } = this.options;
    const id = `tk-${tag}-${n}`;
    await workspace.makeRepository(id);
    const replyTo = slack ? { kind: 'slack', channel: slack.channel, threadTs: slack.open(`run the tests of ${id}`) } : undefined;
    const queued = await this.send('task', id, `queue-${id}`, 'QueueTask', {
      taskType: 'run-tests',
      pool: 'local-ops',
      payload: { repository: id },
      timeoutMs: 120_000,
      maxAttempts: 10,
      requestedBy: REQUESTER,
      ...(replyTo ? { replyTo } : {}),
    });
    if (!queued) return undefined;
    const item: TaskItem = { id, repo: id, slack: replyTo !== undefined, acceptedAt: Date.now() };
    this.tasks.push(item);
    return item;
  }

  private async send(category: string, id: string, commandId: string, type: string, data: Record<string, unknown>): Promise<boolean> {
    const reply = await this.options.commands.sendUntilAnswered({ category, id }, { commandId, type, actor: REQUESTER, data }, { maxDelayMs: 1_000, ...(this.options.signal ? { signal: this.options.signal } : {}) });
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

  /** Polls until the item has ended (or `timeoutMs` passes); read errors during outages are waited out. */
  async waitForEnd(kind: 'workflow' | 'task', id: string, timeoutMs: number, intervalMs = 250): Promise<{ ending: Ending; at: number }> {
    const deadline = Date.now() + timeoutMs;
    let ending: Ending = 'absent';
    for (;;) {
      try {
        ending = kind === 'workflow' ? await this.workflowEnding(id) : await this.taskEnding(id);
        if (ending === 'completed' || ending === 'failed') return { ending, at: Date.now() };
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

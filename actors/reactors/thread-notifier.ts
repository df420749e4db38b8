import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { ConversationState } from '../../domain/conversation/index.ts';
import type { DeliveryState } from '../../domain/delivery/index.ts';
import { PLAN_CATEGORY, planEventIn, TASK_CATEGORY, taskEventIn, WORKFLOW_CATEGORY, workflowEventIn } from '../../domain/events/typed-events.ts';
import type { ChatPoster } from '../../domain/ports/chat-poster.ts';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import type { Thread, ThreadEffect, ThreadReply } from '../../domain/process/thread-messages.ts';
import {
  loadedNotifierState,
  notifierFinished,
  notifierKeepsEvents,
  threadNotifier,
  type NotifierEvent,
  type NotifierState,
} from '../../domain/process/thread-notifier.ts';
import type { OutcomeCheckWordings } from '../../domain/replies/unknown-outcome-reply.ts';
import type { CommandClient } from '../runtime/command-client.ts';
import { ProcessManagerHost, type FollowedCategory, type Keyed } from '../runtime/process-manager-host.ts';
import type { ReadStateAt } from './aggregate-state-at.ts';
import { logReport, performMessageEffect, type ThreadPort } from './thread-message.ts';

// The thread notifier (domain/process/thread-notifier.ts) on the process-manager host: plan,
// workflow and task events under their own checkpoints, one state per plan, workflow or task.
// A plan or workflow first seen mid-stream starts from the state its aggregate host answers
// (with the revision it folds); a task's events are kept from TaskQueued until it ends. The
// ports: a conversation's thread, asked of its aggregate host once (a thread never moves), and
// the chat port for the source it came from. Workflows started outside any conversation (a
// /workflow command, a benchmark) are remembered, so their later events are not read at all.

export interface ThreadNotifierOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly commands: CommandClient;
  /** The front end that writes threads of this source; undefined when none is configured here. */
  readonly chatFor: (thread: Thread) => ChatPoster | undefined;
  /** A conversation's state from its aggregate host (where its thread is). */
  readonly conversationState: (conversationId: string) => Promise<ConversationState>;
  /** A message's Delivery, from its aggregate host. */
  readonly deliveryState: (deliveryId: string) => Promise<DeliveryState>;
  /** A plan's or workflow's state and revision, from its aggregate host. */
  readonly stateAt: ReadStateAt;
  readonly logger: Logger;
  /** The registered task types: their descriptors say what a check of an attempt's evidence is called. */
  readonly taskTypes: OutcomeCheckWordings;
}

const MAX_TRIES = 8;

export class ThreadNotifier {
  private readonly host: ProcessManagerHost<NotifierEvent, NotifierState, ThreadEffect, ThreadReply, never>;
  private readonly stopping = new AbortController();
  /** Workflows with no conversation: nothing to say, nothing to read. */
  private readonly silent = new LRUCache<string, true>({ max: 10_000 });
  /** A conversation's thread never moves, so it is asked for once. */
  private readonly threads = new LRUCache<string, { thread: Thread | undefined }>({ max: 10_000 });

  constructor(private readonly options: ThreadNotifierOptions) {
    const port: ThreadPort = {
      chatFor: options.chatFor,
      deliveryState: options.deliveryState,
      logger: options.logger,
      signal: this.stopping.signal,
      maxTries: { post: MAX_TRIES, update: MAX_TRIES },
    };
    const follow = (category: string, checkpoint: string, read: (recorded: RecordedEvent) => NotifierEvent | undefined): FollowedCategory<NotifierEvent> => ({
      category,
      checkpoint,
      read: (recorded): Keyed<NotifierEvent> | undefined => {
        const event = read(recorded);
        return event && { key: `${event.category}-${event.id}`, event };
      },
    });
    const revision = (recorded: RecordedEvent) => Number(recorded.revision);
    this.host = new ProcessManagerHost({
      manager: { ...threadNotifier({ taskTypes: options.taskTypes }), finished: notifierFinished, keepsEvents: notifierKeepsEvents },
      follows: [
        follow(PLAN_CATEGORY, 'thread-notices-plans', (recorded) => {
          const typed = planEventIn(recorded);
          return typed && { category: 'plan', id: typed.id, revision: revision(recorded), event: typed.event };
        }),
        follow(WORKFLOW_CATEGORY, 'thread-notices-workflows', (recorded) => {
          const typed = workflowEventIn(recorded);
          if (!typed || this.silent.has(typed.id)) return undefined;
          if (typed.event.type === 'WorkflowStarted' && typed.event.data.conversationId === undefined) {
            this.silent.set(typed.id, true);
            return undefined;
          }
          return { category: 'workflow', id: typed.id, revision: revision(recorded), event: typed.event };
        }),
        follow(TASK_CATEGORY, 'thread-notices-tasks', (recorded) => {
          const typed = taskEventIn(recorded);
          return typed && { category: 'task', id: typed.id, revision: revision(recorded), event: typed.event };
        }),
      ],
      store: options.store,
      checkpoints: options.checkpoints,
      commands: options.commands,
      logger: options.logger,
      perform: async (effect) => {
        if (effect.type === 'report') return logReport(options.logger, effect);
        if (effect.type === 'locate') return { kind: 'located', ...(await this.threadOf(effect.conversationId)) };
        return performMessageEffect(port, effect);
      },
      load: (key) => this.load(key),
    });
  }

  start(): Promise<void> {
    return this.host.start();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.host.stop();
  }

  /** A plan or workflow from its aggregate host; a task starts empty (its events are kept from TaskQueued). */
  private async load(key: string): Promise<NotifierState | undefined> {
    const [category, ...rest] = key.split('-');
    const id = rest.join('-');
    if (category === 'plan') {
      const { state, revision } = await this.options.stateAt('plan', id);
      return loadedNotifierState({ kind: 'plan', plan: state }, revision);
    }
    if (category === 'workflow') {
      const { state, revision } = await this.options.stateAt('workflow', id);
      if (state.status !== 'none' && state.conversationId === undefined) this.silent.set(id, true);
      return loadedNotifierState({ kind: 'workflow', workflow: state }, revision);
    }
    return undefined;
  }

  private async threadOf(conversationId: string): Promise<{ thread?: Thread }> {
    const cached = this.threads.get(conversationId);
    if (cached) return cached.thread ? { thread: cached.thread } : {};
    const conversation = await this.options.conversationState(conversationId);
    if (conversation.status === 'none') return {};
    const thread: Thread | undefined =
      conversation.threadTs === undefined && conversation.source !== 'console'
        ? undefined
        : { source: conversation.source, channel: conversation.channel, threadTs: conversation.threadTs ?? '' };
    const usable = thread && this.options.chatFor(thread) ? thread : undefined;
    this.threads.set(conversationId, { thread: usable });
    return usable ? { thread: usable } : {};
  }
}

import { taskEventIn, workflowEventIn } from '../../domain/events/typed-events.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { ConversationSource, ConversationState } from '../../domain/conversation/index.ts';
import type { PlanState } from '../../domain/plan/index.ts';
import { ChatTargetGone, type ChatPoster, type MessageRef, type PostMarker, type ThreadRef } from '../../domain/ports/chat-poster.ts';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import { planPreviewReply } from '../../domain/replies/plan-preview-reply.ts';
import type { ReplyDocument } from '../../domain/replies/reply-document.ts';
import { approvalGateReply, approvalReminderReply, workflowEndReply, workflowStatusReply } from '../../domain/replies/workflow-replies.ts';
import { parseStreamName } from '../../domain/streams.ts';
import { outcomeDeliveryId, unknownOutcomeReply } from '../../domain/replies/unknown-outcome-reply.ts';
import type { Workflow, WorkflowState } from '../../domain/workflow/index.ts';
import { conversationAggregate } from '../aggregates/conversation.ts';
import { planAggregate } from '../aggregates/plan.ts';
import { workflowAggregate } from '../aggregates/workflow.ts';
import { readAggregateState } from '../runtime/aggregate-reader.ts';
import type { CommandClient } from '../runtime/command-client.ts';
import { EventReactor, type Hold, type ReactorContext } from '../runtime/event-reactor.ts';
import { KeyedMailbox } from '../runtime/keyed-mailbox.ts';
import { readTaskOutcomes, type TaskOutcomes } from '../unknown-outcomes.ts';
import { chatRetryDelayMs, findThreadMessage, postThreadMessage, type ThreadMessages } from './thread-message.ts';

// Plans and workflows speak in the thread they came from: the plan preview with "Run this
// plan", one workflow status message redrawn as steps move, a message per approval gate with
// Approve / Reject, redrawn with the decision once made (IF3), and a closing reply. Every
// message is drawn from the aggregate's current state, so drawing it again after a replay
// shows the same thing; and every message is recorded on its own Delivery before and after it
// is posted (and carries its marker), so a crash between the two finds the message instead of
// posting a second one.
// A task whose outcome became unknown (it changes something outside and its attempt stopped
// without an outcome) gets a message with Re-run / Mark as done / Fail in its thread, redrawn
// without buttons once decided.

interface Where {
  readonly chat: ChatPoster;
  readonly thread: ThreadRef;
}

/** Where a conversation's thread is and what writes there; undefined when it has none. */
export type ThreadOf = (conversation: { readonly source: ConversationSource; readonly channel: string; readonly threadTs?: string }) => Where | undefined;

export interface ThreadNotifierOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly commands: CommandClient;
  readonly threadOf: ThreadOf;
  readonly logger: Logger;
}

const GATE_EVENTS = new Set(['ApprovalRequested', 'ApprovalGranted', 'ApprovalRejected', 'ApprovalTimedOut']);
const END_EVENTS = new Set(['WorkflowCompleted', 'WorkflowFailed', 'WorkflowCancelled', 'WorkflowTimedOut']);
/** Task events that post or redraw an unknown outcome's message; a cancellation closes an open one. */
const OUTCOME_EVENTS = new Set(['TaskOutcomeUnknown', 'TaskOutcomeResolved', 'TaskCancelled']);
const MAX_TRIES = 8;

export class ThreadNotifier {
  private readonly reactors: EventReactor[];
  private readonly mailbox = new KeyedMailbox();
  private readonly abort = new AbortController();
  /** Workflows started outside any conversation (a /workflow command, a benchmark): nothing to say, nothing to read. */
  private readonly silent = new Set<string>();
  private readonly threads = new LRUCache<string, { where: Where | undefined }>({ max: 10_000 });
  private readonly posted = new LRUCache<string, MessageRef>({ max: 10_000 });
  private readonly messages: ThreadMessages;

  constructor(private readonly options: ThreadNotifierOptions) {
    this.messages = { commands: options.commands, store: options.store, logger: options.logger, actor: 'thread-notifier', signal: this.abort.signal };
    const common = { store: options.store, checkpoints: options.checkpoints, logger: options.logger };
    this.reactors = [
      new EventReactor({ ...common, name: 'thread-notices-plans', category: 'plan', handle: (event, context) => this.enqueue(event, context, () => this.onPlanEvent(event)) }),
      new EventReactor({ ...common, name: 'thread-notices-workflows', category: 'workflow', handle: (event, context) => this.enqueue(event, context, () => this.onWorkflowEvent(event)) }),
      new EventReactor({
        ...common,
        name: 'thread-notices-tasks',
        category: 'task',
        handle: (event, context) => (OUTCOME_EVENTS.has(event.type) ? this.enqueue(event, context, () => this.onTaskOutcomeEvent(event)) : undefined),
      }),
    ];
  }

  async start(): Promise<void> {
    for (const reactor of this.reactors) await reactor.start();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const reactor of this.reactors) await reactor.stop();
    await this.mailbox.idle();
  }

  /** Per plan or workflow in order, different ones at once; the checkpoint waits for each. */
  private enqueue(event: RecordedEvent, context: ReactorContext, work: () => Promise<void>): void {
    const hold: Hold = context.hold();
    void this.mailbox.run(event.stream, work).then(
      () => hold.release(),
      (error: unknown) => {
        if (this.abort.signal.aborted) return; // stopping: kept held, so the next start handles it again
        this.options.logger.error({ err: error, stream: event.stream, type: event.type }, 'could not write to the thread; kept for the next start');
      },
    );
  }

  private async onPlanEvent(event: RecordedEvent): Promise<void> {
    const planId = parseStreamName(event.stream).id;
    const plan: PlanState = await readAggregateState(this.options.store, planAggregate, planId, this.options.logger);
    if (plan.status === 'none') return;
    const where = await this.threadOfConversation(plan.conversationId);
    if (!where) return;
    await this.show(where, `plan-${planId}`, planPreviewReply(plan), event.type === 'PlanProposed' ? 'post' : 'update-only');
  }

  private async onWorkflowEvent(recorded: RecordedEvent): Promise<void> {
    const typed = workflowEventIn(recorded);
    if (!typed) return;
    const { id: workflowId, event } = typed;
    if (this.silent.has(workflowId)) return;
    if (event.type === 'WorkflowStarted' && event.data.conversationId === undefined) return this.remember(workflowId);
    const state: WorkflowState = await readAggregateState(this.options.store, workflowAggregate, workflowId, this.options.logger);
    if (state.status === 'none' || state.conversationId === undefined) return this.remember(workflowId);
    const where = await this.threadOfConversation(state.conversationId);
    if (!where) return;
    await this.show(where, `workflow-${workflowId}`, workflowStatusReply(state), 'post');
    if (GATE_EVENTS.has(event.type) && 'stepId' in event.data && 'visit' in event.data) {
      const { stepId, visit } = event.data;
      await this.show(where, gateDelivery(workflowId, stepId, visit), approvalGateReply(state, stepId), event.type === 'ApprovalRequested' ? 'post' : 'update-only');
    }
    if (event.type === 'ApprovalReminderDue') {
      const reminder = event.data;
      await this.show(where, `reminder-${workflowId}-${reminder.stepId}-${reminder.visit}`, approvalReminderReply(state, reminder), 'post');
    }
    if (END_EVENTS.has(event.type)) {
      await this.closeOpenGates(where, state);
      await this.show(where, `workflow-end-${workflowId}`, workflowEndReply(state), 'post');
    }
  }

  /** Posts the unknown outcome's message, or redraws it with the decision (or the cancellation). */
  private async onTaskOutcomeEvent(event: RecordedEvent): Promise<void> {
    const taskId = parseStreamName(event.stream).id;
    const task = await readTaskOutcomes(this.options.store, taskId);
    const typed = taskEventIn(event)?.event;
    const attempt = typed && 'attempt' in typed.data ? typed.data.attempt : undefined;
    // A cancellation names no attempt: it closes the latest message, if one is waiting.
    const shown = typeof attempt === 'number' ? task?.outcomes.findLast((o) => o.input.attempt === attempt) : task?.outcomes.at(-1);
    if (!task || !shown) return;
    const where = await this.threadOfTask(task);
    if (!where) return;
    await this.show(where, outcomeDeliveryId(taskId, shown.input.attempt), unknownOutcomeReply(shown.input), event.type === 'TaskOutcomeUnknown' ? 'post' : 'update-only');
  }

  /** A task speaks in its conversation's thread, a workflow step's task in its workflow's, else where its result goes in Slack. */
  private async threadOfTask(task: TaskOutcomes): Promise<Where | undefined> {
    if (task.conversationId) return this.threadOfConversation(task.conversationId);
    if (task.workflowId) {
      const workflow: WorkflowState = await readAggregateState(this.options.store, workflowAggregate, task.workflowId, this.options.logger);
      if (workflow.status !== 'none' && workflow.conversationId !== undefined) return this.threadOfConversation(workflow.conversationId);
    }
    const target = task.replyTo;
    return target?.kind === 'slack' ? this.options.threadOf({ source: 'slack', channel: target.channel, threadTs: target.threadTs }) : undefined;
  }

  private remember(workflowId: string): void {
    if (this.silent.size >= 10_000) this.silent.delete(this.silent.values().next().value!);
    this.silent.add(workflowId);
  }

  /** A workflow that ends while a gate waits leaves that gate undecided: redraw it without buttons. */
  private async closeOpenGates(where: Where, workflow: Workflow): Promise<void> {
    for (const run of Object.values(workflow.steps)) {
      if (run.approval && run.status === 'awaitingApproval') await this.show(where, gateDelivery(workflow.workflowId, run.stepId, run.visit), approvalGateReply(workflow, run.stepId), 'update-only');
    }
  }

  /** A conversation's thread never moves, so it is looked up once. */
  private async threadOfConversation(conversationId: string): Promise<Where | undefined> {
    const cached = this.threads.get(conversationId);
    if (cached) return cached.where;
    const conversation: ConversationState = await readAggregateState(this.options.store, conversationAggregate, conversationId, this.options.logger);
    if (conversation.status === 'none') return undefined;
    const where = this.options.threadOf(conversation);
    this.threads.set(conversationId, { where });
    return where;
  }

  /**
   * Posts the delivery's message, or redraws it when it was posted before. `update-only` never
   * posts: a decision on a plan whose preview was never shown has nothing to redraw. A thread
   * that cannot be written any more is given up on.
   */
  private async show(where: Where, deliveryId: string, document: ReplyDocument, mode: 'post' | 'update-only'): Promise<void> {
    const marker: PostMarker = { kind: 'notice', deliveryId };
    try {
      // A recorded message stays where it is, so once known it is not looked up again.
      const known = this.posted.get(deliveryId) ?? (await this.withRetries(deliveryId, () => findThreadMessage(this.messages, where.chat, deliveryId, where.thread, marker)));
      if (known) {
        this.posted.set(deliveryId, known);
        await this.withRetries(deliveryId, () => where.chat.update(known, document));
        return;
      }
      if (mode === 'update-only') return;
      const posted = await postThreadMessage(this.messages, deliveryId, where.thread, () => this.withRetries(deliveryId, () => where.chat.post(where.thread, document, marker)));
      this.posted.set(deliveryId, posted);
    } catch (error) {
      if (!(error instanceof ChatTargetGone)) throw error;
      this.options.logger.warn({ deliveryId, code: error.code }, 'the thread cannot be written any more; giving up on this message');
    }
  }

  /** Waits out rate limits (as told) and other failures (with backoff); a gone thread is not retried. */
  private async withRetries<T>(deliveryId: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (error instanceof ChatTargetGone || attempt >= MAX_TRIES) throw error;
        const waitMs = chatRetryDelayMs(error, attempt);
        this.options.logger.warn({ deliveryId, err: error, retryInMs: waitMs }, 'could not write to the thread; trying again');
        await sleep(waitMs, undefined, { signal: this.abort.signal });
      }
    }
  }
}

const gateDelivery = (workflowId: string, stepId: string, visit: number): string => `gate-${workflowId}-${stepId}-${visit}`;

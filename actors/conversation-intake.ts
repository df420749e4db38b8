import { randomUUID } from 'node:crypto';
import { isLeft, type Either } from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import type { AskedFor, ConversationSource, ConversationState, JsonValue } from '../domain/conversation/index.ts';
import { conversationCommandSchemas } from '../domain/conversation/commands.ts';
import { mayCancel, mayStart, type Policy, type PolicyDecision, type PolicyRefusal } from '../domain/policy/index.ts';
import type { SideEffectClass } from '../domain/workflow/gate-policy.ts';
import { isMultiStepRequest, parseIntent, REPOSITORY_VARIABLE, type ChatTaskType, type Intent, type NotUnderstood } from '../domain/intent/index.ts';
import { toIdToken } from '../domain/streams.ts';
import type { ReplyTarget } from '../domain/task/fields.ts';
import type { TaskRoute } from '../domain/task/route.ts';
import type { z } from 'zod';
import { typedDecision, type DecisionDesk } from './decision-desk.ts';
import type { PlanningDesk } from './planning-desk.ts';
import type { AggregateStateClient } from './runtime/aggregate-state-client.ts';
import type { CommandClient } from './runtime/command-client.ts';
import { accepted, describeReply, rejectedAs } from './runtime/command-replies.ts';

// Where a chat message from any front end (Slack, console) becomes commands: the thread's
// Conversation records the message; APPROVE or REJECT typed alone decides what the thread
// waits for; a request for one read-only task (the offline intent parser reads it against the
// thread's context variables) becomes a queued task whose result goes back to the thread, and
// anything more (several steps, a deployment, or what the parser cannot read) goes to the
// planner, whose plan is previewed in the thread. Every step is idempotent, so a redelivered message (a Slack retry) queues
// nothing twice: the message id dedupes the message and the task id is derived from it.
// A mention costs three commands: AddMessage (which starts the thread's conversation on its
// first message), QueueTask (or the planner's ProposePlan), and RecordRequest (what the
// message asked for, which follow-ups resolve against). The thread's state comes from the
// aggregate host (a state query), never from folding its stream here.

export interface IncomingMessage {
  readonly source: ConversationSource;
  readonly channel: string;
  /** The thread's root ts; a top-level message roots its own thread. */
  readonly threadTs: string;
  /** The message's own id (Slack ts); a repeated id is the same message. */
  readonly messageTs: string;
  readonly user: string;
  /** Without the bot mention. */
  readonly text: string;
  /** Only continue existing conversations (a thread reply without a mention). */
  readonly continueOnly?: boolean;
  /** Recorded with the message: Slack's event id, team, etc. */
  readonly metadata?: Record<string, string>;
}

export type IntakeOutcome =
  | { readonly kind: 'queued'; readonly conversationId: string; readonly taskId: string; readonly intent: Intent }
  | { readonly kind: 'not-understood'; readonly conversationId: string; readonly answer: NotUnderstood }
  /** The same message again (a retry): nothing new was done. */
  | { readonly kind: 'duplicate'; readonly conversationId: string }
  /** A thread reply in a thread that is not one of ours. */
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'refused'; readonly conversationId: string; readonly message: string }
  | { readonly kind: 'rerun'; readonly conversationId: string; readonly taskId: string; readonly of: string }
  /** A plan was proposed; its preview comes to the thread from the thread notifier. */
  | { readonly kind: 'planned'; readonly conversationId: string; readonly planId: string; readonly approvalRequired: boolean }
  /** A typed decision was taken (or refused): the answer is for the thread. */
  | { readonly kind: 'answered'; readonly conversationId: string; readonly message: string };

export interface ConversationIntakeOptions {
  readonly commands: CommandClient;
  /** The aggregate hosts' current states: the thread's context, what a task was queued with and by whom. */
  readonly states: AggregateStateClient;
  readonly logger: Logger;
  /** Pool and time limit of a registered task type. */
  readonly routeTask: (taskType: string) => TaskRoute | undefined;
  /** Where results of this source's tasks go; Slack answers in the thread. */
  readonly replyTarget: (message: IncomingMessage) => ReplyTarget;
  /** Without one, only single tasks are understood. */
  readonly planning?: PlanningDesk;
  readonly decisions?: DecisionDesk;
  /** Who may ask for which work; without one only the deciders' rules apply. */
  readonly policy?: IntakePolicy;
  /** The registered task types: their descriptors say how chat asks for each one. */
  readonly taskTypes: readonly ChatTaskType[];
}

export interface IntakePolicy {
  readonly rules: Policy;
  /** What a task of this type with these parameters does outside (the registry knows). */
  sideEffectOf(taskType: string, payload: unknown): SideEffectClass;
}

// The commands' own constraints, checked before anything is sent, so a message that would be
// refused leaves no trace (not even an empty ConversationStarted).
const startData = conversationCommandSchemas.StartConversation.omit({ at: true });
const messageData = conversationCommandSchemas.AddMessage.omit({ at: true });

const problemsOf = (error: z.ZodError): string => error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');

const notAuthorized = (refused: PolicyRefusal): string => `NotAuthorized: ${refused.message}`;

const targetOrgOf = (payload: unknown): string | undefined => {
  const org = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)['targetOrg'] : undefined;
  return typeof org === 'string' ? org : undefined;
};

/**
 * Ids from a chat message (NATS subject tokens: Slack's `1700000000.000100` becomes
 * `1700000000_000100`): the thread's root ts names the conversation, a message's own ts the
 * task or plan it asks for, so a redelivered message names the same ones.
 */
const chatIdOf = (source: ConversationSource, channel: string, ts: string): string => `${source}-${toIdToken(channel)}-${toIdToken(ts)}`;

export class ConversationIntake {
  constructor(private readonly options: ConversationIntakeOptions) {}

  async receive(message: IncomingMessage): Promise<IntakeOutcome> {
    const conversationId = chatIdOf(message.source, message.channel, message.threadTs);
    const { commands } = this.options;
    const target = { category: 'conversation', id: conversationId } as const;
    const actor = message.user;
    const start = { user: message.user, channel: message.channel, threadTs: message.threadTs, source: message.source };
    const added = {
      messageId: message.messageTs,
      role: 'user' as const,
      text: message.text || '(empty)',
      ...(message.metadata ? { metadata: message.metadata } : {}),
    };
    const invalid = [startData.safeParse({ conversationId, ...start }), messageData.safeParse({ conversationId, ...added })].flatMap((r) =>
      r.success ? [] : [problemsOf(r.error)],
    );

    // Everything that could refuse the message is decided before the first command is sent.
    const before: ConversationState = await this.options.states.read('conversation', conversationId);
    if (message.continueOnly && before.status === 'none') return { kind: 'ignored', reason: 'not a conversation of ours' };
    if (invalid.length > 0) return { kind: 'refused', conversationId, message: `InvalidCommand: ${invalid.join('; ')}` };
    const context = before.status === 'none' ? {} : before.context;
    const currentRepo = context[REPOSITORY_VARIABLE];
    const variables = typeof currentRepo === 'string' ? { [REPOSITORY_VARIABLE]: currentRepo } : {};
    const decision = typedDecision(message.text);
    const parsed = parseIntent(message.text, variables, this.options.taskTypes);
    const planning = this.options.planning;
    const planned = planning !== undefined && (isLeft(parsed) || isMultiStepRequest(message.text));
    if (!decision && !planned && !isLeft(parsed)) {
      const refused = this.refusedTask(actor, parsed.right.taskType, parsed.right.params);
      if (refused) return { kind: 'refused', conversationId, message: notAuthorized(refused) };
    }
    // A plan's steps are known only once planned; someone who may start no work at all is told
    // now. What a plan does is checked again at "Run this plan" (the decision desk).
    if (!decision && planned && this.options.policy) {
      const may = mayStart(this.options.policy.rules, { actor, steps: [] });
      if (isLeft(may)) return { kind: 'refused', conversationId, message: notAuthorized(may.left) };
    }

    // A thread's first message starts its conversation; a reply without a mention only continues one.
    const recorded = await commands.send(target, {
      commandId: randomUUID(),
      type: 'AddMessage',
      actor,
      data: { ...added, ...(!message.continueOnly && { start }) },
    });
    if (rejectedAs(recorded, 'ConversationNotStarted') && message.continueOnly) return { kind: 'ignored', reason: 'not a conversation of ours' };
    if (!accepted(recorded)) return { kind: 'refused', conversationId, message: describeReply(recorded) };
    if (recorded.events === 0) return { kind: 'duplicate', conversationId };

    if (decision && this.options.decisions) {
      const answer = await this.options.decisions.decideTyped(conversationId, message.user, decision);
      if (answer !== undefined) return { kind: 'answered', conversationId, message: answer };
    }

    if (planning && planned) return this.plan(planning, message, conversationId, variables);
    if (isLeft(parsed)) return { kind: 'not-understood', conversationId, answer: parsed.left };
    return this.queue(message, conversationId, parsed.right);
  }

  /** The policy's refusal of one task asked for by `actor`, if it refuses it. */
  private refusedTask(actor: string, taskType: string, payload: unknown): PolicyRefusal | undefined {
    const may = this.taskVerdict(actor, taskType, payload);
    return may && isLeft(may) ? may.left : undefined;
  }

  /** What the policy says of one task asked for by `actor`; undefined without a policy. */
  private taskVerdict(actor: string, taskType: string, payload: unknown): Either<PolicyRefusal, PolicyDecision> | undefined {
    const policy = this.options.policy;
    return (
      policy && mayStart(policy.rules, { actor, steps: [{ taskType, sideEffect: policy.sideEffectOf(taskType, payload), targetOrg: targetOrgOf(payload) }] })
    );
  }

  private async plan(
    planning: PlanningDesk,
    message: IncomingMessage,
    conversationId: string,
    variables: Readonly<Record<string, string | undefined>>,
  ): Promise<IntakeOutcome> {
    const planId = chatIdOf(message.source, message.channel, message.messageTs);
    const outcome = await planning.plan({ planId, conversationId, requestedBy: message.user, text: message.text, context: { variables } });
    switch (outcome.kind) {
      case 'not-understood':
        return { kind: 'not-understood', conversationId, answer: outcome.answer };
      case 'refused':
        return { kind: 'answered', conversationId, message: outcome.message };
      case 'duplicate':
        return { kind: 'duplicate', conversationId };
      case 'proposed':
        // What a typed APPROVE in this thread decides (lastPlanId).
        await this.recordRequest(message, conversationId, { kind: 'plan', planId }, {}, `propose-${planId}`);
        return { kind: 'planned', conversationId, planId, approvalRequired: outcome.approval.required };
    }
  }

  /** What the message asked for, recorded on its conversation in one command (a replayed message records nothing more). */
  private async recordRequest(
    message: IncomingMessage,
    conversationId: string,
    asked: AskedFor,
    context: Readonly<Record<string, JsonValue>>,
    causationId: string,
  ): Promise<void> {
    const id = asked.kind === 'task' ? asked.taskIds[0] : asked.planId;
    const reply = await this.options.commands.send(
      { category: 'conversation', id: conversationId },
      {
        commandId: `request-${id}`,
        type: 'RecordRequest',
        actor: message.user,
        causationId,
        data: { messageId: message.messageTs, asked, context: { ...context } },
      },
    );
    if (!accepted(reply)) this.options.logger.warn({ conversationId, asked, reply }, 'could not record what the message asked for on the conversation');
  }

  /** A person asked to stop a task (a Cancel button, `/cancel`); the answer is for that person. */
  async cancelTask(taskId: string, user: string): Promise<string> {
    if (this.options.policy) {
      const task = await this.options.states.read('task', taskId);
      if (task.status !== 'none') {
        const may = mayCancel(this.options.policy.rules, user, { requestedBy: task.requestedBy, approvers: [] });
        if (isLeft(may)) return `Could not cancel task ${taskId}: ${notAuthorized(may.left)}`;
      }
    }
    const reply = await this.options.commands.send(
      { category: 'task', id: taskId },
      { commandId: randomUUID(), type: 'CancelTask', actor: user, data: { reason: `cancelled by ${user}` } },
    );
    if (accepted(reply)) return reply.events === 0 ? `Task ${taskId} was already cancelled.` : `Cancelling task ${taskId}.`;
    if (rejectedAs(reply, 'TaskAlreadyFinished')) return `Task ${taskId} has already finished.`;
    return `Could not cancel task ${taskId}: ${describeReply(reply)}`;
  }

  /** Runs a finished task again with the same parameters; `requestTs` (the click's action_ts) names the new task. */
  async rerunTask(taskId: string, user: string, requestTs: string): Promise<IntakeOutcome> {
    const task = await this.options.states.read('task', taskId);
    if (task.status === 'none') return { kind: 'refused', conversationId: '', message: `There is no task ${taskId} to run again.` };
    const conversationId = task.conversationId ?? '';
    const refused = this.refusedTask(user, task.taskType, task.payload);
    if (refused) return { kind: 'refused', conversationId, message: notAuthorized(refused) };
    const replyTo = task.replyTo;
    const channel = replyTo?.kind === 'slack' ? replyTo.channel : 'rerun';
    const newTaskId = chatIdOf(replyTo?.kind === 'slack' ? 'slack' : 'console', channel, requestTs);
    const queued = await this.options.commands.send(
      { category: 'task', id: newTaskId },
      {
        commandId: `queue-${newTaskId}`,
        type: 'QueueTask',
        actor: user,
        ...(conversationId ? { correlationId: conversationId } : {}),
        causationId: taskId,
        data: {
          taskType: task.taskType,
          pool: task.pool,
          payload: task.payload,
          timeoutMs: task.timeoutMs,
          maxAttempts: task.maxAttempts,
          ...(replyTo ? { replyTo } : {}),
          ...(conversationId ? { conversationId } : {}),
          requestedBy: user,
        },
      },
    );
    if (rejectedAs(queued, 'TaskAlreadyExists')) return { kind: 'duplicate', conversationId };
    if (!accepted(queued)) return { kind: 'refused', conversationId, message: describeReply(queued) };
    return { kind: 'rerun', conversationId, taskId: newTaskId, of: taskId };
  }

  private async queue(message: IncomingMessage, conversationId: string, intent: Intent): Promise<IntakeOutcome> {
    // Checked before anything was recorded too; this covers a typed word nothing was waiting for.
    const verdict = this.taskVerdict(message.user, intent.taskType, intent.params);
    if (verdict && isLeft(verdict)) return { kind: 'refused', conversationId, message: notAuthorized(verdict.left) };
    const route = this.options.routeTask(intent.taskType);
    if (!route) return { kind: 'refused', conversationId, message: `no worker pool runs ${intent.taskType} tasks here` };
    const taskId = chatIdOf(message.source, message.channel, message.messageTs);
    const queued = await this.options.commands.send(
      { category: 'task', id: taskId },
      {
        commandId: `queue-${taskId}`,
        type: 'QueueTask',
        actor: message.user,
        ...(verdict && { authorization: verdict.right.rule }),
        correlationId: conversationId,
        data: {
          taskType: intent.taskType,
          pool: route.pool,
          payload: intent.params,
          timeoutMs: route.timeoutMs,
          replyTo: this.options.replyTarget(message),
          conversationId,
          requestedBy: message.user,
        },
      },
    );
    if (rejectedAs(queued, 'TaskAlreadyExists')) return { kind: 'duplicate', conversationId };
    if (!accepted(queued)) return { kind: 'refused', conversationId, message: describeReply(queued) };

    // What "now run the tests" resolves against next time.
    await this.recordRequest(message, conversationId, { kind: 'task', taskType: intent.taskType, taskIds: [taskId] }, intent.setContext, `queue-${taskId}`);
    return { kind: 'queued', conversationId, taskId, intent };
  }
}

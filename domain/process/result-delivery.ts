import type { PostedMessage, ThreadRef } from '../ports/chat-poster.ts';
import type { WebhookAttemptOutcome } from '../ports/webhook-sender.ts';
import type { ReplyDocument } from '../replies/reply-document.ts';
import { resultReply, type ReplyFormats } from '../replies/result-reply.ts';
import type { TaskEvent } from '../task/events.ts';
import type { ReplyTarget, TaskError } from '../task/fields.ts';
import { describeAnswer, type CommandAnswer, type DueTimer, type Intent, type ManagerInput, type ProcessManager } from './process-manager.ts';

// When a task ends, its result goes where the request asked: a reply in the Slack thread, a
// signed webhook POST (retried after the delay the schedule gives, dead-lettered after the last
// try or a failure not worth retrying), or a message on a NATS subject. The reply is requested
// on the task's Delivery before anything goes out and each step recorded after: a request that
// records nothing new (the reply was requested before a crash) looks the Delivery up first, so
// a reply already finished is not sent again, a Slack reply that may have landed is looked for
// by its marker, and a webhook goes on from the attempt after the last one recorded.
// The state of a task is what its TaskQueued said (where the reply goes, for whom, its type and
// repository), folded from the task's events as they arrive; the host keeps the checkpoint
// before TaskQueued until the reply is finished, so a restart sees it again.

export type Outcome = 'completed' | 'failed' | 'cancelled';

/** What webhook and NATS reply targets receive. */
export interface ResultMessage {
  readonly taskId: string;
  readonly taskType: string;
  readonly outcome: Outcome;
  readonly result?: unknown;
  readonly error?: TaskError;
  readonly reason?: string;
  readonly conversationId?: string;
  readonly requestedBy?: string;
  readonly endedAt: string;
}

export interface ResultDeliveryConfig {
  /** The registered task types: their descriptors say how each one's result reads in the thread. */
  readonly taskTypes: ReplyFormats;
  readonly webhookMaxAttempts: number;
  /** Wait before webhook attempt n + 1 after attempt n failed with `outcome`. */
  readonly webhookDelayMs: (attempt: number, outcome: WebhookAttemptOutcome) => number;
}

export type ResultEffect =
  /** Reply: `DeliveryLookedUp`. */
  | { readonly type: 'look-up-delivery'; readonly taskId: string }
  /** Reply: `ReplyPostAnswer`. `resumed`: the post may have landed before; look for it by its marker first. */
  | { readonly type: 'post-reply'; readonly taskId: string; readonly thread: ThreadRef; readonly document: ReplyDocument; readonly resumed: boolean }
  /** Reply: the attempt's `WebhookAttemptOutcome`. */
  | { readonly type: 'send-webhook'; readonly taskId: string; readonly url: string; readonly attempt: number; readonly body: ResultMessage }
  | { readonly type: 'publish'; readonly taskId: string; readonly subject: string; readonly body: ResultMessage }
  | {
      readonly type: 'report';
      readonly level: 'warn' | 'error';
      readonly taskId: string;
      readonly message: string;
      readonly url?: string;
      readonly attempts?: number;
    };

export interface DeliveryLookedUp {
  readonly kind: 'delivery';
  /** The reply went out or was given up on. */
  readonly finished: boolean;
  /** Webhook attempts recorded so far. */
  readonly attempts: number;
}

export type ReplyPostAnswer =
  | { readonly kind: 'posted'; readonly message: PostedMessage }
  | { readonly kind: 'gone'; readonly code: string }
  | { readonly kind: 'failed'; readonly error: string };

export type ResultReply = CommandAnswer | DeliveryLookedUp | ReplyPostAnswer | WebhookAttemptOutcome;

export interface WebhookRetry {
  readonly attempt: number;
}

export type ResultInput = ManagerInput<TaskEvent, ResultReply, WebhookRetry, ResultEffect>;

interface Queued {
  readonly taskType: string;
  readonly requestedBy: string;
  readonly replyTo?: ReplyTarget;
  readonly conversationId?: string;
  readonly repository?: string;
}

type Phase =
  | { readonly step: 'beginning' }
  | { readonly step: 'looking-up' }
  | { readonly step: 'posting'; readonly document: ReplyDocument }
  | { readonly step: 'sending'; readonly attempt: number }
  | { readonly step: 'recording'; readonly attempt: number; readonly outcome: WebhookAttemptOutcome }
  | { readonly step: 'waiting'; readonly attempt: number; readonly dueAt: string }
  | { readonly step: 'done' };

export interface ResultState {
  readonly queued?: Queued;
  readonly reply?: { readonly message: ResultMessage; readonly phase: Phase };
}

const repositoryOf = (payload: unknown): string | undefined => {
  const repository = (payload as { repository?: unknown } | null)?.repository;
  return typeof repository === 'string' ? repository : undefined;
};

function endOf(event: TaskEvent): Pick<ResultMessage, 'outcome' | 'result' | 'error' | 'reason' | 'endedAt'> | undefined {
  switch (event.type) {
    case 'TaskCompleted':
      return { outcome: 'completed', result: event.data.result, endedAt: event.data.at };
    case 'TaskFailed':
      return event.data.final ? { outcome: 'failed', error: event.data.error, endedAt: event.data.at } : undefined;
    case 'TaskCancelled':
      return { outcome: 'cancelled', reason: event.data.reason, endedAt: event.data.at };
    default:
      return undefined;
  }
}

const effect = (e: ResultEffect, wantsReply = true): Intent<ResultEffect> => ({
  kind: 'effect',
  key: `${e.type}-${e.taskId}`,
  effect: e,
  ...(wantsReply && { wantsReply }),
});
const report = (level: 'warn' | 'error', taskId: string, message: string, extra: { url?: string; attempts?: number } = {}): Intent<ResultEffect> =>
  effect({ type: 'report', level, taskId, message, ...extra }, false);

type Step = { readonly state: ResultState; readonly intents: readonly Intent<ResultEffect>[] };

const withPhase = (state: ResultState, phase: Phase, intents: readonly Intent<ResultEffect>[] = []): Step =>
  state.reply ? { state: { ...state, reply: { ...state.reply, phase } }, intents } : { state, intents };
const done = (state: ResultState, intents: readonly Intent<ResultEffect>[] = []): Step => withPhase(state, { step: 'done' }, intents);

function step(config: ResultDeliveryConfig, state: ResultState, input: ResultInput): Step {
  if (input.kind === 'event') return onEvent(state, input.event, input.at);
  if (input.kind === 'due') {
    const phase = state.reply?.phase;
    if (phase?.step !== 'waiting' || input.timer.payload.attempt !== phase.attempt) return { state, intents: [] };
    return send(state, phase.attempt);
  }
  return onReply(config, state, input.intent, input.reply, input.at);
}

function onEvent(state: ResultState, event: TaskEvent, at: string): Step {
  if (event.type === 'TaskQueued') {
    if (state.queued) return { state, intents: [] };
    const { data } = event;
    const repository = repositoryOf(data.payload);
    const queued: Queued = {
      taskType: data.taskType,
      requestedBy: data.requestedBy,
      ...(data.replyTo && { replyTo: data.replyTo }),
      ...(data.conversationId && { conversationId: data.conversationId }),
      ...(repository && { repository }),
    };
    return { state: { ...state, queued }, intents: [] };
  }
  const ended = endOf(event);
  if (!ended || state.reply) return { state, intents: [] };
  const { queued } = state;
  if (!queued?.replyTo) return { state, intents: [] };
  const message: ResultMessage = {
    taskId: event.data.taskId,
    taskType: queued.taskType,
    ...ended,
    ...(queued.conversationId ? { conversationId: queued.conversationId } : {}),
    ...(queued.requestedBy ? { requestedBy: queued.requestedBy } : {}),
  };
  return {
    state: { ...state, reply: { message, phase: { step: 'beginning' } } },
    intents: [
      {
        kind: 'command',
        category: 'delivery',
        id: message.taskId,
        // Its own id each time the end is handled (the host's time): a request recorded before (a replay after a
        // restart) then answers "nothing new", which is how a replay knows to look the Delivery up first.
        commandId: `begin-reply-${message.taskId}-${Date.parse(at)}`,
        type: 'BeginReply',
        wantsReply: true,
        data: { target: queued.replyTo, outcome: message.outcome },
      },
    ],
  };
}

function onReply(config: ResultDeliveryConfig, state: ResultState, intent: Intent<ResultEffect>, reply: ResultReply, at: string): Step {
  const { reply: delivery, queued } = state;
  if (!delivery || !queued?.replyTo) return { state, intents: [] };
  const { message } = delivery;
  const taskId = message.taskId;
  if (intent.kind === 'command') {
    const answer = reply as CommandAnswer;
    switch (intent.type) {
      case 'BeginReply':
        if (answer.status !== 'accepted') return done(state, [report('error', taskId, `could not request the reply: ${describeAnswer(answer)}`)]);
        // Requested before: finished already, or to be resumed from what the Delivery holds.
        if (answer.events === 0) return withPhase(state, { step: 'looking-up' }, [effect({ type: 'look-up-delivery', taskId })]);
        return goOut(config, state, queued.replyTo, { resumed: false, attempts: 0 });
      case 'RecordReplyPosted':
        return answer.status === 'accepted'
          ? { state, intents: [] }
          : { state, intents: [report('error', taskId, `could not record the posted reply: ${describeAnswer(answer)}`)] };
      case 'AddMessage':
        return answer.status === 'accepted'
          ? { state, intents: [] }
          : { state, intents: [report('warn', taskId, `could not add the reply to the conversation: ${describeAnswer(answer)}`)] };
      case 'RecordNatsReply':
        return answer.status === 'accepted'
          ? { state, intents: [] }
          : { state, intents: [report('error', taskId, `could not record the NATS reply: ${describeAnswer(answer)}`)] };
      case 'RecordWebhookAttempt':
        return onWebhookRecorded(config, state, answer, at);
      default:
        return { state, intents: [] };
    }
  }
  const e = intent.effect;
  if (e.type === 'look-up-delivery') {
    const found = reply as DeliveryLookedUp;
    if (found.finished) return done(state);
    return goOut(config, state, queued.replyTo, { resumed: true, attempts: found.attempts });
  }
  if (e.type === 'post-reply' && delivery.phase.step === 'posting') {
    const posted = reply as ReplyPostAnswer;
    if (posted.kind !== 'posted')
      return done(state, [
        report(
          'error',
          taskId,
          posted.kind === 'gone' ? `the thread cannot be written any more (${posted.code})` : `could not post the result: ${posted.error}`,
        ),
      ]);
    const { channel, ts, fileIds } = posted.message;
    return done(state, [
      {
        kind: 'command',
        category: 'delivery',
        id: taskId,
        commandId: `reply-posted-${taskId}`,
        type: 'RecordReplyPosted',
        wantsReply: true,
        data: { channel, ts, ...(fileIds?.length ? { fileIds: [...fileIds] } : {}) },
      },
      // The reply joins the conversation's history, so the thread reads the same in an audit.
      ...(message.conversationId
        ? [
            {
              kind: 'command',
              category: 'conversation',
              id: message.conversationId,
              commandId: `reply-message-${taskId}`,
              type: 'AddMessage',
              wantsReply: true,
              data: { messageId: `reply-${taskId}`, role: 'assistant', text: delivery.phase.document.title },
            } satisfies Intent<ResultEffect>,
          ]
        : []),
    ]);
  }
  if (e.type === 'send-webhook' && delivery.phase.step === 'sending') {
    const outcome = reply as WebhookAttemptOutcome;
    const attempt = delivery.phase.attempt;
    const recorded: WebhookAttemptOutcome = outcome.delivered
      ? outcome
      : {
          delivered: false,
          error: outcome.error.slice(0, 2_000),
          retryable: outcome.retryable,
          ...(outcome.status !== undefined && { status: outcome.status }),
        };
    return withPhase(state, { step: 'recording', attempt, outcome }, [
      {
        kind: 'command',
        category: 'delivery',
        id: taskId,
        commandId: `webhook-${taskId}-${attempt}`,
        type: 'RecordWebhookAttempt',
        wantsReply: true,
        data: { attempt, maxAttempts: config.webhookMaxAttempts, outcome: recorded },
      },
    ]);
  }
  return { state, intents: [] };
}

/** Sends the reply to its target, fresh or resumed. */
function goOut(config: ResultDeliveryConfig, state: ResultState, target: ReplyTarget, from: { resumed: boolean; attempts: number }): Step {
  const { message } = state.reply!;
  const queued = state.queued!;
  switch (target.kind) {
    case 'slack': {
      const document = resultReply(
        {
          taskId: message.taskId,
          taskType: message.taskType,
          outcome: message.outcome,
          result: message.result,
          error: message.error,
          reason: message.reason,
          repository: queued.repository,
        },
        config.taskTypes,
      );
      const thread = { channel: target.channel, threadTs: target.threadTs };
      return withPhase(state, { step: 'posting', document }, [effect({ type: 'post-reply', taskId: message.taskId, thread, document, resumed: from.resumed })]);
    }
    case 'webhook':
      return send(state, from.attempts + 1);
    case 'nats':
      return done(state, [
        effect({ type: 'publish', taskId: message.taskId, subject: target.subject, body: message }, false),
        {
          kind: 'command',
          category: 'delivery',
          id: message.taskId,
          commandId: `nats-reply-${message.taskId}`,
          type: 'RecordNatsReply',
          wantsReply: true,
          data: { subject: target.subject },
        },
      ]);
  }
}

function send(state: ResultState, attempt: number): Step {
  const { message } = state.reply!;
  const target = state.queued!.replyTo;
  if (target?.kind !== 'webhook') return { state, intents: [] };
  return withPhase(state, { step: 'sending', attempt }, [effect({ type: 'send-webhook', taskId: message.taskId, url: target.url, attempt, body: message })]);
}

function onWebhookRecorded(config: ResultDeliveryConfig, state: ResultState, answer: CommandAnswer, at: string): Step {
  const phase = state.reply!.phase;
  const taskId = state.reply!.message.taskId;
  const target = state.queued!.replyTo;
  if (phase.step !== 'recording' || target?.kind !== 'webhook') return { state, intents: [] };
  if (answer.status !== 'accepted')
    return done(state, [report('error', taskId, `could not record webhook attempt ${phase.attempt}: ${describeAnswer(answer)}`)]);
  // Recorded before (another process got there first): that one goes on.
  if (answer.events === 0) return done(state);
  const { outcome, attempt } = phase;
  if (outcome.delivered) return done(state);
  if (!outcome.retryable || attempt >= config.webhookMaxAttempts)
    return done(state, [report('error', taskId, `webhook dead-lettered: ${outcome.error}`, { url: target.url, attempts: attempt })]);
  const dueAt = new Date(Date.parse(at) + config.webhookDelayMs(attempt, outcome)).toISOString();
  return withPhase(state, { step: 'waiting', attempt: attempt + 1, dueAt });
}

/** The reply is finished (or there is none to send): nothing more for this task. */
export const resultFinished = (state: ResultState): boolean => !resultKeepsEvents(state);

/** A reply to send and not finished: the task's TaskQueued is needed again after a restart. */
export const resultKeepsEvents = (state: ResultState): boolean => state.queued?.replyTo !== undefined && state.reply?.phase.step !== 'done';

export const resultTimers = (state: ResultState): readonly DueTimer<WebhookRetry>[] => {
  const phase = state.reply?.phase;
  return phase?.step === 'waiting' ? [{ name: 'webhook-retry', dueAt: phase.dueAt, payload: { attempt: phase.attempt } }] : [];
};

export const resultDelivery = (
  config: ResultDeliveryConfig,
): ProcessManager<ResultInput, ResultState, ResultEffect> & {
  timers(state: ResultState): readonly DueTimer<WebhookRetry>[];
  finished(state: ResultState): boolean;
} => ({
  name: 'result-reactor',
  initialState: () => ({}),
  evolve: (state, input) => step(config, state, input).state,
  decide: (input, state) => step(config, state, input).intents,
  step: (input, state) => step(config, state, input),
  timers: resultTimers,
  finished: resultFinished,
});

import { sendThatLands, type SendThatLands } from '../runtime/commands-that-land.ts';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { replyFinished, type DeliveryState } from '../../domain/delivery/index.ts';
import { ChatTargetGone, type ChatPoster, type PostedMessage } from '../../domain/ports/chat-poster.ts';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import type { WebhookAttemptOutcome, WebhookSender } from '../../domain/ports/webhook-sender.ts';
import { resultReply } from '../../domain/replies/result-reply.ts';
import { streamName } from '../../domain/streams.ts';
import type { ReplyTarget } from '../../domain/task/fields.ts';
import { deliveryAggregate } from '../aggregates/delivery.ts';
import { readAggregateState } from '../runtime/aggregate-reader.ts';
import type { CommandClient } from '../runtime/command-client.ts';
import type { CommandReply } from '../runtime/command-envelope.ts';
import { taskEventReactor, type EventReactor, type Hold } from '../runtime/event-reactor.ts';
import { chatRetryDelayMs } from './thread-message.ts';
import { taskEventIn } from '../../domain/events/typed-events.ts';
import type { TaskEvent } from '../../domain/task/events.ts';

// When a task ends, its result goes where the request asked: a reply in the Slack thread, a
// signed webhook POST (retried with backoff, dead-lettered after the last try), or a message
// on a NATS subject. Each step is recorded on the task's Delivery before and after it is
// done, so a crash and replay finds the reply already posted (by its recorded ts, or by the
// marker the message carries) instead of posting it again, and finds an unsent one instead
// of losing it.

export type Outcome = 'completed' | 'failed' | 'cancelled';

/** What webhook and NATS reply targets receive. */
export interface ResultMessage {
  readonly taskId: string;
  readonly taskType: string;
  readonly outcome: Outcome;
  readonly result?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
  readonly reason?: string;
  readonly conversationId?: string;
  readonly requestedBy?: string;
  readonly endedAt: string;
}


export interface ResultReactorOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly commands: CommandClient;
  readonly chat?: ChatPoster;
  readonly webhooks?: WebhookSender;
  /** Core NATS publish for `nats` reply targets. */
  readonly publish?: (subject: string, payload: Uint8Array) => void;
  /** Wait before webhook attempt n + 1 after attempt n failed with `outcome`. */
  readonly webhookDelayMs: (attempt: number, outcome: WebhookAttemptOutcome) => number;
  readonly webhookMaxAttempts?: number;
  readonly logger: Logger;
}

const MAX_CHAT_TRIES = 8;

export class ResultReactor {
  private readonly reactor: EventReactor;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  /** Delivery records must land: retried until a host decides, or until stop(). */
  private readonly send: SendThatLands;

  constructor(private readonly options: ResultReactorOptions) {
    this.send = sendThatLands(options.commands, this.abort.signal, options.logger, 'result-reactor');
    this.reactor = taskEventReactor('result-reactor', options, (event, hold) => this.handle(event, hold));
  }

  start(): Promise<void> {
    return this.reactor.start();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.reactor.stop();
    await Promise.allSettled(this.inFlight.values());
  }

  private async handle(recorded: RecordedEvent, hold: () => Hold): Promise<void> {
    const typed = taskEventIn(recorded);
    const ended = typed && endOf(typed.event);
    if (!typed || !ended) return;
    const taskId = typed.id;
    if (this.inFlight.has(taskId)) return;
    const { events } = await this.options.store.read(streamName('task', taskId), { maxCount: 1 });
    const first = events[0] && taskEventIn(events[0])?.event;
    if (first?.type !== 'TaskQueued') return;
    const task = first.data;
    if (!task.replyTo) return;
    const message: ResultMessage = {
      taskId,
      taskType: task.taskType,
      ...ended,
      ...(task.conversationId ? { conversationId: task.conversationId } : {}),
      ...(task.requestedBy ? { requestedBy: task.requestedBy } : {}),
    };
    const held = hold();
    const work = this.deliver(message, task.replyTo, task.payload)
      .catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.options.logger.error({ err: error, taskId }, 'result delivery failed; it is retried from the log on the next start');
      })
      .finally(() => {
        this.inFlight.delete(taskId);
        // Stopped mid-way: keep the hold so the checkpoint stays before this task.
        if (!this.abort.signal.aborted) held.release();
      });
    this.inFlight.set(taskId, work);
  }

  private async deliver(message: ResultMessage, target: ReplyTarget, payload: unknown): Promise<void> {
    const begun = await this.command(message.taskId, 'BeginReply', { target, outcome: message.outcome }, randomUUID());
    let state: DeliveryState | undefined;
    if (begun.events === 0) {
      state = await readAggregateState(this.options.store, deliveryAggregate, message.taskId, this.options.logger);
      if (replyFinished(state)) return;
    }
    switch (target.kind) {
      case 'slack':
        return this.replyInThread(message, target, payload, begun.events === 0);
      case 'webhook':
        return this.sendWebhook(message, target.url, state);
      case 'nats':
        return this.publishOnNats(message, target.subject);
    }
  }

  private async replyInThread(message: ResultMessage, target: Extract<ReplyTarget, { kind: 'slack' }>, payload: unknown, resumed: boolean): Promise<void> {
    const chat = this.options.chat;
    if (!chat) throw new Error(`task ${message.taskId} answers in Slack, but no Slack front end is configured here`);
    const thread = { channel: target.channel, threadTs: target.threadTs };
    const marker = { kind: 'result', deliveryId: message.taskId } as const;
    const document = resultReply({
      taskId: message.taskId,
      taskType: message.taskType,
      outcome: message.outcome,
      result: message.result,
      error: message.error,
      reason: message.reason,
      repository: repositoryOf(payload),
    });
    let posted: PostedMessage | undefined;
    for (let tries = 1; !posted; tries++) {
      try {
        // Begun before and not recorded: the post may have landed just before a crash.
        posted = (resumed ? await chat.findPosted(thread, marker) : undefined) ?? (await chat.post(thread, document, marker));
      } catch (error) {
        if (error instanceof ChatTargetGone || tries >= MAX_CHAT_TRIES) throw error;
        resumed = true; // a failed post may still have been stored by Slack
        const delay = chatRetryDelayMs(error, tries);
        this.options.logger.warn({ taskId: message.taskId, err: error, retryInMs: delay }, 'could not post the result; trying again');
        await sleep(delay, undefined, { signal: this.abort.signal });
      }
    }
    await this.command(message.taskId, 'RecordReplyPosted', { channel: posted.channel, ts: posted.ts, ...(posted.fileIds?.length ? { fileIds: [...posted.fileIds] } : {}) }, `reply-posted-${message.taskId}`);
    if (message.conversationId) await this.remember(message, document.title);
  }

  /** The reply joins the conversation's history, so the thread reads the same in an audit. */
  private async remember(message: ResultMessage, text: string): Promise<void> {
    const reply = await this.send(
      { category: 'conversation', id: message.conversationId! },
      { commandId: `reply-message-${message.taskId}`, type: 'AddMessage', actor: 'result-reactor', data: { messageId: `reply-${message.taskId}`, role: 'assistant', text } },
    );
    if (reply.status !== 'accepted') this.options.logger.warn({ taskId: message.taskId, reply }, 'could not add the reply to the conversation');
  }

  private async sendWebhook(message: ResultMessage, url: string, state: DeliveryState | undefined): Promise<void> {
    const sender = this.options.webhooks;
    if (!sender) throw new Error(`task ${message.taskId} has a webhook target, but webhooks are not configured here`);
    const maxAttempts = this.options.webhookMaxAttempts ?? 5;
    let attempt = (state?.status === 'active' ? (state.reply?.attempts ?? 0) : 0) + 1;
    for (;;) {
      const outcome = await sender.send({ url, deliveryId: message.taskId, attempt, body: message });
      const recorded = await this.command(message.taskId, 'RecordWebhookAttempt', { attempt, maxAttempts, outcome: outcome.delivered ? outcome : { ...outcome, error: outcome.error.slice(0, 2_000), retryAfterMs: undefined } }, `webhook-${message.taskId}-${attempt}`);
      if (recorded.events === 0) return;
      if (outcome.delivered || !outcome.retryable || attempt >= maxAttempts) {
        if (!outcome.delivered) this.options.logger.error({ taskId: message.taskId, url: redactUrl(url), attempts: attempt, error: outcome.error }, 'webhook dead-lettered');
        return;
      }
      await sleep(this.options.webhookDelayMs(attempt, outcome), undefined, { signal: this.abort.signal });
      attempt += 1;
    }
  }

  private async publishOnNats(message: ResultMessage, subject: string): Promise<void> {
    const publish = this.options.publish;
    if (!publish) throw new Error(`task ${message.taskId} has a NATS target, but no NATS publisher is configured here`);
    publish(subject, new TextEncoder().encode(JSON.stringify(message)));
    await this.command(message.taskId, 'RecordNatsReply', { subject }, `nats-reply-${message.taskId}`);
  }

  private async command(taskId: string, type: string, data: Record<string, unknown>, commandId: string): Promise<Extract<CommandReply, { status: 'accepted' }>> {
    const reply = await this.send({ category: 'delivery', id: taskId }, { commandId, type, actor: 'result-reactor', data });
    if (reply.status !== 'accepted') throw new Error(`${type} for ${taskId}: ${JSON.stringify(reply)}`);
    return reply;
  }
}

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

const repositoryOf = (payload: unknown): string | undefined => {
  const repository = (payload as { repository?: unknown } | null)?.repository;
  return typeof repository === 'string' ? repository : undefined;
};

/** Webhook URLs may carry credentials or tokens in the query; logs get neither. */
const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparseable url)';
  }
};

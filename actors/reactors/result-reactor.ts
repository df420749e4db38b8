import type { Logger } from 'pino';
import { replyFinished, type DeliveryState } from '../../domain/delivery/index.ts';
import { ChatTargetGone, type ChatPoster, type PostedMessage, type ThreadRef } from '../../domain/ports/chat-poster.ts';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import type { EventStore } from '../../domain/ports/event-store.ts';
import type { WebhookAttemptOutcome, WebhookSender } from '../../domain/ports/webhook-sender.ts';
import type { CommandAnswer } from '../../domain/process/process-manager.ts';
import {
  resultDelivery,
  resultKeepsEvents,
  type DeliveryLookedUp,
  type ReplyPostAnswer,
  type ResultEffect,
  type ResultReply,
  type ResultState,
  type WebhookRetry,
} from '../../domain/process/result-delivery.ts';
import type { ReplyDocument } from '../../domain/replies/reply-document.ts';
import type { ReplyFormats } from '../../domain/replies/result-reply.ts';
import type { TaskEvent } from '../../domain/task/events.ts';
import type { CommandClient } from '../runtime/command-client.ts';
import { followTaskEvents } from '../runtime/follow-task-events.ts';
import { AbortError, ProcessManagerHost } from '../runtime/process-manager-host.ts';
import { withChatRetries } from './thread-message.ts';

// Result delivery (domain/process/result-delivery.ts) on the process-manager host, with the
// ports that carry its effects out: the Slack post (looked for by its marker first when
// resumed, retried through rate limits and failures), the signed webhook POST, the NATS
// publish, and the Delivery's state from its aggregate host when a replay must look first.

export type { Outcome, ResultMessage } from '../../domain/process/result-delivery.ts';

export interface ResultReactorOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly commands: CommandClient;
  /** A Delivery's current state, from its aggregate host. */
  readonly deliveryState: (deliveryId: string) => Promise<DeliveryState>;
  readonly chat?: ChatPoster;
  readonly webhooks?: WebhookSender;
  /** Core NATS publish for `nats` reply targets. */
  readonly publish?: (subject: string, payload: Uint8Array) => void;
  /** Wait before webhook attempt n + 1 after attempt n failed with `outcome`. */
  readonly webhookDelayMs: (attempt: number, outcome: WebhookAttemptOutcome) => number;
  readonly webhookMaxAttempts?: number;
  readonly logger: Logger;
  /** The registered task types: their descriptors say how each one's result reads in the thread. */
  readonly taskTypes: ReplyFormats;
}

const MAX_CHAT_TRIES = 8;

export class ResultReactor {
  private readonly host: ProcessManagerHost<TaskEvent, ResultState, ResultEffect, ResultReply, WebhookRetry>;
  private readonly stopping = new AbortController();

  constructor(private readonly options: ResultReactorOptions) {
    const manager = resultDelivery({
      taskTypes: options.taskTypes,
      webhookMaxAttempts: options.webhookMaxAttempts ?? 5,
      webhookDelayMs: options.webhookDelayMs,
    });
    this.host = new ProcessManagerHost({
      manager: { ...manager, keepsEvents: resultKeepsEvents },
      follows: [followTaskEvents('result-reactor')],
      store: options.store,
      checkpoints: options.checkpoints,
      commands: options.commands,
      logger: options.logger,
      perform: (effect) => this.perform(effect),
    });
  }

  start(): Promise<void> {
    return this.host.start();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.host.stop();
  }

  private async perform(effect: ResultEffect): Promise<Exclude<ResultReply, CommandAnswer> | undefined> {
    switch (effect.type) {
      case 'look-up-delivery':
        return this.lookUp(effect.taskId);
      case 'post-reply':
        return this.post(effect.taskId, effect.thread, effect.document, effect.resumed);
      case 'send-webhook': {
        const sender = this.options.webhooks;
        if (!sender) throw new AbortError(`task ${effect.taskId} has a webhook target, but webhooks are not configured here`);
        return sender.send({ url: effect.url, deliveryId: effect.taskId, attempt: effect.attempt, body: effect.body });
      }
      case 'publish': {
        const publish = this.options.publish;
        if (!publish) throw new AbortError(`task ${effect.taskId} has a NATS target, but no NATS publisher is configured here`);
        publish(effect.subject, new TextEncoder().encode(JSON.stringify(effect.body)));
        return undefined;
      }
      case 'report': {
        const { level, taskId, message, url, attempts } = effect;
        this.options.logger[level]({ taskId, ...(url !== undefined && { url: redactUrl(url) }), ...(attempts !== undefined && { attempts }) }, message);
        return undefined;
      }
    }
  }

  private async lookUp(taskId: string): Promise<DeliveryLookedUp> {
    const state = await this.options.deliveryState(taskId);
    return { kind: 'delivery', finished: replyFinished(state), attempts: state.status === 'active' ? (state.reply?.attempts ?? 0) : 0 };
  }

  private async post(taskId: string, thread: ThreadRef, document: ReplyDocument, resumed: boolean): Promise<ReplyPostAnswer> {
    const chat = this.options.chat;
    if (!chat) return { kind: 'failed', error: `task ${taskId} answers in Slack, but no Slack front end is configured here` };
    const marker = { kind: 'result', deliveryId: taskId } as const;
    try {
      const posted: PostedMessage = await withChatRetries(
        { logger: this.options.logger, signal: this.stopping.signal },
        MAX_CHAT_TRIES,
        taskId,
        async (attempt) => {
          // Begun before and not recorded, or a try that failed: the post may have landed (just before a crash, or stored by Slack anyway).
          const landed = resumed || attempt > 1 ? await chat.findPosted(thread, marker) : undefined;
          return landed ?? (await chat.post(thread, document, marker));
        },
      );
      return { kind: 'posted', message: posted };
    } catch (error) {
      if (error instanceof ChatTargetGone) return { kind: 'gone', code: error.code };
      // Stopping: the host gives up on the effect, and the held checkpoint brings the task back after a restart.
      if (this.stopping.signal.aborted) throw error;
      return { kind: 'failed', error: error instanceof Error ? error.message : String(error) };
    }
  }
}

/** Webhook URLs may carry credentials or tokens in the query; logs get neither. */
const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparseable url)';
  }
};

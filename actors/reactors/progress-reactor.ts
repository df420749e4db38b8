import type { Logger } from 'pino';
import type { DeliveryState } from '../../domain/delivery/index.ts';
import type { ChatPoster } from '../../domain/ports/chat-poster.ts';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import type { EventStore } from '../../domain/ports/event-store.ts';
import { progressMessages, type ProgressReply, type ProgressState } from '../../domain/process/progress-messages.ts';
import type { ThreadEffect } from '../../domain/process/thread-messages.ts';
import type { TaskEvent } from '../../domain/task/events.ts';
import type { CommandClient } from '../runtime/command-client.ts';
import { followTaskEvents } from '../runtime/follow-task-events.ts';
import { ProcessManagerHost } from '../runtime/process-manager-host.ts';
import { logReport, performMessageEffect, type ThreadPort } from './thread-message.ts';

// The progress messages (domain/process/progress-messages.ts) on the process-manager host: it
// follows the task category under the progress reactor's checkpoint, which stays before a
// tracked task's TaskQueued until its final state is written; edits are due timers on the
// agenda, and the chat port tries each edit once (the manager schedules the next).

export interface ProgressReactorOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly commands: CommandClient;
  readonly chat: ChatPoster;
  /** A message's Delivery, from its aggregate host. */
  readonly deliveryState: (deliveryId: string) => Promise<DeliveryState>;
  readonly logger: Logger;
  /** Least time between two writes of one message; Slack allows about one per second per channel. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

const POST_TRIES = 8;

export class ProgressReactor {
  private readonly host: ProcessManagerHost<TaskEvent, ProgressState, ThreadEffect, ProgressReply, undefined>;
  private readonly stopping = new AbortController();

  constructor(options: ProgressReactorOptions) {
    const port: ThreadPort = {
      chatFor: () => options.chat,
      deliveryState: options.deliveryState,
      logger: options.logger,
      signal: this.stopping.signal,
      maxTries: { post: POST_TRIES, update: 1 },
    };
    this.host = new ProcessManagerHost({
      manager: progressMessages({ intervalMs: options.intervalMs ?? 2_000 }),
      follows: [followTaskEvents('progress-reactor')],
      store: options.store,
      checkpoints: options.checkpoints,
      commands: options.commands,
      logger: options.logger,
      perform: async (effect) => {
        if (effect.type === 'report') return logReport(options.logger, effect);
        if (effect.type === 'locate') return undefined; // a task's progress thread is named on the task itself
        return performMessageEffect(port, effect);
      },
      ...(options.now && { now: options.now }),
    });
  }

  start(): Promise<void> {
    return this.host.start();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.host.stop();
  }
}

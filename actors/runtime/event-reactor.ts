import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { jitteredBackoffMs, RESUBSCRIBE_BACKOFF } from '../../domain/backoff.ts';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import { comparePositions, type EventStore, type GlobalPosition, type RecordedEvent, type Subscription } from '../../domain/ports/event-store.ts';

// Follows one category of the log from a stored checkpoint and hands each event to a reactor.
// A reactor whose work outlives the handler (a reply waiting out a rate limit, a webhook
// retry) holds the event: the checkpoint never passes a held event, so after a crash the
// event is replayed and the work found again. Reactors are idempotent (their effects are
// recorded on aggregates), so replaying what was already done costs time, not duplicates.
// Nothing here may reject unobserved: a throwing handler, store or checkpoint store is logged
// and the reactor goes on (an unhandled rejection would end the process).

export interface Hold {
  release(): void;
}

export interface ReactorContext {
  /** Keeps the checkpoint before the event being handled until released. */
  hold(): Hold;
}

export interface EventReactorOptions {
  /** Checkpoint name; one per reactor. */
  readonly name: string;
  readonly category: string;
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly logger: Logger;
  readonly handle: (event: RecordedEvent, context: ReactorContext) => Promise<void> | void;
  /** How often the checkpoint is written while events flow; default 1 s. */
  readonly checkpointIntervalMs?: number;
}

export class EventReactor {
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private last: GlobalPosition | undefined;
  private saved: GlobalPosition | undefined;
  private readonly holds = new Set<{ resumeAfter: GlobalPosition | undefined }>();
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Wakes the wait between resubscriptions when stop() is called. */
  private readonly stopped = new AbortController();

  constructor(private readonly options: EventReactorOptions) {}

  async start(): Promise<void> {
    const { checkpoints, name } = this.options;
    this.saved = this.last = await checkpoints.load(name);
    this.timer = setInterval(() => void this.saveCheckpoint(), this.options.checkpointIntervalMs ?? 1_000);
    this.timer.unref();
    this.loop = this.follow().catch((error: unknown) => this.options.logger.error({ err: error, reactor: name }, 'reactor stopped following its category'));
  }

  /**
   * Follows the category after the last handled event. A subscription that ends or fails while
   * the reactor is not stopping (a broker restart, a consumer lost) is opened again from there,
   * with backoff; only stop() ends this loop.
   */
  private async follow(): Promise<void> {
    const { store, category, name, logger } = this.options;
    for (let failures = 0; !this.stopping; failures++) {
      let subscription: Subscription | undefined;
      try {
        subscription = store.subscribe({ category, ...(this.last ? { after: this.last } : {}) });
        this.subscription = subscription;
        for await (const message of subscription) {
          failures = 0;
          if (message.kind !== 'event') continue;
          const { event } = message;
          try {
            await this.options.handle(event, { hold: () => this.hold() });
          } catch (error) {
            logger.error({ err: error, reactor: name, eventId: event.id, type: event.type, stream: event.stream }, 'reactor failed to handle an event');
          }
          this.last = event.position;
        }
        if (!this.stopping) logger.warn({ reactor: name, after: this.last }, 'reactor subscription ended; subscribing again');
      } catch (error) {
        if (!this.stopping) logger.error({ err: error, reactor: name, after: this.last }, 'reactor subscription failed; subscribing again');
      } finally {
        await closeQuietly(subscription);
      }
      if (!this.stopping)
        await sleep(jitteredBackoffMs(failures, RESUBSCRIBE_BACKOFF, Math.random()), undefined, { signal: this.stopped.signal }).catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.abort();
    clearInterval(this.timer);
    await closeQuietly(this.subscription);
    await this.loop;
    await this.saveCheckpoint();
  }

  private hold(): Hold {
    const entry = { resumeAfter: this.last };
    this.holds.add(entry);
    return { release: () => void this.holds.delete(entry) };
  }

  /** Never rejects: a failed save is logged and tried again at the next interval. */
  private saveCheckpoint(): Promise<void> {
    this.saving = this.saving
      .then(() => this.writeCheckpoint())
      .catch((error: unknown) => this.options.logger.warn({ err: error, reactor: this.options.name }, 'could not save the reactor checkpoint; will retry'));
    return this.saving;
  }

  private async writeCheckpoint(): Promise<void> {
    let position = this.last;
    for (const held of this.holds) {
      // Held before anything was checkpointed: the next start must replay from the beginning.
      if (held.resumeAfter === undefined) return;
      if (position === undefined || comparePositions(held.resumeAfter, position) < 0) position = held.resumeAfter;
    }
    if (position === undefined || position === this.saved) return;
    await this.options.checkpoints.save(this.options.name, position);
    this.saved = position;
  }
}

/** Closes a subscription, whatever its close does (throws, rejects): it is being left anyway. */
const closeQuietly = async (subscription: Subscription | undefined): Promise<void> => {
  try {
    await subscription?.close();
  } catch {
    // Nothing to do: the subscription is abandoned either way.
  }
};

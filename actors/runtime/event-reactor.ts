import type { Logger } from 'pino';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import { comparePositions, type EventStore, type GlobalPosition, type RecordedEvent, type Subscription } from '../../domain/ports/event-store.ts';

// Follows one category of the log from a stored checkpoint and hands each event to a reactor.
// A reactor whose work outlives the handler (a reply waiting out a rate limit, a webhook
// retry) holds the event: the checkpoint never passes a held event, so after a crash the
// event is replayed and the work found again. Reactors are idempotent (their effects are
// recorded on aggregates), so replaying what was already done costs time, not duplicates.

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

  constructor(private readonly options: EventReactorOptions) {}

  async start(): Promise<void> {
    const { store, checkpoints, category, name } = this.options;
    this.saved = this.last = await checkpoints.load(name);
    const subscription = store.subscribe({ category, ...(this.last ? { after: this.last } : {}) });
    this.subscription = subscription;
    this.timer = setInterval(() => void this.saveCheckpoint(), this.options.checkpointIntervalMs ?? 1_000);
    this.timer.unref();
    this.loop = (async () => {
      for await (const message of subscription) {
        if (message.kind !== 'event') continue;
        const { event } = message;
        try {
          await this.options.handle(event, { hold: () => this.hold() });
        } catch (error) {
          this.options.logger.error({ err: error, reactor: name, eventId: event.id, type: event.type, stream: event.stream }, 'reactor failed to handle an event');
        }
        this.last = event.position;
      }
    })();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.subscription?.close();
    await this.loop;
    await this.saveCheckpoint();
  }

  private hold(): Hold {
    const entry = { resumeAfter: this.last };
    this.holds.add(entry);
    return { release: () => void this.holds.delete(entry) };
  }

  private saveCheckpoint(): Promise<void> {
    this.saving = this.saving.then(async () => {
      let position = this.last;
      for (const held of this.holds) {
        // Held before anything was checkpointed: the next start must replay from the beginning.
        if (held.resumeAfter === undefined) return;
        if (position === undefined || comparePositions(held.resumeAfter, position) < 0) position = held.resumeAfter;
      }
      if (position === undefined || position === this.saved) return;
      try {
        await this.options.checkpoints.save(this.options.name, position);
        this.saved = position;
      } catch (error) {
        this.options.logger.warn({ err: error, reactor: this.options.name }, 'could not save the reactor checkpoint; will retry');
      }
    });
    return this.saving;
  }
}

/** A reactor over the task category, for components that take the usual store, checkpoints and logger. */
export const taskEventReactor = (
  name: string,
  options: Pick<EventReactorOptions, 'store' | 'checkpoints' | 'logger'>,
  handle: (event: RecordedEvent, hold: () => Hold) => Promise<void> | void,
): EventReactor =>
  new EventReactor({ name, category: 'task', store: options.store, checkpoints: options.checkpoints, logger: options.logger, handle: (event, context) => handle(event, () => context.hold()) });

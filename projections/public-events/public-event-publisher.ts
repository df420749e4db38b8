import { isLeft } from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import { toPublicEvent } from '../../domain/events/cloud-event.ts';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import type { EventStore, GlobalPosition, RecordedEvent, Subscription } from '../../domain/ports/event-store.ts';
import type { PublicEventSink } from '../../domain/ports/public-event-sink.ts';
import { scrubValueWith, secretScrubber, type Scrub } from '../../domain/secrets/scrub-secrets.ts';
import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff.ts';

// Reactor: every recorded event, in log order, out to the public stream as a CloudEvent.
// Nothing is lost: an event counts as done only when the sink has acked it, a failed publish
// is retried with backoff for as long as it takes, and the checkpoint never passes an event
// that is not acked. Nothing is doubled for consumers: after a crash only the events since the
// last checkpoint go out again, with the same ids, and the sink drops repeats by id.
// The data goes out scrubbed (SE4): even an event recorded before executor output was scrubbed
// at the source shows outside consumers no secret value or credential shape.

export const PUBLIC_EVENTS_CHECKPOINT = 'public-events';

export interface PublicEventPublisherOptions {
  readonly store: EventStore;
  readonly sink: PublicEventSink;
  readonly checkpoints: CheckpointStore;
  readonly logger: Logger;
  /** CloudEvents `source`, e.g. `orch://orch`. */
  readonly source: string;
  readonly checkpointName?: string;
  /** Besides the store's own checkpoint messages, save progress at least this often. */
  readonly checkpointIntervalMs?: number;
  readonly backoff?: BackoffOptions;
  /** Secret values to hide in event data besides credential shapes (from `secretValuesOf(config)`). */
  readonly secretValues?: readonly string[];
}

export interface PublicEventCounts {
  published: number;
  /** Re-published events the sink already had (the tail after a crash). */
  duplicates: number;
  /** Events with no public form (unknown type, data not matching its schema); logged as errors. */
  skipped: number;
}

export class PublicEventPublisher {
  private readonly stopping = new AbortController();
  /** Settles when stop() is called; raced against publishes so stopping never waits for an ack timeout. */
  private readonly stopped = new Promise<'stopped'>((resolve) => this.stopping.signal.addEventListener('abort', () => resolve('stopped'), { once: true }));
  private readonly checkpointName: string;
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private last: GlobalPosition | undefined;
  private saved: GlobalPosition | undefined;
  private saving: Promise<void> = Promise.resolve();
  readonly counts: PublicEventCounts = { published: 0, duplicates: 0, skipped: 0 };
  private readonly scrub: Scrub;

  constructor(private readonly options: PublicEventPublisherOptions) {
    this.checkpointName = options.checkpointName ?? PUBLIC_EVENTS_CHECKPOINT;
    this.scrub = secretScrubber(options.secretValues ?? []);
  }

  async start(): Promise<void> {
    this.saved = this.last = await this.options.checkpoints.load(this.checkpointName);
    this.options.logger.info({ after: this.last ?? 'start' }, 'publishing public events');
    this.loop = this.run();
    this.timer = setInterval(() => void this.saveCheckpoint(), this.options.checkpointIntervalMs ?? 5_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.timer);
    await this.subscription?.close();
    await this.loop;
    await this.saveCheckpoint();
  }

  /** Subscribes from the last done event; if the subscription breaks, waits and subscribes again from there. */
  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    for (let failures = 0; !signal.aborted; failures++) {
      const subscription = this.options.store.subscribe(this.last ? { after: this.last } : {});
      this.subscription = subscription;
      try {
        for await (const message of subscription) {
          failures = 0;
          if (message.kind === 'event') {
            if (!(await this.publish(message.event))) break;
            this.last = message.event.position;
          } else if (message.kind === 'checkpoint') {
            this.last = message.position;
            await this.saveCheckpoint();
          } else {
            this.options.logger.info({ ...this.counts }, 'public events caught up');
          }
        }
        if (!signal.aborted) this.options.logger.warn({ after: this.last }, 'event subscription ended; subscribing again');
      } catch (error) {
        if (!signal.aborted) this.options.logger.error({ err: error, after: this.last }, 'event subscription failed; subscribing again');
      } finally {
        await subscription.close().catch(() => undefined);
      }
      if (!signal.aborted) await sleep(backoffDelay(failures, this.options.backoff ?? DEFAULT_BACKOFF), signal);
    }
  }

  /** True once the event is handled for good; false only when stopping cut the retries short. */
  private async publish(event: RecordedEvent): Promise<boolean> {
    const signal = this.stopping.signal;
    const outgoing = toPublicEvent(event, this.options.source);
    if (isLeft(outgoing)) {
      // Retrying cannot fix it and waiting would hold back every later event, so it is left out
      // loudly: the fix is a catalog entry (or an upcaster), then a re-run from an earlier checkpoint.
      this.counts.skipped++;
      this.options.logger.error(
        { eventId: event.id, type: event.type, stream: event.stream, position: event.position, reason: outgoing.left },
        'event has no public form; not published',
      );
      return true;
    }
    const { cloudEvent } = outgoing.right;
    const scrubbed = { ...outgoing.right, cloudEvent: { ...cloudEvent, data: scrubValueWith(cloudEvent.data, this.scrub) } };
    for (let failures = 0; ; failures++) {
      try {
        const result = signal.aborted ? 'stopped' : await Promise.race([this.options.sink.publish(scrubbed), this.stopped]);
        // Stopping while a publish is in flight: not counted as done; the next start sends it again.
        if (result === 'stopped') return false;
        if (result.duplicate) this.counts.duplicates++;
        else this.counts.published++;
        return true;
      } catch (error) {
        if (signal.aborted) return false;
        this.options.logger.warn({ err: error, eventId: event.id, type: event.type, failures: failures + 1 }, 'publishing a public event failed; retrying');
        await sleep(backoffDelay(failures, this.options.backoff ?? DEFAULT_BACKOFF), signal);
      }
    }
  }

  /** Saves the last done position; saves run one at a time, and a failed save is tried again next time. */
  private saveCheckpoint(): Promise<void> {
    this.saving = this.saving.then(async () => {
      const position = this.last;
      if (position === undefined || position === this.saved) return;
      try {
        await this.options.checkpoints.save(this.checkpointName, position);
        this.saved = position;
      } catch (error) {
        this.options.logger.warn({ err: error, position }, 'saving the public-events checkpoint failed');
      }
    });
    return this.saving;
  }
}

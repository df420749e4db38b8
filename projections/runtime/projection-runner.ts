import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { comparePositions, type EventStore, type GlobalPosition, type RecordedEvent, type Subscription } from '../../domain/ports/event-store.ts';
import type { Change, Doc, ProjectionDefinition, ReadModelView } from './projection.ts';
import type { CommitPoint, ReadModelBucket } from './read-model-storage.ts';

// Runs one projection into one bucket: subscribes through the event-store port after the
// bucket's last commit, folds each event, and commits the changed documents in batches (at most
// `flushEveryMs` apart, sooner when a batch grows). Events at or before the committed position
// are skipped, so a redelivered event changes nothing.

export interface ProjectionRunnerOptions {
  readonly definition: ProjectionDefinition;
  readonly store: EventStore;
  readonly bucket: ReadModelBucket;
  readonly logger: Logger;
  readonly flushEveryMs?: number;
  /** A batch is committed once this many documents changed in it. */
  readonly maxBatchDocs?: number;
  /** While catching up (a first build or a rebuild) batches are larger: nobody reads them yet, and fewer commits replay faster. */
  readonly catchUpFlushEveryMs?: number;
  readonly catchUpBatchDocs?: number;
  /** …or once this many events were applied since the last commit, so a long replay keeps a recent restart point. */
  readonly catchUpBatchEvents?: number;
  readonly cacheSize?: number;
}

export class ProjectionRunner {
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private point: CommitPoint | undefined;
  private eventsApplied = 0;
  private lastEventAt: string | undefined;
  private position: GlobalPosition | undefined;
  private pending = new Map<string, Doc | undefined>();
  /** The batch being written while the next one fills: commits overlap with folding. */
  private committing: Map<string, Doc | undefined> | undefined;
  private commitDone: Promise<void> = Promise.resolve();
  private commitError: Error | undefined;
  private readonly cache: LRUCache<string, Doc>;
  private lastFlush = Date.now();
  private flushTimer: NodeJS.Timeout | undefined;
  private serial: Promise<unknown> = Promise.resolve();
  private live = false;
  private caughtUp = false;
  private stopping = false;
  private lastEventSeen = Date.now();
  private checkingHead = false;
  private failure: Error | undefined;
  private readonly liveWaiters: ((error?: Error) => void)[] = [];
  private readonly view: ReadModelView;
  /** Every key the bucket holds or will hold once pending commits land: any other key is absent. */
  private written = new Set<string>();

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.cache = new LRUCache({ max: options.cacheSize ?? 50_000 });
    this.view = { get: (key) => this.get(key) };
  }

  get bucket(): ReadModelBucket {
    return this.options.bucket;
  }

  /** Where the model stands, including events applied but not yet committed. */
  progress(): { position?: GlobalPosition; eventsApplied: number; lastEventAt?: string; live: boolean; committed?: CommitPoint } {
    return { position: this.position, eventsApplied: this.eventsApplied, lastEventAt: this.lastEventAt, live: this.live, committed: this.point };
  }

  async start(): Promise<void> {
    this.point = await this.options.bucket.recover();
    // The keys in the bucket (none for a first build), so a miss in the cache needs no round trip.
    this.written = new Set(this.point ? await this.options.bucket.keys() : []);
    this.position = this.point?.position;
    this.eventsApplied = this.point?.eventsApplied ?? 0;
    this.lastEventAt = this.point?.lastEventAt;
    const flushEveryMs = this.options.flushEveryMs ?? 100;
    this.flushTimer = setInterval(() => {
      const interval = this.live ? flushEveryMs : (this.options.catchUpFlushEveryMs ?? 1_000);
      if ((this.pending.size > 0 || (this.caughtUp && !this.live)) && (this.caughtUp || Date.now() - this.lastFlush >= interval)) void this.flushSafely();
      if (!this.caughtUp && Date.now() - this.lastEventSeen >= 1_000) void this.checkHead();
    }, flushEveryMs);
    this.loop = this.follow().catch((error: unknown) => {
      this.failure = error as Error;
      this.options.logger.error({ err: error, projection: this.options.definition.name, bucket: this.options.bucket.id }, 'projection stopped');
      for (const waiter of this.liveWaiters.splice(0)) waiter(this.failure);
    });
  }

  /**
   * A second way to notice the end of the log: when events stop coming, compare with the head.
   * The subscription's own caught-up signal has been seen to go missing on an overloaded machine.
   */
  private async checkHead(): Promise<void> {
    if (this.checkingHead) return;
    this.checkingHead = true;
    try {
      const { category } = this.options.definition;
      const head = await this.options.store.headPosition(category ? { category } : {});
      if (!this.caughtUp && (head === undefined || (this.position !== undefined && comparePositions(this.position, head) >= 0))) {
        this.caughtUp = true;
        await this.flushSafely();
      }
    } catch (error) {
      this.options.logger.warn({ err: error, projection: this.options.definition.name }, 'could not read the head of the log');
    } finally {
      this.lastEventSeen = Date.now();
      this.checkingHead = false;
    }
  }

  /**
   * Follows the log after the last applied event. A subscription that ends without being
   * closed (a consumer lost under load, a server restart) is opened again from where the model is.
   */
  private async follow(): Promise<void> {
    const { category } = this.options.definition;
    while (!this.stopping) {
      const subscription = this.options.store.subscribe({ ...(category ? { category } : {}), ...(this.position ? { after: this.position } : {}) });
      this.subscription = subscription;
      try {
        for await (const message of subscription) {
          if (message.kind === 'event') {
            this.lastEventSeen = Date.now();
            await this.exclusive(() => this.apply(message.event));
          } else if (message.kind === 'caughtUp') {
            this.caughtUp = true;
            await this.flushSafely();
          }
        }
      } catch (error) {
        // A broken subscription (the broker restarting) is followed again, not the end of the model.
        if (this.stopping) return;
        this.options.logger.warn(
          { err: error, projection: this.options.definition.name, position: this.position },
          'event subscription failed; following again',
        );
      }
      if (this.stopping) return;
      this.options.logger.warn(
        { projection: this.options.definition.name, bucket: this.options.bucket.id, position: this.position },
        'event subscription ended; following again',
      );
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 800));
    }
  }

  /** Resolves once the model has caught up with the log and committed what it applied. */
  untilLive(): Promise<void> {
    if (this.live) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.liveWaiters.push((error) => (error ? reject(error) : resolve())));
  }

  /** Commits what is pending; afterwards the bucket holds every event applied so far. */
  settle(): Promise<void> {
    return this.exclusive(() => this.flush());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.flushTimer);
    await this.subscription?.close();
    await this.loop;
    await this.exclusive(() => this.flush());
  }

  /** Commits what is pending; a store that is down is tried again on the next tick, nothing is dropped. */
  private async flushSafely(): Promise<void> {
    try {
      await this.exclusive(() => this.flush());
      if (this.caughtUp) this.becomeLive();
    } catch {
      // Logged where the commit failed; the batch is back in `pending` for the next tick.
    }
  }

  private becomeLive(): void {
    if (this.live) return;
    this.live = true;
    for (const waiter of this.liveWaiters.splice(0)) waiter();
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.serial.then(work);
    this.serial = next.catch(() => undefined);
    return next;
  }

  private async get(key: string): Promise<Doc | undefined> {
    if (this.pending.has(key)) return this.pending.get(key);
    if (this.committing?.has(key)) return this.committing.get(key);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    if (!this.written.has(key)) return undefined;
    const doc = await this.options.bucket.get(key);
    if (doc) this.cache.set(key, doc);
    return doc;
  }

  private async apply(event: RecordedEvent): Promise<void> {
    if (this.position !== undefined && comparePositions(event.position, this.position) <= 0) return;
    let changes: readonly Change[];
    try {
      changes = await this.options.definition.apply(event, this.view);
    } catch (error) {
      // A fold that throws on one event must not stop the model; the event is logged and passed.
      this.options.logger.error(
        { err: error, projection: this.options.definition.name, eventId: event.id, type: event.type },
        'projection skipped an event it could not apply',
      );
      changes = [];
    }
    for (const change of changes) {
      this.pending.set(change.key, change.doc);
      if (change.doc === undefined) this.written.delete(change.key);
      else this.written.add(change.key);
    }
    this.position = event.position;
    this.lastEventAt = event.recordedAt;
    this.eventsApplied += 1;
    const sinceCommit = this.eventsApplied - (this.point?.eventsApplied ?? 0);
    const full = this.live
      ? this.pending.size >= (this.options.maxBatchDocs ?? 2_000)
      : this.pending.size >= (this.options.catchUpBatchDocs ?? 20_000) || (!this.committing && sinceCommit >= (this.options.catchUpBatchEvents ?? 10_000));
    if (full) {
      await this.beginCommit();
    }
  }

  /** Commits everything applied so far and waits for it; throws when the store refused. */
  private async flush(): Promise<void> {
    await this.beginCommit();
    await this.commitDone;
    if (this.commitError) throw this.commitError;
  }

  /** Starts committing what is pending once the commit before it is done; does not wait for the write. */
  private async beginCommit(): Promise<void> {
    this.lastFlush = Date.now();
    await this.commitDone;
    if (this.position === undefined || this.lastEventAt === undefined) return;
    if (this.point && this.point.eventsApplied === this.eventsApplied) return;
    const batch = this.pending;
    this.pending = new Map();
    this.committing = batch;
    this.commitError = undefined;
    const point: CommitPoint = { position: this.position, eventsApplied: this.eventsApplied, lastEventAt: this.lastEventAt };
    const changes = [...batch].map(([key, doc]) => ({ key, doc }));
    this.commitDone = this.options.bucket.commit({ ...point, changes }).then(
      () => {
        for (const { key, doc } of changes) {
          if (doc) this.cache.set(key, doc);
          else this.cache.delete(key);
        }
        this.point = point;
        this.committing = undefined;
      },
      (error: unknown) => {
        // Nothing is dropped: the batch goes back under what was applied since, to be committed with it.
        this.pending = new Map([...batch, ...this.pending]);
        this.committing = undefined;
        this.commitError = error as Error;
        this.options.logger.warn(
          { err: error, projection: this.options.definition.name, bucket: this.options.bucket.id },
          'read model commit failed; retrying',
        );
      },
    );
  }
}

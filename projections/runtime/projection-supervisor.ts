import type { Logger } from 'pino';
import type { Clock } from '../../domain/ports/clock.ts';
import type { EventStore } from '../../domain/ports/event-store.ts';
import type { ProjectionDefinition } from './projection.ts';
import { ProjectionRunner } from './projection-runner.ts';
import type { BucketRef, ProjectionProgress, ProjectionRecord, ReadModelBucket, ReadModelStorage } from './read-model-storage.ts';

// Keeps one projection's model serving and rebuilds it beside the live one: a rebuild replays
// from the first event into a new bucket (next generation, current version) while the active
// bucket keeps answering; once the new one has caught up, the record points queries at it and
// the old bucket is dropped. A restart resumes a rebuild where its last commit left it, and a
// bumped version starts one.

export class RebuildInProgress extends Error {
  override readonly name = 'RebuildInProgress';
  constructor(projection: string, generation: number) {
    super(`projection ${projection} is already being rebuilt (generation ${generation}); watch it with "orch projections status"`);
  }
}

export interface ProjectionSupervisorOptions {
  readonly definition: ProjectionDefinition;
  readonly store: EventStore;
  readonly storage: ReadModelStorage;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly flushEveryMs?: number;
  /** How often progress is reported for `projections status`. */
  readonly reportEveryMs?: number;
}

export class ProjectionSupervisor {
  private record: ProjectionRecord | undefined;
  private revision = 0;
  private active: ProjectionRunner | undefined;
  /** The bucket answering queries; differs from `active`'s when the version was bumped and the old one is serving frozen. */
  private serving: ReadModelBucket | undefined;
  private rebuild: { runner?: ProjectionRunner; done: Promise<void> } | undefined;
  private reporter: NodeJS.Timeout | undefined;
  private readonly lastReported = new Map<ProjectionRunner, { at: number; events: number }>();
  private stopped = false;

  constructor(private readonly options: ProjectionSupervisorOptions) {}

  get name(): string {
    return this.options.definition.name;
  }

  /** The bucket queries read from. */
  servingBucket(): ReadModelBucket | undefined {
    return this.serving;
  }

  async start(): Promise<void> {
    const { definition, storage } = this.options;
    const loaded = await storage.loadRecord(definition.name);
    if (!loaded) {
      this.record = { name: definition.name, active: { version: definition.version, generation: 1 } };
      this.revision = await storage.saveRecord(this.record, 0);
    } else {
      this.record = loaded.record;
      this.revision = loaded.revision;
    }
    const record = this.record;
    if (record.active.version === definition.version) {
      this.active = await this.startRunner(record.active);
      this.serving = this.active.bucket;
    } else {
      // The old version's fold is gone with the old code: its bucket answers, frozen, until the rebuild swaps.
      this.serving = await storage.existingBucket(definition.name, record.active);
    }
    if (record.rebuilding) this.resumeRebuild(record.rebuilding);
    else if (record.active.version !== definition.version) await this.startRebuild(`version ${record.active.version} → ${definition.version}`);
    this.reporter = setInterval(() => void this.report(), this.options.reportEveryMs ?? 1_000);
  }

  /** Starts a rebuild of the current version beside the serving model. */
  async requestRebuild(reason: string): Promise<BucketRef> {
    if (this.record?.rebuilding) throw new RebuildInProgress(this.name, this.record.rebuilding.generation);
    return this.startRebuild(reason);
  }

  /** Resolves when the rebuild under way (if any) has swapped in. */
  async rebuildFinished(): Promise<void> {
    await this.rebuild?.done;
  }

  /** Reports of the runners, for status. */
  progress(): ProjectionProgress[] {
    const reports: ProjectionProgress[] = [];
    const nowIso = this.options.clock.now();
    const now = Date.parse(nowIso);
    for (const [runner, ref] of this.runners()) {
      const p = runner.progress();
      const last = this.lastReported.get(runner);
      const rate = last && now > last.at ? ((p.eventsApplied - last.events) * 1000) / (now - last.at) : 0;
      reports.push({
        name: this.name,
        version: ref.version,
        generation: ref.generation,
        state: this.stopped ? 'stopped' : p.live ? 'live' : 'catching-up',
        ...(p.position ? { position: p.position } : {}),
        eventsApplied: p.eventsApplied,
        ...(p.lastEventAt ? { lastEventAt: p.lastEventAt } : {}),
        rate: Math.max(0, Math.round(rate)),
        updatedAt: nowIso,
      });
    }
    return reports;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reporter);
    await Promise.all([this.active?.stop(), this.rebuild?.runner?.stop()]);
    await this.report();
  }

  private *runners(): Generator<[ProjectionRunner, BucketRef]> {
    if (this.active && this.record) yield [this.active, this.record.active];
    if (this.rebuild?.runner && this.record?.rebuilding) yield [this.rebuild.runner, this.record.rebuilding];
  }

  private async report(): Promise<void> {
    const reports = this.progress();
    const now = Date.parse(this.options.clock.now());
    for (const [runner] of this.runners()) this.lastReported.set(runner, { at: now, events: runner.progress().eventsApplied });
    await Promise.all(reports.map((r) => this.options.storage.saveProgress(r))).catch((error: unknown) =>
      this.options.logger.warn({ err: error, projection: this.name }, 'could not report projection progress'),
    );
  }

  private async startRunner(ref: BucketRef): Promise<ProjectionRunner> {
    const bucket = await this.options.storage.bucket(this.name, ref);
    const runner = new ProjectionRunner({
      definition: this.options.definition,
      store: this.options.store,
      bucket,
      logger: this.options.logger,
      ...(this.options.flushEveryMs ? { flushEveryMs: this.options.flushEveryMs } : {}),
    });
    await runner.start();
    return runner;
  }

  private async startRebuild(reason: string): Promise<BucketRef> {
    const record = this.record!;
    const ref: BucketRef = { version: this.options.definition.version, generation: record.active.generation + 1 };
    this.record = { ...record, rebuilding: { ...ref, startedAt: this.options.clock.now(), reason } };
    this.revision = await this.options.storage.saveRecord(this.record, this.revision);
    this.options.logger.info({ projection: this.name, ...ref, reason }, 'rebuild started beside the serving model');
    this.resumeRebuild(ref);
    return ref;
  }

  private resumeRebuild(ref: BucketRef): void {
    const rebuild: { runner?: ProjectionRunner; done: Promise<void> } = { done: Promise.resolve() };
    this.rebuild = rebuild;
    rebuild.done = (async () => {
      const runner = await this.startRunner(ref);
      rebuild.runner = runner;
      await runner.untilLive();
      await this.swap(runner, ref);
    })().catch((error: unknown) => {
      if (!this.stopped) this.options.logger.error({ err: error, projection: this.name, ...ref }, 'rebuild failed; the serving model keeps answering');
    });
  }

  private async swap(runner: ProjectionRunner, ref: BucketRef): Promise<void> {
    if (this.stopped) return;
    // Report before the swap, so whoever sees the swap also finds the rebuild's final figures.
    await this.report();
    const old = { runner: this.active, ref: this.record!.active, bucket: this.serving };
    const { rebuilding: _, ...rest } = this.record!;
    this.record = { ...rest, active: ref, swappedAt: this.options.clock.now() };
    this.revision = await this.options.storage.saveRecord(this.record, this.revision);
    this.active = runner;
    this.serving = runner.bucket;
    this.rebuild = undefined;
    this.lastReported.delete(runner);
    await old.runner?.stop();
    if (old.runner) this.lastReported.delete(old.runner);
    await old.bucket
      ?.drop()
      .catch((error: unknown) => this.options.logger.warn({ err: error, projection: this.name, ...old.ref }, 'could not drop the old read model'));
    this.options.logger.info({ projection: this.name, from: old.ref, to: ref }, 'rebuilt model swapped in; queries read it now');
  }
}

import type { GlobalPosition } from '../../domain/ports/event-store.ts';
import type { Change, Doc } from './projection.ts';

// Where read models live, as the projection runtime needs it. One bucket per projection
// version and generation, so a rebuild writes beside the model that keeps answering.

/** How far a model has got: the last event applied and how many events it has applied in all. */
export interface CommitPoint {
  readonly position: GlobalPosition;
  readonly eventsApplied: number;
  /** `recordedAt` of the last event applied. */
  readonly lastEventAt: string;
}

export interface BatchCommit extends CommitPoint {
  readonly changes: readonly Change[];
}

export interface ReadModelBucket {
  /** Identifies the bucket in status output and logs. */
  readonly id: string;
  get(key: string): Promise<Doc | undefined>;
  /**
   * Records the batch as one commit, then writes its documents. After a crash between the two,
   * `recover` writes them again, so a model is never half a batch ahead of its position.
   */
  commit(batch: BatchCommit): Promise<void>;
  /** Re-writes the last commit's documents and says where the model left off. */
  recover(): Promise<CommitPoint | undefined>;
  keys(prefix?: string): Promise<string[]>;
  /** Removes the bucket and its commit. */
  drop(): Promise<void>;
}

/** Which bucket answers for a projection, and the rebuild under way if any. */
export interface ProjectionRecord {
  readonly name: string;
  readonly active: BucketRef;
  readonly rebuilding?: BucketRef & { readonly startedAt: string; readonly reason: string };
  /** When the active bucket last changed. */
  readonly swappedAt?: string;
}

export interface BucketRef {
  readonly version: number;
  readonly generation: number;
}

/** What a running projection reports about itself, for `projections status`. */
export interface ProjectionProgress {
  readonly name: string;
  readonly version: number;
  readonly generation: number;
  readonly state: 'catching-up' | 'live' | 'stopped';
  readonly position?: GlobalPosition;
  readonly eventsApplied: number;
  readonly lastEventAt?: string;
  /** Events per second over the last reporting interval. */
  readonly rate: number;
  readonly updatedAt: string;
}

export interface ReadModelStorage {
  bucket(name: string, ref: BucketRef): Promise<ReadModelBucket>;
  /** Opens a bucket only if it exists (for queries and status). */
  existingBucket(name: string, ref: BucketRef): Promise<ReadModelBucket | undefined>;
  loadRecord(name: string): Promise<{ readonly record: ProjectionRecord; readonly revision: number } | undefined>;
  /** Compare-and-set: `expectedRevision` 0 creates; fails with RecordChanged when someone else wrote first. */
  saveRecord(record: ProjectionRecord, expectedRevision: number): Promise<number>;
  saveProgress(progress: ProjectionProgress): Promise<void>;
  loadProgress(name: string, ref: BucketRef): Promise<ProjectionProgress | undefined>;
}

export class RecordChanged extends Error {
  override readonly name = 'RecordChanged';
  constructor(projection: string) {
    super(`the record of projection ${projection} changed underneath; another process is managing it`);
  }
}

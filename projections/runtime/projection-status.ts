import type { EventStore, GlobalPosition } from '../../domain/ports/event-store.ts';
import type { ProjectionDefinition } from './projection.ts';
import type { BucketRef, ReadModelStorage } from './read-model-storage.ts';

// Status per projection for ops, computed from what is stored (so it works while the
// projections role is down, which is when lag matters most): the serving model's committed
// position, the events after it in the log (counted up to a cap), and a rebuild under way.

export const LAG_COUNT_CAP = 100_000;

export interface ModelStatus {
  readonly version: number;
  readonly generation: number;
  readonly state: 'live' | 'catching-up' | 'stopped' | 'not started';
  readonly position?: GlobalPosition;
  readonly eventsApplied: number;
  /** Events in the log after the model's position; `LAG_COUNT_CAP` means at least that many. */
  readonly lagEvents: number;
  /** Age of the oldest event the model has not applied; 0 when none. */
  readonly lagSeconds: number;
  /** Events per second at the last report. */
  readonly rate: number;
  readonly reportedAt?: string;
}

export interface ProjectionStatus {
  readonly name: string;
  readonly description: string;
  readonly codeVersion: number;
  readonly serving?: ModelStatus;
  readonly rebuilding?: ModelStatus & { readonly startedAt: string; readonly reason: string };
}

export async function projectionStatus(
  definitions: readonly ProjectionDefinition[],
  storage: ReadModelStorage,
  store: EventStore,
  now: string,
): Promise<ProjectionStatus[]> {
  const statuses: ProjectionStatus[] = [];
  for (const definition of definitions) {
    const loaded = await storage.loadRecord(definition.name);
    const base = { name: definition.name, description: definition.description, codeVersion: definition.version };
    if (!loaded) {
      statuses.push(base);
      continue;
    }
    const { record } = loaded;
    const serving = await modelStatus(definition, record.active, storage, store, now);
    const rebuilding = record.rebuilding
      ? { ...(await modelStatus(definition, record.rebuilding, storage, store, now)), startedAt: record.rebuilding.startedAt, reason: record.rebuilding.reason }
      : undefined;
    statuses.push({ ...base, serving, ...(rebuilding ? { rebuilding } : {}) });
  }
  return statuses;
}

async function modelStatus(definition: ProjectionDefinition, ref: BucketRef, storage: ReadModelStorage, store: EventStore, now: string): Promise<ModelStatus> {
  const bucket = await storage.existingBucket(definition.name, ref);
  // Reading the commit point only; `recover` would rewrite documents, which status must not do.
  const progress = await storage.loadProgress(definition.name, ref);
  const position = progress?.position;
  const behind = await store.readAll({
    ...(position ? { after: position } : {}),
    ...(definition.category ? { category: definition.category } : {}),
    maxCount: LAG_COUNT_CAP,
  });
  const oldest = behind[0];
  return {
    ...ref,
    state: !bucket ? 'not started' : (progress?.state ?? 'not started'),
    ...(position ? { position } : {}),
    eventsApplied: progress?.eventsApplied ?? 0,
    lagEvents: behind.length,
    lagSeconds: oldest ? Math.max(0, (Date.parse(now) - Date.parse(oldest.recordedAt)) / 1000) : 0,
    rate: progress?.rate ?? 0,
    ...(progress?.updatedAt ? { reportedAt: progress.updatedAt } : {}),
  };
}

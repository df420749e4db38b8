import type { Logger } from 'pino';
import { NO_STREAM } from '../../domain/ports/event-store.ts';
import type { Snapshot, SnapshotStore } from '../../domain/ports/snapshot-store.ts';
import type { StreamName } from '../../domain/streams.ts';
import type { SnapshotPolicy } from './aggregate-definition.ts';
import type { AppliedCommand, LoadedAggregate } from './loaded-aggregate.ts';

// Reads and takes one aggregate type's snapshots. Snapshots are a cache: every failure here is
// a warning and a longer fold, never a failed command.

export const DEFAULT_SNAPSHOT_EVERY = 100;

export interface UsableSnapshot<State> {
  readonly snapshot: Snapshot;
  readonly state: State;
}

export class AggregateSnapshots<State> {
  private readonly saving = new Map<StreamName, Promise<void>>();
  readonly every: number;

  constructor(
    private readonly store: SnapshotStore,
    private readonly policy: SnapshotPolicy<State>,
    private readonly logger: Logger,
  ) {
    this.every = policy.every ?? DEFAULT_SNAPSHOT_EVERY;
    if (!(Number.isInteger(this.every) && this.every > 0)) throw new Error(`snapshot.every must be a positive integer, not ${this.every}`);
  }

  /** The stream's snapshot with its state decoded; undefined when there is none or it cannot be used. */
  async load(stream: StreamName): Promise<UsableSnapshot<State> | undefined> {
    let snapshot: Snapshot | undefined;
    try {
      snapshot = await this.store.load(stream);
    } catch (error) {
      this.logger.warn({ err: error, stream }, 'snapshot ignored: it cannot be read; folding the stream from the start');
      return undefined;
    }
    if (!snapshot) return undefined;
    if (snapshot.version !== this.policy.version) {
      this.logger.warn(
        { stream, version: snapshot.version, expected: this.policy.version },
        'snapshot ignored: taken by another snapshot version; folding the stream from the start',
      );
      return undefined;
    }
    try {
      const state = this.policy.decode ? this.policy.decode(snapshot.state) : (snapshot.state as State);
      return { snapshot, state };
    } catch (error) {
      this.logger.warn({ err: error, stream }, 'snapshot ignored: its state cannot be decoded; folding the stream from the start');
      return undefined;
    }
  }

  /**
   * Starts saving a snapshot of `loaded` in the background when the stream has grown `every`
   * events past the last one, and returns it marked as covered; otherwise returns it as it is.
   */
  takeIfDue(stream: StreamName, loaded: LoadedAggregate<State>): LoadedAggregate<State> {
    const { revision, last } = loaded;
    if (revision === NO_STREAM || !last || this.saving.has(stream)) return loaded;
    if (revision - (loaded.snapshotRevision ?? -1n) < BigInt(this.every)) return loaded;
    // The state is immutable; the command map is not, so it is copied now.
    const commands = [...loaded.commands].map(([commandId, c]: [string, AppliedCommand]) => ({ commandId, revision: c.revision, events: c.events }));
    // Encoding and writing wait for the next turn, so the command's reply does not wait for them.
    const saved = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        const state = this.policy.encode ? this.policy.encode(loaded.state) : loaded.state;
        return this.store.save(stream, { revision, position: last.position, eventId: last.eventId, version: this.policy.version, state, commands });
      })
      .catch((error: unknown) =>
        this.logger.warn({ err: error, stream, revision: revision.toString() }, 'snapshot not saved; loads fold a longer tail until the next one'),
      )
      .finally(() => this.saving.delete(stream));
    this.saving.set(stream, saved);
    return { ...loaded, snapshotRevision: revision };
  }

  /** Waits for the snapshots being saved. */
  async idle(): Promise<void> {
    await Promise.all(this.saving.values());
  }
}

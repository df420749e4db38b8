import type { GlobalPosition } from './event-store.ts';
import type { StreamName } from '../streams.ts';

// Snapshots of aggregate state, so loading a long stream reads only its tail. They are a
// cache: disposable, versioned, never the source of truth. A lost, stale or unreadable one
// costs a full fold of the stream, nothing else.

export interface Snapshot {
  /** Revision of the last event folded into `state`. */
  readonly revision: bigint;
  /** Position of that event, so the store can seek to it. */
  readonly position: GlobalPosition;
  /** Id of that event: a snapshot whose event is not in the stream belongs to another history. */
  readonly eventId: string;
  /** The aggregate's snapshot version when it was taken; any other version is ignored. */
  readonly version: number;
  /** The aggregate's state, encoded by its definition; JSON-serialisable. */
  readonly state: unknown;
  /** The latest commands folded in, oldest first, so that a retried one is still recognised. */
  readonly commands: readonly SnapshotCommand[];
}

export interface SnapshotCommand {
  readonly commandId: string;
  /** Revision of the command's last event. */
  readonly revision: bigint;
  /** How many events it appended. */
  readonly events: number;
}

export interface SnapshotStore {
  /** The latest snapshot of `stream`, if any. Throws `UnreadableSnapshot` when one is stored but cannot be read. */
  load(stream: StreamName): Promise<Snapshot | undefined>;
  /** Replaces the stream's snapshot. */
  save(stream: StreamName, snapshot: Snapshot): Promise<void>;
}

export class UnreadableSnapshot extends Error {
  override readonly name = 'UnreadableSnapshot';
  constructor(
    readonly stream: string,
    readonly reason: string,
  ) {
    super(`snapshot of ${stream} cannot be read: ${reason}`);
  }
}

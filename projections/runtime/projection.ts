import type { RecordedEvent } from '../../domain/ports/event-store.ts';

// A projection is a pure fold of events into a keyed read model. `apply` reads the model as it
// stands before the event (through `view`) and says which documents change; the runner stores
// them, checkpoints, and makes replays idempotent. Nothing in a projection performs I/O.

/** A read-model document: plain JSON. */
export type Doc = Record<string, unknown>;

/** Set a document, or delete it with `doc: undefined`. */
export interface Change {
  readonly key: string;
  readonly doc: Doc | undefined;
}

/** The model as it stands before the event being applied (including earlier changes not yet stored). */
export interface ReadModelView {
  get(key: string): Promise<Doc | undefined>;
}

export interface ProjectionDefinition {
  /** Also the query subject: `<prefix>.query.<name>`. Lowercase, digits and `-`. */
  readonly name: string;
  /** Bump when `apply` changes meaning: the model is rebuilt beside the old one, then swapped. */
  readonly version: number;
  readonly description: string;
  /** Only events of this stream category reach `apply` (all categories when absent). */
  readonly category?: string;
  apply(event: RecordedEvent, view: ReadModelView): Promise<readonly Change[]>;
}

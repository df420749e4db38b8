import type { StreamName } from '../streams.ts';

// The event-store port: one contract, implemented by the JetStream and EventStoreDB adapters
// and checked by one shared contract suite (test/contract/event-store.contract.ts).

export const NO_STREAM = 'no_stream' as const;
export const STREAM_EXISTS = 'stream_exists' as const;
export const ANY = 'any' as const;

/** Revisions are 0-based and dense per stream. Domain code never appends with ANY. */
export type ExpectedRevision = typeof NO_STREAM | typeof STREAM_EXISTS | typeof ANY | bigint;
export type ActualRevision = typeof NO_STREAM | bigint;

/**
 * A global position: opaque and ordered. Compare with `comparePositions`; store as a string.
 * Each adapter encodes its own coordinates so that string order is log order.
 */
export type GlobalPosition = string & { readonly __brand: 'GlobalPosition' };

export const comparePositions = (a: GlobalPosition, b: GlobalPosition): number => (a < b ? -1 : a > b ? 1 : 0);

export interface EventMetadata {
  readonly correlationId: string;
  readonly causationId: string;
  readonly commandId: string;
  /** Who caused it: a user id, `system`, or a component name. */
  readonly actor: string;
  /** The authorization policy's rule that allowed the command (e.g. `gates.deploy.approvers`), where a front door checked one. */
  readonly authorization?: string;
  /** ISO-8601 time the command was decided, from the command (never a clock in domain/). */
  readonly occurredAt: string;
  readonly schemaVersion: number;
}

export interface NewEvent<Data = unknown> {
  readonly type: string;
  /** JSON-serialisable. */
  readonly data: Data;
  readonly metadata: EventMetadata;
  /** Normally omitted: the store derives it from (stream, commandId, index) so retries are recognised. */
  readonly id?: string;
}

export interface RecordedEvent<Data = unknown> {
  readonly id: string;
  readonly stream: StreamName;
  readonly type: string;
  readonly revision: bigint;
  readonly position: GlobalPosition;
  readonly data: Data;
  readonly metadata: EventMetadata;
  /** When the store recorded it (ISO-8601). */
  readonly recordedAt: string;
}

export interface AppendResult {
  /** Revision of the last event now in the stream from this append. */
  readonly revision: bigint;
  /** Position of the last appended event. A retried append returns the original revision and position. */
  readonly position: GlobalPosition;
}

export interface ReadStreamOptions {
  readonly direction?: 'forward' | 'backward';
  /** Inclusive. Forward default: 0; backward default: the last revision. */
  readonly fromRevision?: bigint;
  readonly maxCount?: number;
  /**
   * Forward reads: the position of this stream's event at `fromRevision`, when the caller knows
   * it (a snapshot records it). A store that finds events by position rather than by revision
   * starts there instead of at the stream's beginning. Only a hint: a wrong or foreign position
   * costs time, never correctness.
   */
  readonly fromPosition?: GlobalPosition;
}

export interface ReadStreamResult {
  /** False when the stream has never been written; `events` is then empty. */
  readonly exists: boolean;
  readonly events: readonly RecordedEvent[];
}

export interface ReadAllOptions {
  /** Exclusive start; omitted means from the first event. */
  readonly after?: GlobalPosition;
  readonly maxCount?: number;
  readonly category?: string;
}

export interface SubscribeOptions {
  /** Exclusive start; omitted means from the first event. */
  readonly after?: GlobalPosition;
  /** Only streams of this category (`<category>-...`). */
  readonly category?: string;
}

export type SubscriptionMessage =
  | { readonly kind: 'event'; readonly event: RecordedEvent }
  /** Everything up to and including `position` has been delivered; safe to store as a resume point. */
  | { readonly kind: 'checkpoint'; readonly position: GlobalPosition }
  /** History is delivered; what follows is live. Sent once. */
  | { readonly kind: 'caughtUp' };

export interface Subscription extends AsyncIterable<SubscriptionMessage> {
  close(): Promise<void>;
}

export interface EventStore {
  append(stream: StreamName, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  read(stream: StreamName, options?: ReadStreamOptions): Promise<ReadStreamResult>;
  readAll(options?: ReadAllOptions): Promise<readonly RecordedEvent[]>;
  subscribe(options?: SubscribeOptions): Subscription;
  /** The position of the last event in the log (of one category when given); undefined when there is none. Subscribing after it follows only new events. */
  headPosition(options?: { readonly category?: string }): Promise<GlobalPosition | undefined>;
  close(): Promise<void>;
}

/** The one conflict error: the stream is not at the revision the writer expected. */
export class WrongExpectedRevision extends Error {
  override readonly name = 'WrongExpectedRevision';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: ActualRevision,
  ) {
    super(`stream ${stream}: expected revision ${String(expected)}, but it is at ${String(actual)}`);
  }
}

/** An append the store refuses before writing anything (empty, bad metadata, too large). */
export class InvalidAppend extends Error {
  override readonly name = 'InvalidAppend';
  constructor(
    readonly stream: string,
    readonly reason: string,
  ) {
    super(`cannot append to ${stream}: ${reason}`);
  }
}

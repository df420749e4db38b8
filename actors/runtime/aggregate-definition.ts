import type { Either } from 'fp-ts/lib/Either.js';
import type { Decider, DomainEvent } from '../../domain/decider.ts';

// Declared routing for one aggregate: the host reads this table; no aggregate repeats the
// load / decide / append / retry loop.

export interface CommandInput {
  readonly type: string;
  /** The aggregate id, from the subject. */
  readonly id: string;
  /** The host's time when the command arrived. */
  readonly at: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** Who sent it, as the front end or gateway that verified them set it on the envelope. */
  readonly actor: string;
}

/**
 * A check at the door, before anything is loaded or recorded: what only the deployment knows
 * (registered task types and pools, the reply targets it can serve, the workspace). Answers a
 * named refusal, or undefined to let the command in.
 */
export type CommandAdmission = (command: CommandInput) => { readonly code: string; readonly message: string } | undefined;

export interface AggregateDefinition<Command, Event extends DomainEvent, State> {
  /** Stream category and subject token: `task` → streams `task-<id>`, subject `<prefix>.cmd.task.<id>`. */
  readonly category: string;
  readonly decider: Decider<Command, Event, State>;
  /** Builds the domain command (adding the id and time where the aggregate wants them) and validates it. */
  parseCommand(input: CommandInput): Either<readonly string[], Command>;
  /** Commands that may start a new stream; any other command on a missing stream is refused as not found. */
  readonly creates: readonly string[];
  /** Stored in every event's metadata; bump when an event's shape changes and add an upcaster. */
  readonly schemaVersion: number;
  /** How the host snapshots this aggregate's state; without it, loads always fold the whole stream. */
  readonly snapshot?: SnapshotPolicy<State>;
}

export interface SnapshotPolicy<State> {
  /**
   * Bump whenever the state's shape, `evolve`, or an upcaster changes what a fold yields:
   * snapshots of any other version are ignored, and new ones are taken as streams grow.
   */
  readonly version: number;
  /** Take a snapshot once the stream is this many events past the last one (default 100). */
  readonly every?: number;
  /** State → JSON-serialisable value. Default: the state itself, which must then be plain JSON (no Map, Set, Date). */
  readonly encode?: (state: State) => unknown;
  /** The inverse of `encode`; throws on a value it cannot read. Default: the value itself. */
  readonly decode?: (value: unknown) => State;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any definition at all, whatever its command and state types: a registry's element type
export type AnyAggregateDefinition = AggregateDefinition<any, DomainEvent, any>;

import type { Either } from 'fp-ts/lib/Either.js';

// The shape every aggregate follows: decide(command, state) → events or a named rejection;
// evolve(state, event) → state. Time and ids arrive on the command; nothing here reads a clock.

export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
}

/** A command the aggregate refuses, with a stable code callers can match on. */
export interface Rejection<Code extends string = string> {
  readonly code: Code;
  readonly message: string;
}

export interface Decider<Command, Event extends DomainEvent, State> {
  decide(command: Command, state: State): Either<Rejection, readonly Event[]>;
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export const fold = <Event extends DomainEvent, State>(
  decider: Pick<Decider<unknown, Event, State>, 'evolve' | 'initialState'>,
  events: readonly Event[],
): State => events.reduce(decider.evolve, decider.initialState());

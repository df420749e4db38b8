import type { CommandCategory, CommandOf } from '../commands/catalog.ts';

// A process manager is a decider turned around: where an aggregate decides events from a
// command, a process manager decides commands from what happened (an event it follows, the
// reply to a command it sent, a timer it set coming due). Like the aggregates it is pure:
// `decide(input, state) → intents` and `evolve(state, input) → state`, with the time, ids and
// the deployment's facts arriving in the input or the manager's configuration, never read here.
// One host (actors/runtime/process-manager-host.ts) runs every manager: subscription,
// checkpoint, holds, per-key ordering, sending each intent until a host decides, feeding the
// reply back, and arming the timers the state asks for on the one durable agenda.

/** A command the manager wants sent: where, under which deterministic id, and what. */
export type CommandIntent = {
  [C in CommandCategory]: {
    readonly kind: 'command';
    readonly category: C;
    readonly id: string;
    /** Derived from what caused it, so a replay or a timer firing twice sends nothing new. */
    readonly commandId: string;
    /** Who sends it; default the manager's name. */
    readonly actor?: string;
    readonly correlationId?: string;
    readonly causationId?: string;
    /** Feed the host's reply back as a `reply` input (when the next step depends on it). */
    readonly wantsReply?: boolean;
  } & CommandOf<C>;
}[CommandCategory];

/**
 * Something other than a command the manager wants done outside (enqueue a work item, post a
 * Slack message, signal a worker), described as data; the host hands it to the manager's
 * `perform` port. `key` makes doing it twice recognisable (a queue's message id, a delivery id).
 */
export interface EffectIntent<Effect> {
  readonly kind: 'effect';
  readonly key: string;
  readonly effect: Effect;
  /** Feed what `perform` returned back as a `reply` input. */
  readonly wantsReply?: boolean;
}

export type Intent<Effect = never> = CommandIntent | EffectIntent<Effect>;

/** A timer a manager's state asks for; the agenda fires it as a `due` input at `dueAt`. */
export interface DueTimer<Payload = unknown> {
  /** Names the timer within its key: arming the same name again replaces it. */
  readonly name: string;
  readonly dueAt: string;
  readonly payload: Payload;
}

/** What reached the manager: an event it follows, the reply to one of its intents, or a timer come due. */
export type ManagerInput<Event, Reply = unknown, Payload = unknown, Effect = never> =
  | { readonly kind: 'event'; readonly event: Event; readonly at: string }
  | { readonly kind: 'reply'; readonly intent: Intent<Effect>; readonly reply: Reply; readonly at: string }
  | { readonly kind: 'due'; readonly timer: DueTimer<Payload>; readonly at: string };

export interface ProcessManager<Input, State, Effect = never> {
  /** Checkpoint and log name. */
  readonly name: string;
  initialState(): State;
  evolve(state: State, input: Input): State;
  decide(input: Input, state: State): readonly Intent<Effect>[];
  /** Decide and evolve at once, for a manager that computes both together: the host then works each input out once. */
  step?(input: Input, state: State): { readonly state: State; readonly intents: readonly Intent<Effect>[] };
  /** The timers this state waits on; the host keeps exactly these armed on the agenda. Default: none. */
  timers?(state: State): readonly DueTimer[];
  /** Nothing more to do for this key: the host forgets its state and timers. Default: never. */
  finished?(state: State): boolean;
  /**
   * While true, the key's earlier events are needed again after a restart (what they said is in
   * no read model): the host keeps the checkpoint before the event that made it true. Default: never.
   */
  keepsEvents?(state: State): boolean;
}

/** A manager that names its timers' payload and when a key is done (both hosts' questions answered). */
export type TimedProcessManager<Input, State, Payload, Effect = never> = Omit<ProcessManager<Input, State, Effect>, 'timers' | 'finished'> & {
  timers(state: State): readonly DueTimer<Payload>[];
  finished(state: State): boolean;
};

/** Runs a manager over inputs, as a host would, collecting every intent: the specifications' `given/when/then`. */
export function runManager<Input, State, Effect>(
  manager: ProcessManager<Input, State, Effect>,
  inputs: readonly Input[],
  state = manager.initialState(),
): { readonly state: State; readonly intents: readonly Intent<Effect>[] } {
  const intents: Intent<Effect>[] = [];
  for (const input of inputs) {
    intents.push(...manager.decide(input, state));
    state = manager.evolve(state, input);
  }
  return { state, intents };
}

/** What an aggregate host answered a command intent, as fed back in a `reply` input (the shape of actors/runtime's CommandReply). */
export type CommandAnswer =
  | { readonly status: 'accepted'; readonly revision?: string | null; readonly events: number }
  | { readonly status: 'rejected'; readonly code: string; readonly message: string }
  | { readonly status: 'invalid'; readonly errors: readonly string[] }
  | { readonly status: 'failed'; readonly code: string; readonly message: string };

/** One line saying what an answer was, for reports. */
export const describeAnswer = (answer: CommandAnswer): string =>
  answer.status === 'accepted'
    ? `accepted (${answer.events} events)`
    : answer.status === 'invalid'
      ? `invalid: ${answer.errors.join('; ')}`
      : `${answer.status} ${answer.code}: ${answer.message}`;

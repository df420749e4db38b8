import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import type { CommandIntent, DueTimer, EffectIntent, ManagerInput, ProcessManager } from '../../domain/process/process-manager.ts';
import type { CommandClient } from './command-client.ts';
import type { CommandReply } from './command-envelope.ts';
import { DurableAgenda } from './durable-agenda.ts';
import { EventReactor, type Hold } from './event-reactor.ts';
import { KeyedMailbox } from './keyed-mailbox.ts';
import { pRetryTiming } from './retry-timing.ts';

// The one host every process manager runs on: the plumbing around a pure decider. It follows the
// manager's categories from their checkpoints (EventReactor), turns each recorded event into the
// manager's input through the wiring's typed reader, keeps each key's state (dropped once the
// manager says the key is finished), runs a key's inputs one at a time in order and different
// keys concurrently, sends each command intent under its deterministic id until a host decides,
// performs effect intents through the `perform` port, feeds replies back when asked, and keeps the
// timers each state asks for armed on the durable agenda, firing them back as `due` inputs.
// The checkpoint never passes an event whose work has not finished (a hold per event), nor one
// that started something only a read model can bring back after a restart until that model holds
// it (`confirm`): with `restore` rebuilding the states from that model at start, no timer is lost.

/** A recorded event as the manager's input, and the key whose state it belongs to. */
export interface Keyed<Event> {
  readonly key: string;
  readonly event: Event;
}

export interface FollowedCategory<Event> {
  readonly category: string;
  /** The checkpoint's name: one per followed category. */
  readonly checkpoint: string;
  /**
   * The manager's event for a recorded one (through the typed reader), with its key; undefined:
   * not the manager's (or unreadable: the reader logs). May look something up; one stream's events
   * are read in order, and a failed lookup is tried again until the host stops.
   */
  readonly read: (recorded: RecordedEvent) => Keyed<Event> | undefined | Promise<Keyed<Event> | undefined>;
}

/** Events whose effect only a read model restores after a restart: the checkpoint waits for the model. */
export interface Confirmation<Event, State> {
  /** Whether the checkpoint must stay before this event (given the key's state before it) until `holding` says the model has it. */
  readonly needs: (event: Event, before: State) => boolean;
  /** Which of these keys the model holds as their state says (asked again every `everyMs` for the keys still waiting). */
  readonly holding: (keys: readonly { readonly key: string; readonly state: State }[]) => Promise<ReadonlySet<string>>;
  /** Default 250 ms. */
  readonly everyMs?: number;
}

export interface ProcessManagerHostOptions<Event, State, Effect, Reply, Payload> {
  readonly manager: ProcessManager<ManagerInput<Event, Reply, Payload, Effect>, State, Effect>;
  readonly follows: readonly FollowedCategory<Event>[];
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  /** Where command intents go; a manager that only asks for effects needs none. */
  readonly commands?: CommandClient;
  readonly logger: Logger;
  /** Does an effect intent; retried until it resolves (an AbortError gives up at once). Its result is the reply. */
  readonly perform?: (effect: Effect, key: string) => Promise<unknown>;
  /** At start, before anything is followed: the state of every key a read model holds as unfinished, brought up to date. */
  readonly restore?: () => Promise<Iterable<readonly [string, State]>>;
  /** The state of a key not in memory, from a read model (never a whole-stream fold); default the initial state. */
  readonly load?: (key: string) => Promise<State | undefined>;
  readonly confirm?: Confirmation<Event, State>;
  /** A reply to a timer's command saying it came too early (the aggregate's clock is behind): the timer fires again. Default: `TimerNotDue`. */
  readonly notDue?: (reply: CommandReply) => boolean;
  readonly now?: () => number;
}

/** A timer's input was not carried out; the agenda fires it again. */
class NotDoneYet extends Error {
  override readonly name = 'NotDoneYet';
}

const defaultNotDue = (reply: CommandReply): boolean => reply.status === 'rejected' && reply.code === 'TimerNotDue';

export class ProcessManagerHost<Event, State, Effect = never, Reply = unknown, Payload = unknown> {
  private readonly states = new Map<string, State>();
  private readonly reactors: EventReactor[];
  /** Events of one stream are read in order; a key's inputs are handled in order. */
  private readonly readers = new KeyedMailbox();
  private readonly mailbox = new KeyedMailbox();
  private readonly agenda: DurableAgenda<Payload>;
  /** Key → the hold keeping the checkpoint before an event the read model does not hold yet. */
  private readonly unconfirmed = new Map<string, Hold>();
  /** Key → the hold keeping the checkpoint before the event from which the manager needs the key's events again (`keepsEvents`). */
  private readonly kept = new Map<string, Hold>();
  private confirmTimer: NodeJS.Timeout | undefined;
  private confirming = false;
  /** Aborted by stop(): commands and effects still retrying give up; their holds keep the checkpoint before them. */
  private readonly stopping = new AbortController();
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly options: ProcessManagerHostOptions<Event, State, Effect, Reply, Payload>) {
    this.now = options.now ?? Date.now;
    this.log = options.logger;
    this.agenda = new DurableAgenda<Payload>({
      fire: (key, timer) => this.mailbox.run(key, () => this.fire(key, timer)),
      onFailure: (error, key, timer) =>
        this.log.warn({ err: error, manager: options.manager.name, key, timer: timer.name }, 'a timer did not fire; trying again'),
      now: this.now,
    });
    this.reactors = options.follows.map(
      (followed) =>
        new EventReactor({
          name: followed.checkpoint,
          category: followed.category,
          store: options.store,
          checkpoints: options.checkpoints,
          logger: options.logger,
          // The holds are taken now, while the reactor is at this event; the work runs later.
          handle: (recorded, context) =>
            this.accept(
              followed,
              recorded,
              context.hold(),
              options.confirm ? context.hold() : undefined,
              options.manager.keepsEvents ? context.hold() : undefined,
            ),
        }),
    );
  }

  async start(): Promise<void> {
    if (this.options.restore) {
      const restored = await this.options.restore();
      let count = 0;
      for (const [key, state] of restored) {
        this.keep(key, state);
        count++;
      }
      this.log.info({ manager: this.options.manager.name, restored: count, ...this.agenda.size() }, 'process manager state restored from its read model');
    }
    if (this.options.confirm) this.confirmTimer = setInterval(() => void this.confirmHeld(), this.options.confirm.everyMs ?? 250);
    for (const reactor of this.reactors) await reactor.start();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.confirmTimer);
    this.agenda.stop();
    for (const reactor of [...this.reactors].reverse()) await reactor.stop();
    await this.readers.idle();
    await this.mailbox.idle();
  }

  /** A key's state in memory (for the wiring's own questions and for tests). */
  stateOf(key: string): State | undefined {
    return this.states.get(key);
  }

  /** How many keys it holds state for, and how many timers are armed. */
  size(): { keys: number; armed: number } {
    return { keys: this.states.size, armed: this.agenda.size().armed };
  }

  private accept(followed: FollowedCategory<Event>, recorded: RecordedEvent, work: Hold, confirmHold: Hold | undefined, keepHold: Hold | undefined): void {
    void this.readers
      .run(recorded.stream, () =>
        this.untilDone(
          async () => followed.read(recorded),
          { stream: recorded.stream, eventId: recorded.id },
          'reading an event for a process manager failed; retrying',
        ),
      )
      .then(
        (keyed) => {
          if (!keyed) {
            confirmHold?.release();
            keepHold?.release();
            return work.release();
          }
          void this.mailbox
            .run(keyed.key, () => this.onEvent(keyed, confirmHold, keepHold))
            .then(
              () => work.release(),
              // Kept held: the checkpoint stays before this event, so a restart handles it again.
              (error: unknown) =>
                this.log.error(
                  { err: error, manager: this.options.manager.name, key: keyed.key, eventId: recorded.id, type: recorded.type },
                  'process manager gave up on an event; it is handled again after a restart',
                ),
            );
        },
        (error: unknown) =>
          this.log.error(
            { err: error, manager: this.options.manager.name, eventId: recorded.id, type: recorded.type },
            'process manager could not read an event; it is read again after a restart',
          ),
      );
  }

  private async onEvent({ key, event }: Keyed<Event>, confirmHold: Hold | undefined, keepHold: Hold | undefined): Promise<void> {
    const before = await this.stateFor(key);
    this.states.set(key, before); // loaded once: handle() reads it from memory
    if (confirmHold) {
      if (this.options.confirm?.needs(event, before)) {
        // A newer event of the key supersedes the older one: the model must hold what it started.
        this.unconfirmed.get(key)?.release();
        this.unconfirmed.set(key, confirmHold);
      } else confirmHold.release();
    }
    await this.handle(key, { kind: 'event', event, at: this.at() });
    if (keepHold) {
      // The first event from which the key's events are needed again keeps the checkpoint before it.
      const after = this.states.get(key);
      if (after !== undefined && this.options.manager.keepsEvents?.(after) && !this.kept.has(key)) this.kept.set(key, keepHold);
      else keepHold.release();
    }
  }

  private async fire(key: string, timer: DueTimer<Payload>): Promise<void> {
    // Node may fire a hair before the due time: the input says it is due, never earlier.
    const at = new Date(Math.max(this.now(), Date.parse(timer.dueAt) || 0)).toISOString();
    const done = await this.handle(key, { kind: 'due', timer, at });
    if (!done) throw new NotDoneYet(`timer ${timer.name} of ${key}: not done yet`);
  }

  /** Decides, keeps the new state, carries out the intents in order. False when a command said it came too early. */
  private async handle(key: string, input: ManagerInput<Event, Reply, Payload, Effect>): Promise<boolean> {
    const { manager } = this.options;
    const state = await this.stateFor(key);
    const { intents, state: next } = manager.step ? manager.step(input, state) : { intents: manager.decide(input, state), state: manager.evolve(state, input) };
    // A state that says it is finished is still kept while a reply to one of these intents is to come back to it.
    const settled = this.keep(
      key,
      next,
      intents.some((intent) => intent.wantsReply),
    );
    let done = true;
    for (const intent of intents) {
      const reply = intent.kind === 'command' ? await this.send(intent) : await this.perform(key, intent);
      if (intent.kind === 'command' && (this.options.notDue ?? defaultNotDue)(reply as CommandReply)) done = false;
      if (intent.wantsReply) done = (await this.handle(key, { kind: 'reply', intent, reply: reply as Reply, at: this.at() })) && done;
    }
    // Only once what the input asked for is done may the checkpoint pass what started it.
    if (settled) this.release(key);
    return done;
  }

  private async stateFor(key: string): Promise<State> {
    const known = this.states.get(key);
    if (known !== undefined) return known;
    return (await this.options.load?.(key)) ?? this.options.manager.initialState();
  }

  /**
   * Remembers the key's state and arms its timers, or forgets both once it is finished. True when
   * nothing a restart could lose is left for the key (finished, or no timer waiting).
   */
  private keep(key: string, state: State, repliesToCome = false): boolean {
    const { manager } = this.options;
    if (!repliesToCome && manager.finished?.(state)) {
      this.states.delete(key);
      this.agenda.drop(key);
      this.releaseKept(key);
      return true;
    }
    if (manager.keepsEvents && !manager.keepsEvents(state)) this.releaseKept(key);
    const timers = (manager.timers?.(state) ?? []) as readonly DueTimer<Payload>[];
    this.states.set(key, state);
    this.agenda.set(key, timers);
    return timers.length === 0;
  }

  private release(key: string): void {
    this.unconfirmed.get(key)?.release();
    this.unconfirmed.delete(key);
  }

  /** The key's earlier events are not needed again after a restart any more (`keepsEvents` turned false, or it finished). */
  private releaseKept(key: string): void {
    this.kept.get(key)?.release();
    this.kept.delete(key);
  }

  /** Releases the hold of every key the model now holds. */
  private async confirmHeld(): Promise<void> {
    const { confirm } = this.options;
    if (!confirm || this.confirming || this.unconfirmed.size === 0) return;
    this.confirming = true;
    try {
      const waiting = [...this.unconfirmed.keys()].slice(0, 100).flatMap((key) => {
        const state = this.states.get(key);
        return state === undefined ? [] : [{ key, state }];
      });
      for (const key of await confirm.holding(waiting)) this.release(key);
    } catch (error) {
      this.log.debug({ err: error, manager: this.options.manager.name }, 'could not ask the read model what it holds; trying again');
    } finally {
      this.confirming = false;
    }
  }

  private async send(intent: CommandIntent): Promise<CommandReply> {
    const { category, id, commandId, type, data } = intent;
    const commands = this.options.commands;
    if (!commands) throw new Error(`${this.options.manager.name} sent a command (${commandId}) but its host was given no command client`);
    const envelope = {
      commandId,
      type,
      actor: intent.actor ?? this.options.manager.name,
      data,
      ...(intent.correlationId !== undefined && { correlationId: intent.correlationId }),
      ...(intent.causationId !== undefined && { causationId: intent.causationId }),
    };
    // Retried under the same id until a host decides: a missing aggregate host or a broker restart delays, never drops.
    let reply: CommandReply;
    try {
      reply = await commands.sendUntilAnswered({ category, id }, envelope as never, {
        signal: this.stopping.signal,
        onRetry: (error, attempt) =>
          this.log[attempt > 3 ? 'warn' : 'debug'](
            { err: error, manager: this.options.manager.name, category, id, type, attempt },
            'process manager command not answered yet; retrying',
          ),
      });
    } catch (error) {
      this.log.warn({ err: error, manager: this.options.manager.name, category, id, type, commandId }, 'process manager gave up sending a command');
      throw error;
    }
    if (reply.status !== 'accepted') {
      // Already decided (a replay, a timer fired twice, a race with a person's click): nothing to do.
      const level = reply.status === 'rejected' ? 'debug' : 'error';
      this.log[level]({ manager: this.options.manager.name, category, id, type, reply }, 'process manager command not applied');
    }
    return reply;
  }

  private async perform(key: string, intent: EffectIntent<Effect>): Promise<unknown> {
    const perform = this.options.perform;
    if (!perform) throw new Error(`${this.options.manager.name} asked for an effect (${intent.key}) but its host was given no perform port`);
    try {
      return await this.untilDone(() => perform(intent.effect, key), { key, effect: intent.key }, 'process manager effect failed; retrying');
    } catch (error) {
      this.log.error({ err: error, manager: this.options.manager.name, key, effect: intent.key }, 'process manager gave up on an effect');
      throw error;
    }
  }

  /** `work` retried with jittered backoff until it succeeds, throws an AbortError, or the host stops. */
  private async untilDone<T>(work: () => Promise<T>, context: Record<string, unknown>, message: string): Promise<T> {
    // Tried once as it is: almost every read and effect succeeds at once, and a retry loop per event costs time.
    try {
      return await work();
    } catch (error) {
      if (error instanceof AbortError || this.stopping.signal.aborted) throw error;
      this.log.debug({ err: error, manager: this.options.manager.name, tries: 1, ...context }, message);
    }
    return pRetry(work, {
      retries: Number.POSITIVE_INFINITY,
      ...pRetryTiming(),
      signal: this.stopping.signal,
      onFailedAttempt: ({ error, attemptNumber }) =>
        this.log[attemptNumber > 3 ? 'warn' : 'debug']({ err: error, manager: this.options.manager.name, tries: attemptNumber, ...context }, message),
    });
  }

  private at(): string {
    return new Date(this.now()).toISOString();
  }
}

/** For `perform` ports: throwing it gives up on an effect at once (the host logs it and keeps its event held). */
export { AbortError };

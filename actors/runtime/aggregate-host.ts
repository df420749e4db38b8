import { isLeft, left, type Either } from 'fp-ts/lib/Either.js';
import { LRUCache } from 'lru-cache';
import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import type { DomainEvent } from '../../domain/decider.ts';
import { eventIdFor } from '../../domain/event-id.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import { NO_STREAM, WrongExpectedRevision, type ActualRevision, type AppendResult, type EventStore, type NewEvent } from '../../domain/ports/event-store.ts';
import type { SnapshotStore } from '../../domain/ports/snapshot-store.ts';
import { isValidId, streamName, type StreamName } from '../../domain/streams.ts';
import type { AggregateDefinition, CommandAdmission } from './aggregate-definition.ts';
import { AggregateLoader } from './aggregate-loader.ts';
import { AggregateSnapshots } from './aggregate-snapshots.ts';
import { commandEnvelopeSchema, describeIssues, type CommandEnvelope, type CommandReply } from './command-envelope.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.ts';
import { KeyedMailbox } from './keyed-mailbox.ts';
import { rememberCommand, type LoadedAggregate } from './loaded-aggregate.ts';
import { MAX_STATE_BYTES, stateSubject, type StateAnswer } from './state-query.ts';

// Hosts one aggregate type: takes commands from `<prefix>.cmd.<category>.*` in a queue group
// shared by every host of the role, so any host may take any id. Inside a host one mailbox per
// id runs one command at a time against a cached state; across hosts correctness comes from
// the expected-revision append: on conflict, reload and decide again. With a snapshot store
// and a definition that asks for snapshots, long streams load from a snapshot and their tail.
// The same host answers state queries on `<prefix>.state.<category>.*` through the same
// mailbox, so a caller reading after its own accepted command sees that command's events.

const MAX_CONFLICT_RETRIES = 25;

/** The largest command body a host reads (documented in the README); larger ones are refused unread. */
export const MAX_COMMAND_BYTES = 256 * 1024;

export interface AggregateHostOptions<Command, Event extends DomainEvent, State> {
  readonly nc: NatsConnection;
  readonly store: EventStore;
  readonly definition: AggregateDefinition<Command, Event, State>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly prefix?: string;
  readonly cacheSize?: number;
  /** Where snapshots are kept; without it (or without `definition.snapshot`) loads fold whole streams. */
  readonly snapshots?: SnapshotStore;
  /** The deployment's checks at the door (see CommandAdmission). */
  readonly admit?: CommandAdmission;
  /** Told of each command answered: its category, the reply's status, and the seconds from receipt to reply (metrics). */
  readonly onHandled?: (category: string, outcome: CommandReply['status'], seconds: number) => void;
}

export class AggregateHost<Command, Event extends DomainEvent, State> {
  private readonly mailbox = new KeyedMailbox();
  private readonly cache: LRUCache<string, LoadedAggregate<State>>;
  private subscription: Subscription | undefined;
  private stateSubscription: Subscription | undefined;
  private readonly prefix: string;
  private readonly snapshots: AggregateSnapshots<State> | undefined;
  private readonly loader: AggregateLoader<Command, Event, State>;

  constructor(private readonly options: AggregateHostOptions<Command, Event, State>) {
    this.prefix = options.prefix ?? 'orch';
    this.cache = new LRUCache({ max: options.cacheSize ?? 10_000 });
    const { snapshots, definition, store, logger } = options;
    this.snapshots = snapshots && definition.snapshot ? new AggregateSnapshots(snapshots, definition.snapshot, logger) : undefined;
    this.loader = new AggregateLoader({ store, definition, snapshots: this.snapshots, logger });
  }

  get subject(): string {
    return `${this.prefix}.cmd.${this.options.definition.category}.*`;
  }

  start(): void {
    const queue = `${this.prefix}.aggregates.${this.options.definition.category}`;
    this.subscription = this.options.nc.subscribe(this.subject, {
      queue,
      callback: (error, message) => {
        if (error) {
          this.options.logger.error({ err: error }, 'command subscription failed');
          return;
        }
        void this.receive(message);
      },
    });
    this.stateSubscription = this.options.nc.subscribe(stateSubject(this.prefix, this.options.definition.category, '*'), {
      queue,
      callback: (error, message) => {
        if (error) {
          this.options.logger.error({ err: error }, 'state query subscription failed');
          return;
        }
        void this.answerState(message);
      },
    });
  }

  /** Stops taking commands and waits for those already taken to finish. */
  async stop(): Promise<void> {
    await Promise.all([this.subscription?.drain(), this.stateSubscription?.drain()]);
    await this.mailbox.idle();
    await this.snapshots?.idle();
  }

  private async receive(message: Msg): Promise<void> {
    const started = this.options.onHandled ? performance.now() : 0;
    const reply = await this.handle(message).catch((error: unknown): CommandReply => {
      this.options.logger.error({ err: error, subject: message.subject }, 'command failed');
      return { status: 'failed', code: 'Internal', message: 'the command could not be processed; retry with the same commandId' };
    });
    if (message.reply) message.respond(new TextEncoder().encode(JSON.stringify(reply)));
    this.options.onHandled?.(this.options.definition.category, reply.status, (performance.now() - started) / 1000);
  }

  private async handle(message: Msg): Promise<CommandReply> {
    const id = message.subject.slice(message.subject.lastIndexOf('.') + 1);
    if (!isValidId(id)) return { status: 'invalid', errors: [`subject: "${id}" is not a valid aggregate id`] };
    if (message.data.length > MAX_COMMAND_BYTES) {
      return { status: 'rejected', code: 'PayloadTooLarge', message: `the command is ${message.data.length} bytes; at most ${MAX_COMMAND_BYTES} are accepted` };
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(message.data));
    } catch {
      return { status: 'invalid', errors: ['command: body is not JSON'] };
    }
    if (nestsDeeperThan(body, MAX_JSON_DEPTH))
      return { status: 'rejected', code: 'PayloadTooDeep', message: `the command nests deeper than ${MAX_JSON_DEPTH} levels` };
    const envelope = commandEnvelopeSchema.safeParse(body);
    if (!envelope.success) return { status: 'invalid', errors: describeIssues(envelope.error) };
    return this.mailbox.run(id, () => this.execute(id, envelope.data));
  }

  private async execute(id: string, envelope: CommandEnvelope): Promise<CommandReply> {
    const { definition, store, clock } = this.options;
    const stream = streamName(definition.category, id);
    const at = clock.now();
    const input = { type: envelope.type, id, at, data: envelope.data, actor: envelope.actor };
    const parsed = definition.parseCommand(input);
    if (isLeft(parsed)) return { status: 'invalid', errors: parsed.left };
    const refused = this.options.admit?.(input);
    if (refused) return { status: 'rejected', code: refused.code, message: refused.message };
    const command = parsed.right;

    // A state from this host's cache may be behind what another host of the role appended. An
    // append against it conflicts and is decided again, but a rejection or a no-op would be
    // answered from the stale state: those are decided once more on a fresh read first.
    let fromCache = this.cache.has(stream);
    for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
      const loaded = attempt === 0 ? await this.load(stream) : await this.reload(stream);
      const earlier = loaded.commands.get(envelope.commandId);
      if (earlier !== undefined) return { status: 'accepted', revision: earlier.revision.toString(), events: earlier.events };
      const decision: Either<{ code: string; message: string }, readonly Event[]> =
        loaded.revision === NO_STREAM && !definition.creates.includes(envelope.type)
          ? left({ code: 'NotFound', message: `${stream} does not exist` })
          : definition.decider.decide(command, loaded.state);
      if (fromCache && (isLeft(decision) || decision.right.length === 0)) {
        fromCache = false;
        continue;
      }
      fromCache = false;
      if (isLeft(decision)) return { status: 'rejected', code: decision.left.code, message: decision.left.message };
      const events = decision.right;
      if (events.length === 0) return { status: 'accepted', revision: revisionText(loaded.revision), events: 0 };
      try {
        const result = await store.append(
          stream,
          events.map((e) => this.toNewEvent(e, envelope, at)),
          loaded.revision,
        );
        this.remember(stream, loaded, events, envelope.commandId, result);
        return { status: 'accepted', revision: result.revision.toString(), events: events.length };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevision)) throw error;
        this.cache.delete(stream);
        // Another host appended first; give it a moment before deciding again on its result.
        if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
    return { status: 'failed', code: 'Conflict', message: `${stream} kept changing under the command; retry with the same commandId` };
  }

  private async answerState(message: Msg): Promise<void> {
    const answer = await this.stateOf(message.subject.slice(message.subject.lastIndexOf('.') + 1)).catch((error: unknown): StateAnswer => {
      this.options.logger.error({ err: error, subject: message.subject }, 'state query failed');
      return { status: 'error', code: 'Internal', message: 'the state could not be read; ask again' };
    });
    if (message.reply) message.respond(new TextEncoder().encode(JSON.stringify(answer)));
  }

  private async stateOf(id: string): Promise<StateAnswer> {
    if (!isValidId(id)) return { status: 'error', code: 'InvalidId', message: `"${id.slice(0, 200)}" is not a valid aggregate id` };
    const { definition } = this.options;
    const stream = streamName(definition.category, id);
    const loaded = await this.mailbox.run(id, () => this.fresh(stream));
    const state = definition.snapshot?.encode ? definition.snapshot.encode(loaded.state) : loaded.state;
    const answer: StateAnswer = { status: 'ok', revision: revisionText(loaded.revision), state };
    const bytes = Buffer.byteLength(JSON.stringify(answer));
    return bytes <= MAX_STATE_BYTES
      ? answer
      : { status: 'error', code: 'StateTooLarge', message: `${stream}'s state is ${bytes} bytes; at most ${MAX_STATE_BYTES} are answered` };
  }

  /**
   * The cached state when the stream has not moved since (another host of the role may have
   * appended): one read of the stream's last event says; otherwise a reload.
   */
  private async fresh(stream: StreamName): Promise<LoadedAggregate<State>> {
    const cached = this.cache.get(stream);
    if (!cached) return this.reload(stream);
    const { events } = await this.options.store.read(stream, { direction: 'backward', maxCount: 1 });
    const last = events[0]?.revision ?? NO_STREAM;
    return last === cached.revision ? cached : this.reload(stream);
  }

  private toNewEvent(event: Event, envelope: CommandEnvelope, at: string): NewEvent {
    return {
      type: event.type,
      data: event.data,
      metadata: {
        correlationId: envelope.correlationId ?? envelope.commandId,
        causationId: envelope.causationId ?? envelope.commandId,
        commandId: envelope.commandId,
        actor: envelope.actor,
        ...(envelope.authorization !== undefined && { authorization: envelope.authorization }),
        occurredAt: at,
        schemaVersion: this.options.definition.schemaVersion,
      },
    };
  }

  private async load(stream: StreamName): Promise<LoadedAggregate<State>> {
    return this.cache.get(stream) ?? this.reload(stream);
  }

  private async reload(stream: StreamName): Promise<LoadedAggregate<State>> {
    const loaded = this.snapshotIfDue(stream, await this.loader.load(stream));
    this.cache.set(stream, loaded);
    return loaded;
  }

  private remember(stream: StreamName, before: LoadedAggregate<State>, events: readonly Event[], commandId: string, result: AppendResult): void {
    const state = events.reduce(this.options.definition.decider.evolve, before.state);
    rememberCommand(before.commands, commandId, result.revision, events.length);
    // Event ids derive from the command (the host never sets them), so the last one is known here.
    const last = { position: result.position, eventId: eventIdFor(stream, commandId, events.length - 1) };
    const after = { state, revision: result.revision, commands: before.commands, last, snapshotRevision: before.snapshotRevision };
    this.cache.set(stream, this.snapshotIfDue(stream, after));
  }

  private snapshotIfDue(stream: StreamName, loaded: LoadedAggregate<State>): LoadedAggregate<State> {
    return this.snapshots ? this.snapshots.takeIfDue(stream, loaded) : loaded;
  }
}

const revisionText = (revision: ActualRevision): string | null => (revision === NO_STREAM ? null : revision.toString());

import type { Logger } from 'pino';
import type { DomainEvent } from '../../domain/decider.ts';
import { NO_STREAM, type EventStore, type RecordedEvent } from '../../domain/ports/event-store.ts';
import type { StreamName } from '../../domain/streams.ts';
import type { AggregateDefinition } from './aggregate-definition.ts';
import type { AggregateSnapshots, UsableSnapshot } from './aggregate-snapshots.ts';
import { rememberCommand, type AppliedCommand, type LoadedAggregate } from './loaded-aggregate.ts';

// Loads an aggregate: from its snapshot and the stream's events after it when there is a
// usable one, otherwise by folding the whole stream.

/**
 * The snapshot lookup runs beside a read of the stream's last few events. Most streams are
 * shorter than this, and load in that one round; longer ones often find their snapshot's
 * tail in it too.
 */
const RECENT_EVENTS = 16;

export interface AggregateLoaderOptions<Command, Event extends DomainEvent, State> {
  readonly store: EventStore;
  readonly definition: AggregateDefinition<Command, Event, State>;
  readonly snapshots?: AggregateSnapshots<State>;
  readonly logger: Logger;
}

export class AggregateLoader<Command, Event extends DomainEvent, State> {
  constructor(private readonly options: AggregateLoaderOptions<Command, Event, State>) {}

  async load(stream: StreamName): Promise<LoadedAggregate<State>> {
    const { store, snapshots } = this.options;
    if (!snapshots) return this.fold(this.initial(), (await store.read(stream)).events);
    const [usable, recent] = await Promise.all([snapshots.load(stream), store.read(stream, { direction: 'backward', maxCount: RECENT_EVENTS })]);
    const events = [...recent.events].reverse();
    const loaded = usable && (await this.fromSnapshot(stream, usable, events));
    if (loaded) return loaded;
    const whole = events.length === 0 || events[0]!.revision === 0n;
    return this.fold(this.initial(), whole ? events : (await store.read(stream)).events);
  }

  /** `recent`: the stream's last events, oldest first. Undefined when the snapshot does not fit the stream. */
  private async fromSnapshot(
    stream: StreamName,
    { snapshot, state }: UsableSnapshot<State>,
    recent: readonly RecordedEvent[],
  ): Promise<LoadedAggregate<State> | undefined> {
    // The tail is read from the snapshot's own event, to check that it is still in the stream:
    // a snapshot outliving its stream (a store rebuilt beside an old bucket) must not be trusted.
    const covered = recent.length > 0 && recent[0]!.revision <= snapshot.revision;
    const tail = covered
      ? recent.filter((e) => e.revision >= snapshot.revision)
      : (await this.options.store.read(stream, { fromRevision: snapshot.revision, fromPosition: snapshot.position })).events;
    const first = tail[0];
    if (!first || first.revision !== snapshot.revision || first.id !== snapshot.eventId) {
      this.options.logger.warn(
        { stream, revision: snapshot.revision.toString() },
        'snapshot ignored: its event is not in the stream; folding the stream from the start',
      );
      return undefined;
    }
    const commands = new Map<string, AppliedCommand>(snapshot.commands.map((c) => [c.commandId, { revision: c.revision, events: c.events }]));
    const start = { state, revision: snapshot.revision, commands, last: { position: first.position, eventId: first.id }, snapshotRevision: snapshot.revision };
    return this.fold(start, tail.slice(1));
  }

  private initial(): LoadedAggregate<State> {
    return { state: this.options.definition.decider.initialState(), revision: NO_STREAM, commands: new Map() };
  }

  private fold(start: LoadedAggregate<State>, events: readonly RecordedEvent[]): LoadedAggregate<State> {
    const { evolve } = this.options.definition.decider;
    let state = start.state;
    for (const recorded of events) {
      state = evolve(state, { type: recorded.type, data: recorded.data } as Event);
      const applied = start.commands.get(recorded.metadata.commandId);
      rememberCommand(start.commands, recorded.metadata.commandId, recorded.revision, (applied?.events ?? 0) + 1);
    }
    const last = events[events.length - 1];
    if (!last) return { ...start, state };
    return { ...start, state, revision: last.revision, last: { position: last.position, eventId: last.id } };
  }
}

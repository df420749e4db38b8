import {
  ANY as ESDB_ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM as ESDB_NO_STREAM,
  START,
  STREAM_EXISTS as ESDB_STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AppendExpectedRevision,
  type Position,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import { EventEmitter, on } from 'node:events';
import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  WrongExpectedRevision,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type ExpectedRevision,
  type GlobalPosition,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamResult,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionMessage,
} from '../../domain/ports/event-store.ts';
import { prepareAppend } from '../../domain/ports/validate-append.ts';
import { isValidCategory, parseStreamName, type StreamName } from '../../domain/streams.ts';

// Event store on EventStoreDB through @eventstore/db-client. Metadata goes into the event's
// custom metadata, with `$correlationId` / `$causationId` so EventStoreDB's own tooling
// (projections, the UI) links events by correlation.

export class EsdbEventStore implements EventStore {
  constructor(private readonly client: EventStoreDBClient) {}

  static fromConnectionString(connectionString: string): EsdbEventStore {
    return new EsdbEventStore(EventStoreDBClient.connectionString(connectionString));
  }

  async append(stream: StreamName, newEvents: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const events = prepareAppend(stream, newEvents).map((e) =>
      jsonEvent({
        id: e.id,
        type: e.type,
        data: e.data as never,
        metadata: { ...e.metadata, $correlationId: e.metadata.correlationId, $causationId: e.metadata.causationId },
      }),
    );
    try {
      const result = await this.client.appendToStream(stream, events, { expectedRevision: toEsdbExpected(expected) });
      // Servers answer an idempotent (retried) append without a position; find the original one.
      const position = result.position ?? (await this.positionOf(stream, result.nextExpectedRevision));
      return { revision: result.nextExpectedRevision, position: encodePosition(position) };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = error.actualVersion;
        throw new WrongExpectedRevision(stream, expected, typeof actual === 'bigint' ? actual : NO_STREAM);
      }
      throw error;
    }
  }

  async read(stream: StreamName, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    parseStreamName(stream);
    if (options.maxCount !== undefined && options.maxCount <= 0) {
      const probe = await this.read(stream, { maxCount: 1 });
      return { exists: probe.exists, events: [] };
    }
    const backward = options.direction === 'backward';
    // EventStoreDB seeks a stream by revision itself, so the `fromPosition` hint is not needed.
    const reading = this.client.readStream(stream, {
      direction: backward ? BACKWARDS : FORWARDS,
      fromRevision: options.fromRevision ?? (backward ? END : START),
      ...(options.maxCount !== undefined ? { maxCount: options.maxCount } : {}),
    });
    const events: RecordedEvent[] = [];
    try {
      for await (const resolved of reading) if (resolved.event) events.push(toRecorded(resolved.event));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return { exists: false, events: [] };
      throw error;
    }
    // A read that starts past the end returns nothing, though the stream exists.
    return { exists: true, events };
  }

  async readAll(options: ReadAllOptions = {}): Promise<readonly RecordedEvent[]> {
    const prefix = categoryPrefix(options.category);
    const max = options.maxCount ?? Number.POSITIVE_INFINITY;
    const events: RecordedEvent[] = [];
    if (max <= 0) return events;
    const reading = this.client.readAll({
      direction: FORWARDS,
      fromPosition: options.after ? decodePosition(options.after) : START,
    });
    try {
      for await (const resolved of reading) {
        const event = resolved.event;
        if (!event || isSystem(event) || (prefix && !event.streamId.startsWith(prefix))) continue;
        const recorded = toRecorded(event);
        // readAll starts at its position inclusively; the port's `after` is exclusive.
        if (options.after && recorded.position <= options.after) continue;
        events.push(recorded);
        if (events.length >= max) break;
      }
    } finally {
      await reading.cancel().catch(() => undefined);
    }
    return events;
  }

  async headPosition(options: { readonly category?: string } = {}): Promise<GlobalPosition | undefined> {
    const prefix = categoryPrefix(options.category);
    const reading = this.client.readAll({ direction: BACKWARDS, fromPosition: END });
    try {
      for await (const resolved of reading) {
        const event = resolved.event;
        if (!event || isSystem(event) || (prefix && !event.streamId.startsWith(prefix))) continue;
        return toRecorded(event).position;
      }
    } finally {
      await reading.cancel().catch(() => undefined);
    }
    return undefined;
  }

  subscribe(options: SubscribeOptions = {}): Subscription {
    const prefix = categoryPrefix(options.category);
    const feed = new EventEmitter();
    const abort = new AbortController();
    const push = (message: SubscriptionMessage) => feed.emit('message', message);
    // Listen before subscribing: messages that arrive before the caller's first next() are queued.
    const queue = on(feed, 'message', { signal: abort.signal }) as AsyncIterableIterator<[SubscriptionMessage]>;
    // The client emits caughtUp and checkpoints as it reads them from the wire, while events
    // still wait in its stream buffer; hold each marker until the events before it are out.
    let delivered = 0;
    const held: { afterCount: number; message: SubscriptionMessage }[] = [];
    const mark = (message: SubscriptionMessage) => {
      const afterCount = delivered + subscription.readableLength;
      if (afterCount <= delivered) push(message);
      else held.push({ afterCount, message });
    };
    const checkpointReached = (_: unknown, position: Position) => {
      mark({ kind: 'checkpoint', position: encodePosition(position) });
    };
    const subscription = this.client.subscribeToAll({
      fromPosition: options.after ? decodePosition(options.after) : START,
      filter: prefix ? streamNameFilter({ prefixes: [prefix], checkpointReached }) : excludeSystemEvents({ checkpointReached }),
    });
    subscription.on('data', (resolved) => {
      delivered++;
      if (resolved.event && !isSystem(resolved.event)) push({ kind: 'event', event: toRecorded(resolved.event) });
      while (held.length > 0 && held[0]!.afterCount <= delivered) push(held.shift()!.message);
    });
    subscription.on('caughtUp', () => mark({ kind: 'caughtUp' }));
    subscription.on('error', (error) => {
      if (!abort.signal.aborted) feed.emit('error', error);
    });

    async function* messages(): AsyncGenerator<SubscriptionMessage> {
      let caughtUp = false;
      try {
        for await (const [message] of queue) {
          // The client may report catching up again after falling behind; the port promises once.
          if (message.kind === 'caughtUp') {
            if (caughtUp) continue;
            caughtUp = true;
          }
          yield message;
        }
      } catch (error) {
        if (!abort.signal.aborted) throw error;
      } finally {
        abort.abort();
        await subscription.unsubscribe().catch(() => undefined);
      }
    }

    const generator = messages();
    return {
      [Symbol.asyncIterator]: () => generator,
      async close() {
        abort.abort();
        await subscription.unsubscribe().catch(() => undefined);
        await generator.return(undefined);
      },
    };
  }

  async close(): Promise<void> {
    await this.client.dispose();
  }

  private async positionOf(stream: StreamName, revision: bigint): Promise<Position> {
    for await (const resolved of this.client.readStream(stream, { fromRevision: revision, maxCount: 1 })) {
      if (resolved.event?.position) return resolved.event.position;
    }
    throw new Error(`stream ${stream}: no position for revision ${revision}`);
  }
}

const toEsdbExpected = (expected: ExpectedRevision): AppendExpectedRevision =>
  expected === NO_STREAM ? ESDB_NO_STREAM : expected === STREAM_EXISTS ? ESDB_STREAM_EXISTS : expected === ANY ? ESDB_ANY : expected;

const categoryPrefix = (category: string | undefined): string | undefined => {
  if (category === undefined) return undefined;
  if (!isValidCategory(category)) throw new Error(`invalid category "${category}"`);
  return `${category}-`;
};

const isSystem = (event: EsdbRecordedEvent): boolean => event.type.startsWith('$') || event.streamId.startsWith('$');

// Zero-padded decimal so that string order is (commit, prepare) order.
export const encodePosition = (position: Position): GlobalPosition =>
  `${position.commit.toString().padStart(20, '0')}/${position.prepare.toString().padStart(20, '0')}` as GlobalPosition;

export function decodePosition(position: GlobalPosition): Position {
  const match = /^(\d{20})\/(\d{20})$/.exec(position);
  if (!match) throw new Error(`not an EventStoreDB position: "${position}"`);
  return { commit: BigInt(match[1]!), prepare: BigInt(match[2]!) };
}

function toRecorded(event: EsdbRecordedEvent): RecordedEvent {
  const stored = (event.metadata ?? {}) as Record<string, unknown>;
  const metadata: EventMetadata = {
    correlationId: String(stored.correlationId ?? stored.$correlationId ?? ''),
    causationId: String(stored.causationId ?? stored.$causationId ?? ''),
    commandId: String(stored.commandId ?? ''),
    actor: String(stored.actor ?? ''),
    ...(typeof stored.authorization === 'string' && { authorization: stored.authorization }),
    occurredAt: String(stored.occurredAt ?? ''),
    schemaVersion: Number(stored.schemaVersion ?? 1),
  };
  if (!event.position) throw new Error(`event ${event.id} in ${event.streamId} came without a position`);
  return {
    id: event.id,
    stream: event.streamId as StreamName,
    type: event.type,
    revision: event.revision,
    position: encodePosition(event.position),
    data: event.data,
    metadata,
    recordedAt: event.created.toISOString(),
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { JetStreamClient, JetStreamManager, JsMsg, NatsConnection, StoredMsg } from 'nats';
import type { Logger } from 'pino';
import type { DirectStreamAPI } from 'nats/lib/jetstream/types.js';
import {
  ANY,
  InvalidAppend,
  NO_STREAM,
  STREAM_EXISTS,
  WrongExpectedRevision,
  type ActualRevision,
  type AppendResult,
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
import { jitteredBackoffMs, RESUBSCRIBE_BACKOFF } from '../../domain/backoff.ts';
import { prepareAppend, type PreparedEvent } from '../../domain/ports/validate-append.ts';
import { isValidCategory, parseStreamName, type StreamName } from '../../domain/streams.ts';
import {
  LINKED_COMMITS,
  NotACommit,
  decodeCommit,
  decodeCommitHeader,
  decodePosition,
  encodeCommit,
  encodePosition,
  type CommitHeader,
} from './commit-codec.ts';
import { EventLogQuarantine } from './event-log-quarantine.ts';
import { ensureEventLogStream, eventLogNames, type EventLogNames } from './event-log-stream.ts';
import { openLogConsumer, type LogConsumer } from './log-consumer.ts';

// Event store on one JetStream stream. Each append is one message (a commit) on subject
// `<prefix>.es.<category>.<id>`; optimistic concurrency maps the dense revision onto
// `Nats-Expected-Last-Subject-Sequence`, and `Nats-Msg-Id` makes a retried append a no-op.

/** Where a stream's last commit sits: its JetStream sequence, the stream's last revision, and the commits it links back to. */
interface StreamTail {
  readonly seq: number;
  readonly revision: ActualRevision;
  readonly earlierSeqs: readonly number[];
}

/** A commit read back by direct get. */
interface StoredCommit {
  readonly seq: number;
  readonly header: CommitHeader;
  readonly events: RecordedEvent[];
}

const NO_TAIL: StreamTail = { seq: 0, revision: NO_STREAM, earlierSeqs: [] };
const CONFLICT_CODES = new Set([10071, 10164]);
const MAX_APPEND_ATTEMPTS = 50;
/**
 * Forward reads of at most this many events up to the tail walk commits backwards by direct
 * get (LINKED_COMMITS at a time); longer ones use a consumer, whose set-up costs about as much
 * as a few dozen direct gets.
 */
const WALK_LIMIT = 32;
/**
 * Without a position to start a consumer at, it would deliver the whole stream from its first
 * commit; a tail up to this long, and short beside what comes before it, is cheaper to walk.
 */
const LONG_WALK_LIMIT = 1_024;
const CHECKPOINT_EVERY = 256;
/**
 * A consumer is created in milliseconds; nats-server 2.9 may place one on a server of the
 * stream's group that is down, and then nothing answers. The sooner that is given up, the
 * sooner another try places it on a live one.
 */
const CONSUMER_CREATE_TIMEOUT_MS = 2_500;
/** Consumers a forward read may try when they cannot be created or stall, before the read fails. */
const MAX_SCAN_ATTEMPTS = 4;

export interface JetStreamEventStoreOptions {
  /** Subject prefix, default `orch`. */
  readonly prefix?: string;
  /** How many stream tails to keep in memory. */
  readonly tailCacheSize?: number;
  /** Replicas of the event-log stream when this creates it, default 1. */
  readonly replicas?: number;
  /** Where interrupted subscriptions and messages that are not commits are reported. */
  readonly logger?: Logger;
}

/** Waits between attempts to resume an interrupted subscription: doubling from 250 ms to 5 s, with jitter. */
const resumeDelayMs = (failures: number): number => jitteredBackoffMs(failures, RESUBSCRIBE_BACKOFF, Math.random());

export class JetStreamEventStore implements EventStore {
  private readonly js: JetStreamClient;
  // Direct get is on the manager in nats.js 2.29 but not yet in its public interface.
  private readonly direct: DirectStreamAPI;
  private readonly tails: LRUCache<string, StreamTail>;
  /** Sequences of messages passed over as not commits, by this process. */
  private readonly passedOver = new Set<number>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly names: EventLogNames,
    tailCacheSize: number,
    private readonly quarantine: EventLogQuarantine,
    private readonly logger: Logger | undefined,
    /** Creates the log's consumers, with a short timeout (see CONSUMER_CREATE_TIMEOUT_MS). */
    private readonly consumerJsm: JetStreamManager,
  ) {
    this.js = nc.jetstream();
    this.direct = (jsm as JetStreamManager & { direct: DirectStreamAPI }).direct;
    this.tails = new LRUCache({ max: tailCacheSize });
  }

  /** Creates or verifies the event-log stream, then returns a store over it. */
  static async connect(nc: NatsConnection, options: JetStreamEventStoreOptions = {}): Promise<JetStreamEventStore> {
    const names = eventLogNames(options.prefix ?? 'orch');
    const jsm = await nc.jetstreamManager();
    await ensureEventLogStream(jsm, names, options.replicas);
    const quarantine = await EventLogQuarantine.open(nc, { prefix: options.prefix ?? 'orch', replicas: options.replicas ?? 1 });
    const consumerJsm = await nc.jetstreamManager({ timeout: CONSUMER_CREATE_TIMEOUT_MS });
    return new JetStreamEventStore(nc, jsm, names, options.tailCacheSize ?? 10_000, quarantine, options.logger, consumerJsm);
  }

  /** How many messages this process has passed over because they are not commits. */
  get quarantinedCount(): number {
    return this.passedOver.size;
  }

  get streamName(): string {
    return this.names.streamName;
  }

  async append(stream: StreamName, newEvents: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const events = prepareAppend(stream, newEvents);
    const subject = this.subjectOf(stream);
    // The cached tail is only a hint: any disagreement is settled by reading the server's tail.
    // A stream expected not to exist needs no read first: the server's sequence check decides.
    let tail = this.tails.get(stream) ?? (expected === NO_STREAM ? NO_TAIL : undefined);
    let fresh = false;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      if (!tail || (!fresh && !satisfies(expected, tail.revision))) {
        tail = await this.loadTail(subject);
        fresh = true;
      }
      if (!satisfies(expected, tail.revision)) {
        const retried = await this.recognizeRetry(stream, expected, tail, events);
        if (retried) return retried;
        throw new WrongExpectedRevision(stream, expected, tail.revision);
      }
      const last = (tail.revision === NO_STREAM ? -1n : tail.revision) + BigInt(events.length);
      const earlierSeqs = tail.seq > 0 ? [tail.seq, ...tail.earlierSeqs].slice(0, LINKED_COMMITS) : [];
      const { body, headers } = encodeCommit(last, events, earlierSeqs);
      try {
        const ack = await this.js.publish(subject, body, {
          headers,
          msgID: events[0]!.id,
          expect: { lastSubjectSequence: tail.seq },
        });
        if (ack.duplicate) return this.resultOfStoredCommit(ack.seq);
        this.tails.set(stream, { seq: ack.seq, revision: last, earlierSeqs });
        return { revision: last, position: encodePosition(ack.seq, events.length - 1) };
      } catch (error) {
        const code = (error as { api_error?: { err_code?: number } }).api_error?.err_code;
        if (code !== undefined && CONFLICT_CODES.has(code)) {
          // Someone appended in between: reload and decide again against the real tail.
          this.tails.delete(stream);
          tail = undefined;
          continue;
        }
        if (/maximum payload exceeded/i.test((error as Error).message)) {
          throw new InvalidAppend(stream, `commit of ${body.length} bytes exceeds the NATS server's max_payload`);
        }
        throw error;
      }
    }
    throw new Error(`append to ${stream}: gave up after ${MAX_APPEND_ATTEMPTS} attempts under contention`);
  }

  async read(stream: StreamName, options: ReadStreamOptions = {}): Promise<ReadStreamResult> {
    parseStreamName(stream);
    const subject = this.subjectOf(stream);
    const stored = await this.directGet({ last_by_subj: subject });
    if (!stored) return { exists: false, events: [] };
    const last = await this.decodeStoredOrPass(stored);
    if (!last) return this.readPastNonCommits(subject, stored.seq, options);
    // The tail just read is what an append after this read (load, decide, append) expects.
    this.tails.set(stream, { seq: stored.seq, revision: last.header.lastRevision, earlierSeqs: last.header.earlierSeqs });
    const max = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (max <= 0) return { exists: true, events: [] };
    const tailRevision = last.header.lastRevision;

    if (options.direction === 'backward') {
      const from = options.fromRevision === undefined || options.fromRevision > tailRevision ? tailRevision : options.fromRevision;
      const floor = max === Number.POSITIVE_INFINITY ? 0n : from - BigInt(max) + 1n;
      const commits = await this.commitsBack(last, floor);
      const events = commits.flatMap((c) => [...c].reverse()).filter((e) => e.revision <= from);
      return { exists: true, events: events.slice(0, max) };
    }
    const from = options.fromRevision ?? 0n;
    if (from > tailRevision) return { exists: true, events: [] };
    const span = tailRevision - from + 1n;
    const hinted = seqOf(options.fromPosition);
    const startSeq = hinted !== undefined && hinted <= stored.seq ? hinted : undefined;
    const walk = span <= BigInt(WALK_LIMIT) || (startSeq === undefined && span <= BigInt(LONG_WALK_LIMIT) && span * 4n <= from);
    const events = walk
      ? (await this.commitsBack(last, from))
          .reverse()
          .flat()
          .filter((e) => e.revision >= from)
      : await this.readForward(subject, from, max, stored.seq, startSeq);
    return { exists: true, events: events.slice(0, max) };
  }

  async readAll(options: ReadAllOptions = {}): Promise<readonly RecordedEvent[]> {
    const filter = this.filterFor(options.category);
    const end = await this.lastSeqMatching(filter);
    const after = options.after ? decodePosition(options.after) : undefined;
    const max = options.maxCount ?? Number.POSITIVE_INFINITY;
    const events: RecordedEvent[] = [];
    if (end === 0 || max <= 0) return events;
    await this.scan(filter, after?.seq ?? 1, end, (commit) => {
      for (const event of commit) {
        if (after && !isAfter(event.position, after)) continue;
        events.push(event);
        if (events.length >= max) return false;
      }
      return true;
    });
    return events;
  }

  async headPosition(options: { readonly category?: string } = {}): Promise<GlobalPosition | undefined> {
    const stored = await this.directGet({ last_by_subj: this.filterFor(options.category) });
    if (!stored) return undefined;
    // A message that is not a commit at the head: the head is still its place in the log.
    return (await this.decodeStoredOrPass(stored))?.events.at(-1)?.position ?? encodePosition(stored.seq, 0);
  }

  /**
   * Follows the log with an ephemeral consumer (log-consumer.ts). If the consumer's iterator
   * ends, fails or stalls while the subscription is open (a broker restart, a consumer lost with
   * the server it lived on), it is started again after the last commit delivered, with backoff,
   * until the connection is closed for good. Messages that are not commits are quarantined and
   * passed over.
   */
  subscribe(options: SubscribeOptions = {}): Subscription {
    const filter = this.filterFor(options.category);
    const after = options.after ? decodePosition(options.after) : undefined;
    let closed = false;
    let stopConsuming: (() => void) | undefined;
    const { nc, logger } = this;
    const decodeOrPass = (message: JsMsg) => this.decodeOrPass(message);
    const open = (startSeq: number) => this.openConsumer(filter, startSeq);

    async function* messages(): AsyncGenerator<SubscriptionMessage> {
      let nextSeq = after?.seq ?? 1;
      let caughtUp = false;
      for (let failures = 0; !closed;) {
        let consuming: LogConsumer | undefined;
        try {
          consuming = await open(nextSeq);
          const current = consuming;
          stopConsuming = () => current.stop();
          if (closed) return;
          if (failures > 0) logger?.info({ filter, fromSeq: nextSeq, failures }, 'event subscription resumed');
          failures = 0;
          if (!caughtUp && consuming.numPending === 0) {
            caughtUp = true;
            yield { kind: 'caughtUp' };
          }
          let sinceCheckpoint = 0;
          for await (const message of consuming.messages) {
            // Not a commit: passed over (and quarantined). Any other decode error is not skipped:
            // the subscription resumes at this message and fails again, loudly.
            const commit = await decodeOrPass(message);
            nextSeq = message.seq + 1;
            for (const event of commit) {
              if (after && !isAfter(event.position, after)) continue;
              yield { kind: 'event', event };
              sinceCheckpoint++;
            }
            const idle = message.info.pending === 0;
            if ((idle && sinceCheckpoint > 0) || sinceCheckpoint >= CHECKPOINT_EVERY) {
              yield { kind: 'checkpoint', position: encodePosition(message.seq, Math.max(0, commit.length - 1)) };
              sinceCheckpoint = 0;
            }
            if (idle && !caughtUp) {
              caughtUp = true;
              yield { kind: 'caughtUp' };
            }
          }
          if (closed) return;
          // One line per stall: the consumer is replaced by a new one after the last handled commit.
          if (consuming.stalled)
            logger?.warn({ filter, nextSeq, reason: consuming.stalled }, 'event subscription stalled; restarting it after the last handled event');
          else logger?.warn({ filter, nextSeq }, 'event subscription ended by itself; resuming');
        } catch (error) {
          if (closed) return;
          if (nc.isClosed()) throw error;
          logger?.warn({ err: error, filter, nextSeq }, 'event subscription interrupted; resuming');
        } finally {
          consuming?.stop();
        }
        failures++;
        await sleep(resumeDelayMs(failures));
      }
    }

    const generator = messages();
    return {
      [Symbol.asyncIterator]: () => generator,
      async close() {
        closed = true;
        stopConsuming?.();
        await generator.return(undefined);
      },
    };
  }

  async close(): Promise<void> {
    this.tails.clear();
  }

  private subjectOf(stream: StreamName): string {
    const { category, id } = parseStreamName(stream);
    return `${this.names.subjectPrefix}.${category}.${id}`;
  }

  private filterFor(category: string | undefined): string {
    if (category === undefined) return `${this.names.subjectPrefix}.>`;
    if (!isValidCategory(category)) throw new Error(`invalid category "${category}"`);
    return `${this.names.subjectPrefix}.${category}.*`;
  }

  private async loadTail(subject: string): Promise<StreamTail> {
    const last = await this.directGet({ last_by_subj: subject });
    if (!last) return NO_TAIL;
    // A stream whose last message is not a commit cannot be appended to: this throws NotACommit.
    const header = decodeCommitHeader(last.subject, last.header);
    return { seq: last.seq, revision: header.lastRevision, earlierSeqs: header.earlierSeqs };
  }

  private async lastSeqMatching(filter: string): Promise<number> {
    return (await this.directGet({ last_by_subj: filter }))?.seq ?? 0;
  }

  private async directGet(query: { last_by_subj: string } | { seq: number }): Promise<StoredMsg | undefined> {
    try {
      return await this.direct.getMessage(this.names.streamName, query);
    } catch (error) {
      if ((error as { code?: string }).code === '404') return undefined;
      throw error;
    }
  }

  private async resultOfStoredCommit(seq: number): Promise<AppendResult> {
    const stored = await this.directGet({ seq });
    if (!stored) throw new Error(`duplicate append acknowledged at sequence ${seq}, but that message is gone`);
    const commit = decodeCommit(stored.seq, stored.subject, stored.time, stored.header, stored.data);
    const last = commit[commit.length - 1]!;
    return { revision: last.revision, position: last.position };
  }

  /**
   * A command retried after the server's de-duplication window has passed: if the events right
   * after the expected revision carry the same ids, the append already happened.
   */
  private async recognizeRetry(
    stream: StreamName,
    expected: ExpectedRevision,
    tail: StreamTail,
    events: readonly PreparedEvent[],
  ): Promise<AppendResult | undefined> {
    if (tail.revision === NO_STREAM || (expected !== NO_STREAM && typeof expected !== 'bigint')) return undefined;
    const from = expected === NO_STREAM ? 0n : expected + 1n;
    const { events: stored } = await this.read(stream, { fromRevision: from, maxCount: events.length });
    const same = stored.length === events.length && stored.every((e, i) => e.id === events[i]!.id);
    const last = stored[stored.length - 1];
    return same && last ? { revision: last.revision, position: last.position } : undefined;
  }

  /**
   * The stream's commits from `last` backwards, newest first, until one starts at or below
   * `floor`. Each round fetches the commits the oldest one links to in parallel; links are
   * checked against the revision chain, and where they disagree the walk goes on one commit at
   * a time by the previous-commit sequence the server itself recorded.
   */
  private async commitsBack(last: StoredCommit, floor: bigint): Promise<RecordedEvent[][]> {
    const commits = [last.events];
    let oldest = last;
    let links = last.header.earlierSeqs;
    while (oldest.events[0]!.revision > floor && oldest.header.previousSeq > 0) {
      // Each commit holds at least one event, so no more commits than missing events are needed.
      const missing = oldest.events[0]!.revision - floor;
      const batch = links.slice(0, missing < BigInt(links.length) ? Number(missing) : links.length);
      const fetched = await Promise.all(batch.map((seq) => this.directGet({ seq })));
      const before = oldest;
      for (const stored of fetched) {
        const commit = stored ? decodeStored(stored) : undefined;
        if (!commit || commit.header.stream !== last.header.stream || commit.header.lastRevision !== oldest.events[0]!.revision - 1n) break;
        commits.push(commit.events);
        oldest = commit;
        if (commit.events[0]!.revision <= floor) break;
      }
      if (oldest !== before) {
        links = oldest.header.earlierSeqs;
      } else if (links[0] !== oldest.header.previousSeq || links.length > 1) {
        links = [oldest.header.previousSeq];
      } else {
        throw new Error(`event-store commit before sequence ${oldest.seq} of ${last.header.stream} is missing or out of order`);
      }
    }
    return commits;
  }

  /**
   * A forward read far from the tail, by consumer. It starts at `hintedSeq` when that is a
   * commit of this stream at or before `from`; otherwise at the start of the log.
   */
  private async readForward(subject: string, from: bigint, max: number, endSeq: number, hintedSeq?: number): Promise<RecordedEvent[]> {
    const startSeq = hintedSeq ?? 1;
    const events: RecordedEvent[] = [];
    let first = true;
    let startedTooLate = false;
    await this.scan(subject, startSeq, endSeq, (commit) => {
      startedTooLate = first && commit[0]!.revision > from;
      first = false;
      if (startedTooLate) return false;
      for (const event of commit) {
        if (event.revision >= from) events.push(event);
        if (events.length >= max) return false;
      }
      return true;
    });
    if (startedTooLate && startSeq > 1) return this.readForward(subject, from, max, endSeq);
    return events;
  }

  /**
   * Delivers commits matching `filter` from `startSeq` through `endSeq`, in order, until `onCommit`
   * says stop. A consumer that cannot be created or stalls (its server died) is replaced after
   * the last commit read, a few times; then the read fails rather than hang.
   */
  private async scan(filter: string, startSeq: number, endSeq: number, onCommit: (events: RecordedEvent[]) => boolean): Promise<void> {
    let from = startSeq;
    for (let attempt = 1; ; attempt++) {
      let consumer: LogConsumer;
      try {
        consumer = await this.openConsumer(filter, from);
      } catch (error) {
        // nats-server 2.9 may place the new consumer on a server that is down; it then never
        // answers, and another try places it anew.
        if (attempt >= MAX_SCAN_ATTEMPTS || this.nc.isClosed()) throw error;
        this.logger?.warn({ err: error, filter, fromSeq: from }, 'event log read could not start a consumer; trying again');
        continue;
      }
      try {
        if (consumer.numPending === 0) return;
        for await (const message of consumer.messages) {
          from = message.seq + 1;
          const commit = await this.decodeOrPass(message);
          if ((commit.length > 0 && !onCommit(commit)) || message.seq >= endSeq || message.info.pending === 0) return;
        }
      } finally {
        consumer.stop();
      }
      if (!consumer.stalled || attempt >= MAX_SCAN_ATTEMPTS)
        throw new Error(`event log read of ${filter} stopped at sequence ${from} of ${endSeq}${consumer.stalled ? `: ${consumer.stalled}` : ''}`);
      this.logger?.warn({ filter, fromSeq: from, reason: consumer.stalled }, 'event log read stalled; restarting it');
    }
  }

  private openConsumer(filter: string, startSeq: number): Promise<LogConsumer> {
    return openLogConsumer({
      js: this.js,
      jsm: this.consumerJsm,
      stream: this.names.streamName,
      filter,
      startSeq,
      lastSeq: () => this.lastSeqMatching(filter),
    });
  }

  /** A consumed commit's events; none for a message that is not a commit (quarantined). */
  private async decodeOrPass(message: JsMsg): Promise<RecordedEvent[]> {
    try {
      return decodeJsMsg(message);
    } catch (error) {
      if (!(error instanceof NotACommit)) throw error;
      const time = new Date(Math.floor(message.info.timestampNanos / 1_000_000));
      await this.passOver(message.seq, message.subject, time, message.data.length, error);
      return [];
    }
  }

  private async decodeStoredOrPass(stored: StoredMsg): Promise<StoredCommit | undefined> {
    try {
      return decodeStored(stored);
    } catch (error) {
      if (!(error instanceof NotACommit)) throw error;
      await this.passOver(stored.seq, stored.subject, stored.time, stored.data.length, error);
      return undefined;
    }
  }

  /** Counts, records and logs (once) a message that is not a commit; readers then pass over it. */
  private async passOver(seq: number, subject: string, time: Date, size: number, error: NotACommit): Promise<void> {
    if (this.passedOver.has(seq)) return;
    this.passedOver.add(seq);
    let recordedNow: boolean | undefined;
    try {
      recordedNow = await this.quarantine.record({ seq, subject, time: time.toISOString(), reason: error.reason, size });
    } catch (recordError) {
      this.logger?.warn({ err: recordError, seq, subject }, 'could not record a quarantined message');
    }
    // Logged by whichever process records it first (or by each, while the bucket is unreachable).
    if (recordedNow !== false)
      this.logger?.error({ seq, subject, reason: error.reason, size }, 'event log message is not a commit; quarantined and passed over');
  }

  /** A stream whose last message is not a commit: its commits by a forward scan of its subject. */
  private async readPastNonCommits(subject: string, endSeq: number, options: ReadStreamOptions): Promise<ReadStreamResult> {
    const all: RecordedEvent[] = [];
    await this.scan(subject, 1, endSeq, (commit) => {
      all.push(...commit);
      return true;
    });
    if (all.length === 0) return { exists: false, events: [] };
    const max = options.maxCount ?? Number.POSITIVE_INFINITY;
    const from = options.fromRevision;
    const selected =
      options.direction === 'backward' ? all.reverse().filter((e) => from === undefined || e.revision <= from) : all.filter((e) => e.revision >= (from ?? 0n));
    return { exists: true, events: selected.slice(0, max) };
  }
}

function satisfies(expected: ExpectedRevision, actual: ActualRevision): boolean {
  if (expected === ANY) return true;
  if (expected === NO_STREAM) return actual === NO_STREAM;
  if (expected === STREAM_EXISTS) return actual !== NO_STREAM;
  return actual === expected;
}

const isAfter = (position: string, after: { seq: number; index: number }): boolean => {
  const { seq, index } = decodePosition(position as RecordedEvent['position']);
  return seq > after.seq || (seq === after.seq && index > after.index);
};

const decodeStored = (stored: StoredMsg): StoredCommit => ({
  seq: stored.seq,
  header: decodeCommitHeader(stored.subject, stored.header),
  events: decodeCommit(stored.seq, stored.subject, stored.time, stored.header, stored.data),
});

/** The JetStream sequence in a position hint; undefined for anything that is not one of ours. */
function seqOf(position: GlobalPosition | undefined): number | undefined {
  if (position === undefined) return undefined;
  try {
    return decodePosition(position).seq;
  } catch {
    return undefined;
  }
}

const decodeJsMsg = (message: JsMsg): RecordedEvent[] =>
  decodeCommit(message.seq, message.subject, new Date(Math.floor(message.info.timestampNanos / 1_000_000)), message.headers, message.data);

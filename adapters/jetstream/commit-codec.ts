import { headers as natsHeaders, type MsgHdrs } from 'nats';
import type { PreparedEvent } from '../../domain/ports/validate-append.ts';
import type { EventMetadata, GlobalPosition, RecordedEvent } from '../../domain/ports/event-store.ts';
import type { StreamName } from '../../domain/streams.ts';

// One append is one NATS message (a commit), because nats-server 2.9 has no atomic
// multi-message publish. Our headers are the revision of the commit's last event and the
// sequences of a few earlier commits of the same stream; the stream comes from the subject,
// and the sequence of the stream's previous commit is the `Nats-Expected-Last-Subject-Sequence`
// the server stores with the message (verified on nats-server 2.9.10). Backward reads walk
// from commit to commit; the earlier sequences let them fetch several commits at once instead
// of one round trip per commit (nats-server 2.9 has no batched direct get).

export const REVISION_HEADER = 'Orch-Revision';
const PREVIOUS_HEADER = 'Nats-Expected-Last-Subject-Sequence';
/** Commits before the previous one, newest first, as base-36 differences each from the one before. */
const EARLIER_HEADER = 'Orch-Earlier-Commits';
/** How many of a stream's earlier commits each commit names, the previous one included. */
export const LINKED_COMMITS = 16;

export interface CommitHeader {
  readonly stream: StreamName;
  /** Revision of the last event in the commit. */
  readonly lastRevision: bigint;
  /** JetStream sequence of the stream's previous commit; 0 when this is the first. */
  readonly previousSeq: number;
  /**
   * Sequences of up to LINKED_COMMITS earlier commits of the stream, newest first, starting
   * with `previousSeq`. Commits written before this header existed name only the previous one.
   */
  readonly earlierSeqs: readonly number[];
}

interface StoredEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Body and headers of a commit. `earlierSeqs` are the stream's commits before this one, newest
 * first; the caller publishes expecting `earlierSeqs[0]` as the last subject sequence.
 */
export function encodeCommit(
  lastRevision: bigint,
  events: readonly PreparedEvent[],
  earlierSeqs: readonly number[] = [],
): { body: Uint8Array; headers: MsgHdrs } {
  const h = natsHeaders();
  h.set(REVISION_HEADER, lastRevision.toString());
  if (earlierSeqs.length > 1) h.set(EARLIER_HEADER, encodeEarlier(earlierSeqs.slice(0, LINKED_COMMITS)));
  const stored: StoredEvent[] = events.map(({ id, type, data, metadata }) => ({ id, type, data, metadata }));
  return { body: encoder.encode(JSON.stringify(stored)), headers: h };
}

/** `<prefix>.es.<category>.<id>` → `<category>-<id>` */
export const streamOfSubject = (subject: string): StreamName => {
  const parts = subject.split('.');
  return `${parts[parts.length - 2]}-${parts[parts.length - 1]}` as StreamName;
};

/**
 * A message in the event log that is not a commit we can read: anyone who may publish on the
 * log's subjects can put one there, and the log denies deletes, so readers pass over it.
 */
export class NotACommit extends Error {
  override readonly name = 'NotACommit';
  constructor(
    readonly subject: string,
    readonly reason: string,
  ) {
    super(`message on ${subject} is not an event-store commit: ${reason}`);
  }
}

export function decodeCommitHeader(subject: string, h: MsgHdrs | undefined): CommitHeader {
  const revision = h?.get(REVISION_HEADER);
  if (!h || !revision) throw new NotACommit(subject, `no ${REVISION_HEADER} header`);
  if (!/^\d{1,19}$/.test(revision)) throw new NotACommit(subject, `${REVISION_HEADER} "${revision.slice(0, 40)}" is not a revision`);
  const previousSeq = Number(h.get(PREVIOUS_HEADER) || 0);
  return {
    stream: streamOfSubject(subject),
    lastRevision: BigInt(revision),
    previousSeq,
    earlierSeqs: previousSeq > 0 ? decodeEarlier(previousSeq, h.get(EARLIER_HEADER)) : [],
  };
}

const encodeEarlier = (seqs: readonly number[]): string =>
  seqs
    .slice(1)
    .map((seq, i) => (seqs[i]! - seq).toString(36))
    .join('.');

/** A malformed list is cut where it goes wrong: readers check what they fetch anyway. */
function decodeEarlier(previousSeq: number, value: string): number[] {
  const seqs = [previousSeq];
  if (!value) return seqs;
  for (const part of value.split('.')) {
    const seq = seqs[seqs.length - 1]! - parseInt(part, 36);
    if (!(seq > 0 && seq < seqs[seqs.length - 1]!)) break;
    seqs.push(seq);
  }
  return seqs;
}

export function decodeCommit(seq: number, subject: string, time: Date, h: MsgHdrs | undefined, body: Uint8Array): RecordedEvent[] {
  const header = decodeCommitHeader(subject, h);
  const stored = parseStoredEvents(subject, body);
  if (BigInt(stored.length - 1) > header.lastRevision) throw new NotACommit(subject, `${stored.length} events end at revision ${header.lastRevision}`);
  const firstRevision = header.lastRevision - BigInt(stored.length - 1);
  const recordedAt = time.toISOString();
  return stored.map((event, index) => ({
    id: event.id,
    stream: header.stream,
    type: event.type,
    revision: firstRevision + BigInt(index),
    position: encodePosition(seq, index),
    data: event.data,
    metadata: event.metadata,
    recordedAt,
  }));
}

/** The body of a commit: a non-empty JSON array of events, each with an id, a type and its metadata. */
function parseStoredEvents(subject: string, body: Uint8Array): StoredEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(body));
  } catch {
    throw new NotACommit(subject, 'body is not JSON');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new NotACommit(subject, 'body is not a non-empty JSON array of events');
  parsed.forEach((event: unknown, index) => {
    const e = event as Partial<StoredEvent> | null;
    const valid =
      typeof e === 'object' &&
      e !== null &&
      typeof e.id === 'string' &&
      e.id !== '' &&
      typeof e.type === 'string' &&
      e.type !== '' &&
      typeof e.metadata === 'object' &&
      e.metadata !== null;
    if (!valid) throw new NotACommit(subject, `event ${index} lacks an id, a type or metadata`);
  });
  return parsed as StoredEvent[];
}

// Zero-padded so that string order is (sequence, index) order.
export const encodePosition = (seq: number, index: number): GlobalPosition =>
  `${String(seq).padStart(20, '0')}:${String(index).padStart(6, '0')}` as GlobalPosition;

export function decodePosition(position: GlobalPosition): { seq: number; index: number } {
  const match = /^(\d{20}):(\d{6})$/.exec(position);
  if (!match) throw new Error(`not a JetStream event-store position: "${position}"`);
  return { seq: Number(match[1]), index: Number(match[2]) };
}

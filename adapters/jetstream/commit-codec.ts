import { headers as natsHeaders, type MsgHdrs } from 'nats';
import type { PreparedEvent } from '../../domain/ports/validate-append.ts';
import type { EventMetadata, GlobalPosition, RecordedEvent } from '../../domain/ports/event-store.ts';
import type { StreamName } from '../../domain/streams.ts';

// One append is one NATS message (a commit), because nats-server 2.9 has no atomic
// multi-message publish. The only header of our own is the revision of the commit's last
// event; the stream comes from the subject, and the sequence of the stream's previous commit
// is the `Nats-Expected-Last-Subject-Sequence` the server stores with the message (verified on
// nats-server 2.9.10), which makes backward reads a walk from commit to commit.

export const REVISION_HEADER = 'Orch-Revision';
const PREVIOUS_HEADER = 'Nats-Expected-Last-Subject-Sequence';

export interface CommitHeader {
  readonly stream: StreamName;
  /** Revision of the last event in the commit. */
  readonly lastRevision: bigint;
  /** JetStream sequence of the stream's previous commit; 0 when this is the first. */
  readonly previousSeq: number;
}

interface StoredEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Body and headers of a commit; the caller publishes it expecting `previousSeq` as last subject sequence. */
export function encodeCommit(lastRevision: bigint, events: readonly PreparedEvent[]): { body: Uint8Array; headers: MsgHdrs } {
  const h = natsHeaders();
  h.set(REVISION_HEADER, lastRevision.toString());
  const stored: StoredEvent[] = events.map(({ id, type, data, metadata }) => ({ id, type, data, metadata }));
  return { body: encoder.encode(JSON.stringify(stored)), headers: h };
}

/** `<prefix>.es.<category>.<id>` → `<category>-<id>` */
export const streamOfSubject = (subject: string): StreamName => {
  const parts = subject.split('.');
  return `${parts[parts.length - 2]}-${parts[parts.length - 1]}` as StreamName;
};

export function decodeCommitHeader(subject: string, h: MsgHdrs | undefined): CommitHeader {
  const revision = h?.get(REVISION_HEADER);
  if (!h || !revision) throw new Error(`message on ${subject} is not an event-store commit (no ${REVISION_HEADER} header)`);
  return { stream: streamOfSubject(subject), lastRevision: BigInt(revision), previousSeq: Number(h.get(PREVIOUS_HEADER) || 0) };
}

export function decodeCommit(seq: number, subject: string, time: Date, h: MsgHdrs | undefined, body: Uint8Array): RecordedEvent[] {
  const header = decodeCommitHeader(subject, h);
  const stored = JSON.parse(decoder.decode(body)) as StoredEvent[];
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

// Zero-padded so that string order is (sequence, index) order.
export const encodePosition = (seq: number, index: number): GlobalPosition =>
  `${String(seq).padStart(20, '0')}:${String(index).padStart(6, '0')}` as GlobalPosition;

export function decodePosition(position: GlobalPosition): { seq: number; index: number } {
  const match = /^(\d{20}):(\d{6})$/.exec(position);
  if (!match) throw new Error(`not a JetStream event-store position: "${position}"`);
  return { seq: Number(match[1]), index: Number(match[2]) };
}

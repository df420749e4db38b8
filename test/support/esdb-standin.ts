/**
 * TEST FIXTURE ONLY: an in-memory stand-in for EventStoreDB, used by the tests.
 *
 * There is no EventStoreDB server on the build machines (no Docker, not in npm
 * or Debian), so this file runs a small gRPC server built with @grpc/grpc-js from
 * the service definitions that ship in @eventstore/db-client/generated. The real
 * client (6.2.1) talks to it over a real gRPC connection
 * (`esdb://127.0.0.1:<port>?tls=false`). Protocol facts: /work/shared/notes/esdb-standin.md.
 *
 * What it covers:
 * - `Streams.Append` (ServerFeatures is deliberately NOT registered, so the client
 *   gets UNIMPLEMENTED and falls back from BatchAppend to Append). All-or-nothing;
 *   expected revision / no_stream / any / stream_exists; wrong expected version is
 *   an OK-ending response with `wrong_expected_version` set; idempotent retries by
 *   event id (whole batch only, see `findDuplicate`).
 * - `Streams.Read`: one stream (forwards/backwards, start/end/revision, count),
 *   `$all` (forwards/backwards, start/end/position, optional filter), and
 *   subscriptions to `$all` (filters, checkpoints, caught_up, live) or to one stream.
 * - Everything else (Delete, Tombstone, BatchAppend, projections, persistent
 *   subscriptions, gossip, users...) answers UNIMPLEMENTED.
 *
 * Positions: every event gets its own log position, commit == prepare, strictly
 * increasing and deliberately NOT dense (first event at 128, then each step is
 * 128 + payload bytes, roughly like byte offsets), so code that assumes
 * `position + 1` or "0 means empty" breaks here as it would on a real server.
 * `$all` reads forwards from a position include the event at it; backwards from a
 * position exclude it; subscriptions from a position exclude it.
 *
 * What it cannot prove: real server behaviour beyond this wire subset: system
 * events and `$`-streams (the log holds only client events), `$ce-`/`$et-`
 * projections, deletes and stream metadata, ACLs, max append size, .NET vs JS regex
 * dialects, exact idempotency rules (real ESDB keeps a bounded id cache), persistent
 * subscriptions, backpressure / fell_behind, clustering, durability. The adapter's
 * contract suite must also run against a real EventStoreDB when ESDB_URL is set.
 */
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import type * as GrpcT from '@grpc/grpc-js';
import type { AppendReq, AppendResp, ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb.js';
import type { StreamIdentifier } from '@eventstore/db-client/generated/shared_pb.js';

// CommonJS, loaded with Node's require so these are the very module instances the
// client uses: the generated serializers do `instanceof` checks on messages.
const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js') as typeof GrpcT;
const pb = require('@eventstore/db-client/generated/streams_pb.js') as typeof import('@eventstore/db-client/generated/streams_pb.js');
const shared = require('@eventstore/db-client/generated/shared_pb.js') as typeof import('@eventstore/db-client/generated/shared_pb.js');
const { StreamsService } = require('@eventstore/db-client/generated/streams_grpc_pb.js') as typeof import('@eventstore/db-client/generated/streams_grpc_pb.js');

export interface EsdbStandIn {
  readonly connectionString: string; // 'esdb://127.0.0.1:<port>?tls=false'
  readonly port: number;
  stop(): Promise<void>; // forceShutdown; does not hang with live subscriptions open
}

interface Proposed {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

interface StoredEvent extends Proposed {
  readonly streamName: string;
  readonly revision: bigint; // 0-based, dense per stream
  readonly position: bigint; // commit == prepare, strictly increasing over the log
  readonly created: string; // .NET ticks (100 ns) since the Unix epoch, as the server sends it
}

type Expected = { readonly kind: 'revision'; readonly revision: bigint } | { readonly kind: 'no_stream' | 'any' | 'stream_exists' };

/** ESDB's default search window when the filter asks for `count` rather than `max`. */
const DEFAULT_SEARCH_WINDOW = 32;
const POSITION_STEP = 128n;

class Store {
  readonly log: StoredEvent[] = [];
  readonly streams = new Map<string, StoredEvent[]>();
  readonly listeners = new Set<(event: StoredEvent) => void>();
  private nextPosition = POSITION_STEP;

  append(streamName: string, expected: Expected, batch: readonly Proposed[]): AppendResp {
    const existing = this.streams.get(streamName) ?? [];
    const resp = new pb.AppendResp();
    // Idempotency is checked before the expected version, as on the real server:
    // a retried append whose events are already there succeeds without writing.
    const duplicate = findDuplicate(existing, expected, batch);
    if (duplicate) return resp.setSuccess(success(duplicate));

    const current = existing.length === 0 ? undefined : BigInt(existing.length - 1);
    const ok =
      expected.kind === 'any' ||
      (expected.kind === 'no_stream' && current === undefined) ||
      (expected.kind === 'stream_exists' && current !== undefined) ||
      (expected.kind === 'revision' && current === expected.revision);
    if (!ok) return resp.setWrongExpectedVersion(wrongExpectedVersion(current, expected));

    if (batch.length === 0) {
      const empty = new pb.AppendResp.Success().setNoPosition(new shared.Empty());
      return resp.setSuccess(current === undefined ? empty.setNoStream(new shared.Empty()) : empty.setCurrentRevision(current.toString()));
    }
    const created = (BigInt(Date.now()) * 10_000n).toString();
    const written = batch.map((p, i): StoredEvent => {
      const position = this.nextPosition;
      this.nextPosition += POSITION_STEP + BigInt(p.data.length + p.customMetadata.length);
      return { ...p, streamName, revision: BigInt(existing.length + i), position, created };
    });
    existing.push(...written);
    this.streams.set(streamName, existing);
    this.log.push(...written);
    // Live subscribers hear about the events only once the whole batch is stored.
    for (const event of written) for (const listener of [...this.listeners]) listener(event);
    return resp.setSuccess(success(written[written.length - 1]!));
  }
}

/** The already-stored events equal to the whole batch (by id, in order) at the place the batch would go. */
function findDuplicate(existing: readonly StoredEvent[], expected: Expected, batch: readonly Proposed[]): StoredEvent | undefined {
  const first = batch[0];
  if (!first) return undefined;
  const start = expected.kind === 'revision' ? Number(expected.revision) + 1 : expected.kind === 'no_stream' ? 0 : existing.findIndex((e) => e.id === first.id); // any / stream_exists: wherever it sits
  if (start < 0) return undefined;
  const slice = existing.slice(start, start + batch.length);
  const same = slice.length === batch.length && slice.every((e, i) => e.id === batch[i]?.id);
  return same ? slice[slice.length - 1] : undefined;
}

function success(last: StoredEvent): AppendResp.Success {
  const position = new pb.AppendResp.Position().setCommitPosition(last.position.toString()).setPreparePosition(last.position.toString());
  return new pb.AppendResp.Success().setCurrentRevision(last.revision.toString()).setPosition(position);
}

function wrongExpectedVersion(current: bigint | undefined, expected: Expected): AppendResp.WrongExpectedVersion {
  const wev = new pb.AppendResp.WrongExpectedVersion();
  if (current === undefined) wev.setCurrentNoStream(new shared.Empty());
  else wev.setCurrentRevision(current.toString());
  if (expected.kind === 'revision') wev.setExpectedRevision(expected.revision.toString());
  else if (expected.kind === 'no_stream') wev.setExpectedNoStream(new shared.Empty());
  else if (expected.kind === 'stream_exists') wev.setExpectedStreamExists(new shared.Empty());
  else wev.setExpectedAny(new shared.Empty());
  return wev;
}

const nameOf = (id: StreamIdentifier | undefined): string => Buffer.from(id?.getStreamName_asU8() ?? []).toString('utf8');
const identifier = (name: string): StreamIdentifier => new shared.StreamIdentifier().setStreamName(Buffer.from(name, 'utf8'));

/** Stream reads carry `no_position` on the ReadEvent, `$all` reads the commit position. */
function eventResp(e: StoredEvent, fromAll: boolean): ReadResp {
  const record = new pb.ReadResp.ReadEvent.RecordedEvent()
    .setId(new shared.UUID().setString(e.id))
    .setStreamIdentifier(identifier(e.streamName))
    .setStreamRevision(e.revision.toString())
    .setCommitPosition(e.position.toString())
    .setPreparePosition(e.position.toString())
    .setData(e.data)
    .setCustomMetadata(e.customMetadata);
  record.getMetadataMap().set('type', e.type).set('content-type', e.contentType).set('created', e.created);
  const read = new pb.ReadResp.ReadEvent().setEvent(record);
  if (fromAll) read.setCommitPosition(e.position.toString());
  else read.setNoPosition(new shared.Empty());
  return new pb.ReadResp().setEvent(read);
}

const checkpointResp = (position: bigint): ReadResp =>
  new pb.ReadResp().setCheckpoint(new pb.ReadResp.Checkpoint().setCommitPosition(position.toString()).setPreparePosition(position.toString()));

/** Stream-name or event-type filter: a prefix list (any prefix matches) or a regex (JS dialect). */
function compileFilter(options: ReadReq.Options): ((e: StoredEvent) => boolean) | undefined {
  const filter = options.getFilter();
  if (!options.hasFilter() || !filter) return undefined;
  const expression = filter.getStreamIdentifier() ?? filter.getEventType();
  const field = filter.hasStreamIdentifier() ? (e: StoredEvent) => e.streamName : (e: StoredEvent) => e.type;
  const prefixes = expression?.getPrefixList() ?? [];
  if (prefixes.length > 0) return (e) => prefixes.some((p) => field(e).startsWith(p));
  const regex = expression?.getRegex() ? new RegExp(expression.getRegex()) : undefined;
  return (e) => regex === undefined || regex.test(field(e));
}

type ReadCall = GrpcT.ServerWritableStream<ReadReq, ReadResp>;

// grpc-js turns an 'error' event on a server stream into the call's final status.
const fail = (call: ReadCall, code: GrpcT.status, details: string): void => void call.emit('error', { code, details });

function handleRead(store: Store, call: ReadCall): void {
  const options = call.request.getOptions();
  if (!options || (!options.hasStream() && !options.hasAll())) return fail(call, grpc.status.INVALID_ARGUMENT, 'stream or all options required');
  if (options.hasSubscription()) return subscribe(store, call, options);

  const forwards = options.getReadDirection() !== pb.ReadReq.Options.ReadDirection.BACKWARDS;
  const count = Number(options.getCount() || '0');
  const matches = compileFilter(options) ?? (() => true);
  let events: StoredEvent[];
  const stream = options.getStream();
  if (stream) {
    const all = store.streams.get(nameOf(stream.getStreamIdentifier()));
    if (!all) {
      // Not a gRPC error: one stream_not_found message, then a normal end.
      call.write(new pb.ReadResp().setStreamNotFound(new pb.ReadResp.StreamNotFound().setStreamIdentifier(stream.getStreamIdentifier())));
      return void call.end();
    }
    const revision = stream.hasRevision() ? Number(BigInt(stream.getRevision())) : undefined; // inclusive
    events = forwards
      ? all.slice(stream.hasEnd() ? all.length : (revision ?? 0))
      : all.slice(0, stream.hasStart() ? 1 : (revision ?? all.length - 1) + 1).reverse();
  } else {
    const allOptions = options.getAll()!;
    const at = allOptions.hasPosition() ? BigInt(allOptions.getPosition()!.getCommitPosition()) : undefined;
    if (forwards) events = allOptions.hasEnd() ? [] : store.log.filter((e) => at === undefined || e.position >= at);
    else events = allOptions.hasStart() ? [] : store.log.filter((e) => at === undefined || e.position < at).reverse();
  }
  for (const event of events.filter(matches).slice(0, count)) call.write(eventResp(event, !stream));
  call.end();
}

/**
 * confirmation -> catch-up (after the start, exclusive) -> checkpoint -> caught_up -> live.
 * Catch-up and listener registration happen in one synchronous turn, and appends
 * notify synchronously, so no event can be missed or delivered twice.
 */
function subscribe(store: Store, call: ReadCall, options: ReadReq.Options): void {
  call.write(new pb.ReadResp().setConfirmation(new pb.ReadResp.SubscriptionConfirmation().setSubscriptionId(randomUUID())));
  const send = (resp: ReadResp): void => {
    if (!call.cancelled && !call.destroyed) call.write(resp);
  };
  let catchUp: StoredEvent[];
  let onEvent: (e: StoredEvent) => void;
  let endOfCatchUp = (): void => {};

  const stream = options.getStream();
  if (stream) {
    const name = nameOf(stream.getStreamIdentifier());
    const existing = store.streams.get(name) ?? [];
    const from = stream.hasStart() ? 0 : stream.hasEnd() ? existing.length : Number(BigInt(stream.getRevision())) + 1;
    catchUp = existing.slice(from);
    onEvent = (e) => {
      if (e.streamName === name) send(eventResp(e, false));
    };
  } else {
    const all = options.getAll()!;
    const after = all.hasPosition() ? BigInt(all.getPosition()!.getCommitPosition()) : undefined;
    catchUp = all.hasEnd() ? [] : store.log.filter((e) => after === undefined || e.position > after);
    const matches = compileFilter(options);
    const filter = options.getFilter();
    // Checkpoints only for filtered subscriptions: every window * multiplier events
    // scanned (matching or not), plus one at the head of the log when catch-up ends.
    const window = filter?.hasMax() ? filter.getMax() : DEFAULT_SEARCH_WINDOW;
    const interval = Math.max(1, window * Math.max(1, filter?.getCheckpointintervalmultiplier() ?? 1));
    let scanned = 0;
    onEvent = (e) => {
      if (!matches || matches(e)) send(eventResp(e, true));
      if (matches && ++scanned >= interval) {
        scanned = 0;
        send(checkpointResp(e.position));
      }
    };
    const head = store.log[store.log.length - 1]?.position ?? after ?? 0n;
    if (matches) endOfCatchUp = () => send(checkpointResp(head));
  }
  for (const event of catchUp) onEvent(event);
  endOfCatchUp();
  send(new pb.ReadResp().setCaughtUp(new pb.ReadResp.CaughtUp()));

  const listener = (e: StoredEvent): void => {
    if (call.cancelled || call.destroyed) store.listeners.delete(listener);
    else onEvent(e);
  };
  store.listeners.add(listener);
  call.on('cancelled', () => store.listeners.delete(listener));
  call.on('close', () => store.listeners.delete(listener));
}

function handleAppend(store: Store, call: GrpcT.ServerReadableStream<AppendReq, AppendResp>, callback: GrpcT.sendUnaryData<AppendResp>): void {
  let options: AppendReq.Options | undefined;
  const batch: Proposed[] = [];
  let done = false;
  const finish = (error: Parameters<GrpcT.sendUnaryData<AppendResp>>[0], resp?: AppendResp): void => {
    if (done) return;
    done = true;
    callback(error, resp);
  };
  const invalid = (details: string): void => finish({ code: grpc.status.INVALID_ARGUMENT, details });

  call.on('data', (req: AppendReq) => {
    if (done) return;
    if (req.hasOptions()) {
      if (options) return invalid('options sent twice');
      options = req.getOptions();
      return;
    }
    const message = req.getProposedMessage();
    if (!options || !message) return invalid('the first message must be options, then proposed messages');
    const id = message.getId();
    const type = message.getMetadataMap().get('type');
    const contentType = message.getMetadataMap().get('content-type');
    if (!id?.hasString()) return invalid('stand-in accepts string UUID event ids only');
    if (!type || !contentType) return invalid("metadata 'type' and 'content-type' are required");
    // slice(): copy out of the deserialisation buffer.
    batch.push({ id: id.getString(), type, contentType, data: message.getData_asU8().slice(), customMetadata: message.getCustomMetadata_asU8().slice() });
  });
  call.on('end', () => {
    if (done) return;
    if (!options) return invalid('no options received');
    const expected: Expected = options.hasRevision()
      ? { kind: 'revision', revision: BigInt(options.getRevision()) }
      : options.hasNoStream()
        ? { kind: 'no_stream' }
        : options.hasStreamExists()
          ? { kind: 'stream_exists' }
          : { kind: 'any' };
    finish(null, store.append(nameOf(options.getStreamIdentifier()), expected, batch));
  });
  call.on('error', () => {
    done = true; // client went away; nothing is written
  });
}

/** Starts a fresh, empty stand-in on 127.0.0.1 and a random free port. */
export async function startEsdbStandIn(): Promise<EsdbStandIn> {
  const store = new Store();
  const server = new grpc.Server();
  server.addService(StreamsService, {
    read: (call: ReadCall) => handleRead(store, call),
    append: (call: GrpcT.ServerReadableStream<AppendReq, AppendResp>, callback: GrpcT.sendUnaryData<AppendResp>) => handleAppend(store, call, callback),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    connectionString: `esdb://127.0.0.1:${port}?tls=false`,
    port,
    async stop() {
      store.listeners.clear();
      server.forceShutdown(); // cancels open calls, live subscriptions included
    },
  };
}

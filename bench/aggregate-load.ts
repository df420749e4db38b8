import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { NatsConnection } from 'nats';
import type { DirectStreamAPI } from 'nats/lib/jetstream/types.js';
import { pino } from 'pino';
import { taskAggregate } from '../actors/aggregates/task.ts';
import { AggregateHost } from '../actors/runtime/aggregate-host.ts';
import { AggregateLoader } from '../actors/runtime/aggregate-loader.ts';
import { AggregateSnapshots, DEFAULT_SNAPSHOT_EVERY } from '../actors/runtime/aggregate-snapshots.ts';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { decodePosition } from '../adapters/jetstream/commit-codec.ts';
import { JetStreamEventStore } from '../adapters/jetstream/jetstream-event-store.ts';
import { KvSnapshotStore, snapshotKey } from '../adapters/nats/kv-snapshot-store.ts';
import { systemClock } from '../infra/system-clock.ts';
import { parseStreamName, type StreamName } from '../domain/streams.ts';
import { connectNats } from '../infra/nats/connect-nats.ts';
import { startEmbeddedNatsServer } from '../infra/nats/embedded-nats-server.ts';
import { LONG_EVENTS, SHORT_EVENTS, seedStore } from './aggregate-load-seed.ts';
import { elapsedMs, machineLine, quantile } from './measure.ts';

// Aggregate-load benchmark: loading a task aggregate from a store of a million events, cold
// (not in the host's state cache) and cached, beside raw NATS reads of the same messages
// measured against the same nats-server in the same run.

const STORE_EVENTS = Number(process.env.BENCH_STORE_EVENTS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);
/** The snapshot sits this far behind the long stream's tail: the longest tail the default policy leaves. */
const SNAPSHOT_EVERY = taskAggregate.snapshot?.every ?? DEFAULT_SNAPSHOT_EVERY;
const SNAPSHOT_AT = BigInt(LONG_EVENTS - SNAPSHOT_EVERY);
const PREFIX = 'bench';

type Work = () => Promise<unknown>;

interface Row {
  readonly label: string;
  readonly product: number[];
  readonly raws: readonly { readonly label: string; readonly times: number[] }[];
  readonly targetMs?: number;
}

/** Times each piece of work in turn, sample after sample, so all meet the same server state and load. */
async function interleaved(samples: number, works: readonly Work[]): Promise<number[][]> {
  const times = works.map((): number[] => []);
  for (let i = 0; i < Math.max(3, samples / 10); i++) for (const work of works) await work();
  for (let i = 0; i < samples; i++) {
    for (const [w, work] of works.entries()) {
      const start = process.hrtime.bigint();
      await work();
      times[w]!.push(elapsedMs(start));
    }
  }
  return times;
}

/** Raw reads with plain nats.js, decoding each body as the adapter must. */
function rawReads(nc: NatsConnection, direct: DirectStreamAPI, streamName: string) {
  const js = nc.jetstream();
  const decoder = new TextDecoder();
  const subjectOf = (stream: StreamName) => {
    const { category, id } = parseStreamName(stream);
    return `${PREFIX}.es.${category}.${id}`;
  };
  return {
    lastBySubject: async (stream: StreamName) => JSON.parse(decoder.decode((await direct.getMessage(streamName, { last_by_subj: subjectOf(stream) })).data)),
    /** An ordered consumer on the stream's subject from `startSeq`, reading `count` messages. */
    consume: async (stream: StreamName, count: number, startSeq = 1) => {
      const consumer = await js.consumers.get(streamName, { filterSubjects: subjectOf(stream), opt_start_seq: startSeq });
      const messages = await consumer.consume({ max_messages: 1024 });
      let seen = 0;
      for await (const m of messages) {
        JSON.parse(decoder.decode(m.data));
        if (++seen >= count) break;
      }
      messages.stop();
      void consumer.delete().catch(() => undefined);
    },
  };
}

export async function runAggregateLoadBenchmark(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'orch-bench-load-'));
  const server = await startEmbeddedNatsServer({ dataDir });
  const nc = await connectNats(server.url, { name: 'bench-aggregate-load' });
  const logger = pino({ level: 'warn' });
  try {
    const store = await JetStreamEventStore.connect(nc, { prefix: PREFIX });
    const snapshotStore = await KvSnapshotStore.connect(nc, PREFIX);
    const snapshots = new AggregateSnapshots(snapshotStore, taskAggregate.snapshot!, logger);
    const withSnapshots = new AggregateLoader({ store, definition: taskAggregate, snapshots, logger });
    const withoutSnapshots = new AggregateLoader({ store, definition: taskAggregate, logger });

    console.log(`\nbench/aggregate-load — seeding ${STORE_EVENTS.toLocaleString('en')} events through the JetStream adapter`);
    const seeded = await seedStore(store, {
      totalEvents: STORE_EVENTS,
      // As a host would: it loads the aggregate at this revision and snapshots it.
      pauseLongAt: { revision: SNAPSHOT_AT, run: async (stream) => void snapshots.takeIfDue(stream, await withSnapshots.load(stream)) },
      log: (line) => console.log(line),
    });
    await snapshots.idle();
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(store.streamName);
    console.log(
      `  seeded ${seeded.events.toLocaleString('en')} events in ${seeded.appends.toLocaleString('en')} appends in ${seeded.seconds.toFixed(1)} s ` +
        `(${Math.round(seeded.events / seeded.seconds).toLocaleString('en')} events/s); the log holds ${info.state.messages.toLocaleString('en')} messages, ` +
        `${(info.state.bytes / 2 ** 20).toFixed(0)} MiB`,
    );

    const { shortStream, longStream } = seeded;
    const snapshot = (await snapshotStore.load(longStream))!;
    const [cold, full, short] = [await withSnapshots.load(longStream), await withoutSnapshots.load(longStream), await withSnapshots.load(shortStream)];
    if (cold.snapshotRevision !== SNAPSHOT_AT || cold.revision !== BigInt(LONG_EVENTS - 1) || short.revision !== BigInt(SHORT_EVENTS - 1)) {
      throw new Error(`unexpected load: long at ${cold.revision} from snapshot ${cold.snapshotRevision}, short at ${short.revision}`);
    }
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(cold.state)), JSON.parse(JSON.stringify(full.state))))
      throw new Error('load from snapshot differs from the full fold');

    const direct = (jsm as typeof jsm & { direct: DirectStreamAPI }).direct;
    const raw = rawReads(nc, direct, store.streamName);
    const kv = await nc.jetstream().views.kv(`${PREFIX}_snapshots`);
    const tailStartSeq = decodePosition(snapshot.position).seq;
    const tailMessages = LONG_EVENTS - Number(SNAPSHOT_AT);

    // A host holding both aggregates in its state cache; a progress report for an attempt that
    // has not started is refused after load and decide, so each round trip appends nothing.
    const host = new AggregateHost({ nc, store, definition: taskAggregate, clock: systemClock, logger, prefix: PREFIX, snapshots: snapshotStore });
    host.start();
    const echo = nc.subscribe(`${PREFIX}.echo`, { callback: (_e, m) => m.respond(m.data) });
    const commands = new CommandClient(nc, PREFIX);
    const report = { type: 'ReportProgress' as const, data: { attempt: 2, stage: 'test', percent: 50 }, actor: 'bench' };
    const refused = (stream: StreamName) => async () => {
      const reply = await commands.send({ category: 'task', id: parseStreamName(stream).id }, { commandId: crypto.randomUUID(), ...report });
      if (reply.status !== 'rejected') throw new Error(`expected the progress report to be refused, got ${JSON.stringify(reply)}`);
    };
    const body = new TextEncoder().encode(JSON.stringify({ commandId: crypto.randomUUID(), ...report }));
    const echoRoundTrip = () => nc.request(`${PREFIX}.echo`, body);

    const rows: Row[] = [];
    const add = async (label: string, samples: number, product: Work, raws: Record<string, Work>, targetMs?: number) => {
      const [p, ...r] = await interleaved(samples, [product, ...Object.values(raws)]);
      rows.push({ label, product: p!, raws: Object.keys(raws).map((rawLabel, i) => ({ label: rawLabel, times: r[i]! })), targetMs });
    };
    await add(
      `${SHORT_EVENTS}-event stream, cold`,
      SAMPLES,
      () => withSnapshots.load(shortStream),
      {
        'direct get of its last message': () => raw.lastBySubject(shortStream),
        [`consumer read of its ${SHORT_EVENTS} messages`]: () => raw.consume(shortStream, SHORT_EVENTS),
      },
      2,
    );
    const snapshotAndTail = async () => {
      JSON.parse(new TextDecoder().decode((await kv.get(snapshotKey(longStream)))!.value));
      await raw.consume(longStream, tailMessages, tailStartSeq);
    };
    await add(
      `${LONG_EVENTS}-event stream, cold, from snapshot`,
      SAMPLES,
      () => withSnapshots.load(longStream),
      {
        [`KV get + consumer read of the ${tailMessages}-message tail`]: snapshotAndTail,
      },
      20,
    );
    await add(`${LONG_EVENTS}-event stream, cold, no snapshot`, Math.max(5, Math.round(SAMPLES / 10)), () => withoutSnapshots.load(longStream), {
      [`consumer read of its ${LONG_EVENTS} messages`]: () => raw.consume(longStream, LONG_EVENTS),
    });
    await add(`${SHORT_EVENTS}-event stream, cached`, SAMPLES, refused(shortStream), { 'NATS request/reply, same body': echoRoundTrip });
    await add(`${LONG_EVENTS}-event stream, cached`, SAMPLES, refused(longStream), { 'NATS request/reply, same body': echoRoundTrip });
    echo.unsubscribe();
    await host.stop();

    console.log(machineLine());
    console.log(
      `method: a store of ${seeded.events.toLocaleString('en')} events (background task streams appended 1–8 events at a time, ${256} appends in flight) ` +
        `holding two task aggregates whose single-event commits are spread through the whole log: ${SHORT_EVENTS} events (queued, assigned, progress) ` +
        `and ${LONG_EVENTS.toLocaleString('en')}. Cold = AggregateLoader.load(), what a host runs when the aggregate is not in its state cache: ` +
        `snapshot lookup in NATS KV, stream read, fold with the real task decider. The snapshot sits at revision ${SNAPSHOT_AT}, ${tailMessages - 1} events ` +
        `behind the tail: the longest tail the default policy (every ${SNAPSHOT_EVERY}) leaves. Cached = a command round trip to a host holding the ` +
        `aggregate (a progress report for an attempt not started: load from cache, decide, refuse, reply; no append). Product and raw alternate per sample; ${SAMPLES} samples ` +
        `(${Math.max(5, Math.round(SAMPLES / 10))} for the no-snapshot load); file storage; server page cache warm.`,
    );
    console.log(
      `\n${'load'.padEnd(40)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}  ${'raw NATS, same run'.padEnd(46)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'ratio'.padStart(8)}  target`,
    );
    const ms = (times: number[], q: number) => quantile(times, q).toFixed(2).padStart(9);
    for (const row of rows) {
      const p50 = quantile(row.product, 0.5);
      const verdict = row.targetMs === undefined ? '—' : `p50 ≤ ${row.targetMs} ms ${p50 <= row.targetMs ? 'met' : 'MISSED'}`;
      for (const [i, raw] of row.raws.entries()) {
        const product = i === 0 ? `${row.label.padEnd(40)}${ms(row.product, 0.5)}${ms(row.product, 0.99)}` : ' '.repeat(58);
        const ratio = `${(p50 / quantile(raw.times, 0.5)).toFixed(2)}×`.padStart(8);
        console.log(`${product}  ${raw.label.padEnd(46)}${ms(raw.times, 0.5)}${ms(raw.times, 0.99)}${ratio}  ${i === 0 ? verdict : ''}`);
      }
    }
    console.log('(ratio: product p50 / raw p50; the snapshot load was checked to give the same state as the full fold)');
  } finally {
    await nc.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runAggregateLoadBenchmark();

import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { StorageType, type JetStreamClient, type NatsConnection } from 'nats';
import { connectNats } from '../infra/nats/connect-nats.ts';
import { JetStreamEventStore } from '../adapters/jetstream/jetstream-event-store.ts';
import { NO_STREAM, type ExpectedRevision, type NewEvent } from '../domain/ports/event-store.ts';
import { streamName, type StreamName } from '../domain/streams.ts';
import { startEmbeddedNatsServer } from '../infra/nats/embedded-nats-server.ts';

// Event-store benchmark: the JetStream adapter beside raw `nats` JetStream figures measured
// against the same nats-server in the same run, so the ratio is what the adapter costs.

const STREAMS = 1_000;
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 2_000);
const PIPELINED = Number(process.env.BENCH_PIPELINED ?? 20_000);
const IN_FLIGHT = 256;

interface Figure {
  readonly name: string;
  readonly count: number;
  readonly seconds: number;
}
const rate = (f: Figure) => f.count / f.seconds;

async function timed(name: string, count: number, work: () => Promise<void>): Promise<Figure> {
  const start = process.hrtime.bigint();
  await work();
  return { name, count, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

/** Runs `task(i)` for i in [0, count) with at most `inFlight` running at once, in index order of start. */
async function pipelined(count: number, inFlight: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}

const event = (i: number): NewEvent => ({
  type: 'BenchmarkEventRecorded',
  data: { i, note: 'a typical small domain event payload', tags: ['bench', 'event-store'] },
  metadata: {
    correlationId: `corr-${i}`,
    causationId: `cause-${i}`,
    commandId: `cmd-${i}-${Math.random().toString(36).slice(2)}`,
    actor: 'bench',
    occurredAt: new Date().toISOString(),
    schemaVersion: 1,
  },
});

/** The same bytes the adapter publishes for one event, so raw and adapter move equal payloads. */
const rawPayload = (i: number) => new TextEncoder().encode(JSON.stringify([{ id: crypto.randomUUID(), ...event(i) }]));

async function rawFigures(nc: NatsConnection, js: JetStreamClient): Promise<Figure[]> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['raw.>'], storage: StorageType.File, allow_direct: true });
  const seq = await timed('raw publish, one at a time', SEQUENTIAL, async () => {
    for (let i = 0; i < SEQUENTIAL; i++) await js.publish(`raw.s.${i % STREAMS}`, rawPayload(i));
  });
  const pipe = await timed(`raw publish, ${IN_FLIGHT} in flight`, PIPELINED, () =>
    pipelined(PIPELINED, IN_FLIGHT, (i) => js.publish(`raw.p.${i % STREAMS}`, rawPayload(i))),
  );
  const total = SEQUENTIAL + PIPELINED;
  const replay = await timed('raw ordered-consumer replay', total, async () => {
    const consumer = await js.consumers.get('BENCH_RAW', { filterSubjects: 'raw.>' });
    const messages = await consumer.consume({ max_messages: 1024 });
    let seen = 0;
    for await (const m of messages) {
      JSON.parse(new TextDecoder().decode(m.data));
      if (++seen >= total) break;
    }
    messages.stop();
  });
  return [seq, pipe, replay];
}

async function adapterFigures(store: JetStreamEventStore): Promise<Figure[]> {
  const revisions = new Map<StreamName, bigint>();
  const appendTo = async (prefix: string, i: number) => {
    const stream = streamName('bench', `${prefix}${i % STREAMS}`);
    const current = revisions.get(stream);
    const expected: ExpectedRevision = current === undefined ? NO_STREAM : current;
    const result = await store.append(stream, [event(i)], expected);
    revisions.set(stream, result.revision);
  };
  const seq = await timed('append, one at a time', SEQUENTIAL, async () => {
    for (let i = 0; i < SEQUENTIAL; i++) await appendTo('s', i);
  });
  // IN_FLIGHT < STREAMS and streams are taken round-robin, so no two in-flight appends share a stream.
  const pipe = await timed(`append, ${IN_FLIGHT} in flight across ${STREAMS} streams`, PIPELINED, () =>
    pipelined(PIPELINED, IN_FLIGHT, (i) => appendTo('p', i)),
  );
  const total = SEQUENTIAL + PIPELINED;
  const replay = await timed('replay all through subscribe()', total, async () => {
    const subscription = store.subscribe({ category: 'bench' });
    let seen = 0;
    for await (const message of subscription) {
      if (message.kind === 'event' && ++seen >= total) break;
    }
    await subscription.close();
  });
  return [seq, pipe, replay];
}

export async function runEventStoreBenchmark(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'orch-bench-'));
  const server = await startEmbeddedNatsServer({ dataDir });
  // Raw and adapter share this one connection, made with the product's connection settings.
  const nc = await connectNats(server.url, { name: 'bench-event-store' });
  try {
    const js = nc.jetstream();
    const store = await JetStreamEventStore.connect(nc, { prefix: 'bench' });
    // Warm both paths (JIT, connections, stream creation) before measuring.
    await pipelined(500, 64, (i) => js.publish(`warm.${i}`, rawPayload(i)).catch(() => undefined));
    const warmStream = streamName('warm', 'up');
    for (let i = 0; i < 200; i++) await store.append(warmStream, [event(i)], i === 0 ? NO_STREAM : BigInt(i - 1));

    const raw = await rawFigures(nc, js);
    const adapter = await adapterFigures(store);

    console.log('\nbench/event-store — JetStream adapter vs raw nats JetStream, same nats-server, same run');
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`);
    console.log(
      `method: ${SEQUENTIAL} sequential and ${PIPELINED} pipelined single-event appends (${IN_FLIGHT} in flight) round-robin over ` +
        `${STREAMS} streams, file storage, each with optimistic concurrency (expected revision) and de-dup id; raw side publishes ` +
        `the same JSON bytes with plain js.publish; replay reads everything back (adapter: subscribe() decoding events; raw: ordered consumer + JSON.parse).`,
    );
    const rows = raw.map((r, i) => [r, adapter[i]!] as const);
    const labels = ['append one at a time', 'append pipelined', 'full replay'];
    const targets = [undefined, 0.6, 0.5];
    console.log(`\n${'measure'.padEnd(22)}${'raw msgs/s'.padStart(14)}${'adapter ev/s'.padStart(14)}${'ratio'.padStart(9)}  target`);
    rows.forEach(([r, a], i) => {
      const ratio = rate(a) / rate(r);
      const target = targets[i];
      const verdict = target === undefined ? '—' : `≥ ${target}× ${ratio >= target ? 'met' : 'MISSED'}`;
      console.log(`${labels[i]!.padEnd(22)}${rate(r).toFixed(0).padStart(14)}${rate(a).toFixed(0).padStart(14)}${`${ratio.toFixed(2)}×`.padStart(9)}  ${verdict}`);
    });
  } finally {
    await nc.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runEventStoreBenchmark();

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StorageType, type JetStreamClient } from 'nats';
import { connectNats } from '../infra/nats/connect-nats.ts';
import { JetStreamEventStore } from '../adapters/jetstream/jetstream-event-store.ts';
import { NO_STREAM, type ExpectedRevision, type NewEvent } from '../domain/ports/event-store.ts';
import { streamName, type StreamName } from '../domain/streams.ts';
import { startEmbeddedNatsServer } from '../infra/nats/embedded-nats-server.ts';
import { machineLine, medianRate as median, pipelined, rate, timed, type Figure } from './measure.ts';

// Event-store benchmark: the JetStream adapter beside raw `nats` JetStream figures measured
// against the same nats-server in the same run, so the ratio is what the adapter costs.

const STREAMS = 1_000;
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 2_000);
const PIPELINED = Number(process.env.BENCH_PIPELINED ?? 20_000);
const IN_FLIGHT = 256;

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

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** One measurement of each kind, on fresh subjects and streams named by `round`. */
interface Side {
  sequential(round: number): Promise<Figure>;
  pipelined(round: number): Promise<Figure>;
  replay(round: number): Promise<Figure>;
}

function rawSide(js: JetStreamClient): Side {
  return {
    sequential: (round) =>
      timed('raw publish, one at a time', SEQUENTIAL, async () => {
        for (let i = 0; i < SEQUENTIAL; i++) await js.publish(`raw.r${round}.s.${i % STREAMS}`, rawPayload(i));
      }),
    pipelined: (round) =>
      timed(`raw publish, ${IN_FLIGHT} in flight`, PIPELINED, () =>
        pipelined(PIPELINED, IN_FLIGHT, (i) => js.publish(`raw.r${round}.p.${i % STREAMS}`, rawPayload(i))),
      ),
    replay: (round) =>
      timed('raw ordered-consumer replay', SEQUENTIAL + PIPELINED, async () => {
        const consumer = await js.consumers.get('BENCH_RAW', { filterSubjects: `raw.r${round}.>` });
        const messages = await consumer.consume({ max_messages: 1024 });
        let seen = 0;
        for await (const m of messages) {
          JSON.parse(new TextDecoder().decode(m.data));
          if (++seen >= SEQUENTIAL + PIPELINED) break;
        }
        messages.stop();
      }),
  };
}

function adapterSide(store: JetStreamEventStore): Side {
  const revisions = new Map<StreamName, bigint>();
  const appendTo = async (category: string, prefix: string, i: number) => {
    const stream = streamName(category, `${prefix}${i % STREAMS}`);
    const current = revisions.get(stream);
    const expected: ExpectedRevision = current === undefined ? NO_STREAM : current;
    const result = await store.append(stream, [event(i)], expected);
    revisions.set(stream, result.revision);
  };
  return {
    sequential: (round) =>
      timed('append, one at a time', SEQUENTIAL, async () => {
        for (let i = 0; i < SEQUENTIAL; i++) await appendTo(`bench${round}`, 's', i);
      }),
    // IN_FLIGHT < STREAMS and streams are taken round-robin, so no two in-flight appends share a stream.
    pipelined: (round) =>
      timed(`append, ${IN_FLIGHT} in flight across ${STREAMS} streams`, PIPELINED, () =>
        pipelined(PIPELINED, IN_FLIGHT, (i) => appendTo(`bench${round}`, 'p', i)),
      ),
    replay: (round) =>
      timed('replay through subscribe()', SEQUENTIAL + PIPELINED, async () => {
        const subscription = store.subscribe({ category: `bench${round}` });
        let seen = 0;
        for await (const message of subscription) {
          if (message.kind === 'event' && ++seen >= SEQUENTIAL + PIPELINED) break;
        }
        await subscription.close();
      }),
  };
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

    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['raw.>'], storage: StorageType.File, allow_direct: true });
    const raw = rawSide(js);
    const adapter = adapterSide(store);
    // Raw and adapter alternate within each round, so both meet the same server state and load.
    const measures = ['sequential', 'pipelined', 'replay'] as const;
    const results = { raw: { sequential: [], pipelined: [], replay: [] }, adapter: { sequential: [], pipelined: [], replay: [] } } as Record<
      'raw' | 'adapter',
      Record<(typeof measures)[number], Figure[]>
    >;
    for (let round = 0; round < ROUNDS; round++) {
      for (const measure of measures) {
        results.raw[measure].push(await raw[measure](round));
        results.adapter[measure].push(await adapter[measure](round));
      }
    }

    console.log('\nbench/event-store — JetStream adapter vs raw nats JetStream, same nats-server, same run');
    console.log(machineLine());
    console.log(
      `method: per round, ${SEQUENTIAL} sequential then ${PIPELINED} pipelined single-event appends (${IN_FLIGHT} in flight) round-robin over ` +
        `${STREAMS} new streams, file storage, each with an expected revision and a de-dup id; the raw side publishes the same JSON ` +
        `bytes with plain js.publish; replay reads the round back (adapter: subscribe() decoding events; raw: ordered consumer + JSON.parse). ` +
        `Raw and adapter alternate; ${ROUNDS} rounds; medians shown.`,
    );
    const labels = { sequential: 'append one at a time', pipelined: 'append pipelined', replay: 'full replay' };
    const targets = { sequential: undefined, pipelined: 0.6, replay: 0.5 };
    console.log(`\n${'measure'.padEnd(22)}${'raw msgs/s'.padStart(14)}${'adapter ev/s'.padStart(14)}${'ratio'.padStart(9)}  target   (ratio per round)`);
    for (const measure of measures) {
      const r = median(results.raw[measure]);
      const a = median(results.adapter[measure]);
      const ratio = a / r;
      const target = targets[measure];
      const verdict = target === undefined ? '—' : `≥ ${target}× ${ratio >= target ? 'met' : 'MISSED'}`;
      const perRound = results.raw[measure].map((f, i) => (rate(results.adapter[measure][i]!) / rate(f)).toFixed(2)).join(' ');
      console.log(
        `${labels[measure].padEnd(22)}${r.toFixed(0).padStart(14)}${a.toFixed(0).padStart(14)}${`${ratio.toFixed(2)}×`.padStart(9)}  ${verdict.padEnd(14)} (${perRound})`,
      );
    }
  } finally {
    await nc.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runEventStoreBenchmark();

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { JetStreamEventStore } from '../adapters/jetstream/jetstream-event-store.ts';
import { eventLogNames } from '../adapters/jetstream/event-log-stream.ts';
import { KvReadModelStorage } from '../adapters/nats/kv-read-model-storage.ts';
import { NO_STREAM } from '../domain/ports/event-store.ts';
import { streamName } from '../domain/streams.ts';
import { connectNats } from '../infra/nats/connect-nats.ts';
import { startEmbeddedNatsServer } from '../infra/nats/embedded-nats-server.ts';
import { readModels } from '../projections/models/index.ts';
import { ProjectionRunner } from '../projections/runtime/projection-runner.ts';
import { EVENTS_PER_TASK, taskHistory } from '../test/support/task-histories.ts';
import { machineLine, medianRate, pipelined, rate, timed, type Figure } from './measure.ts';

// Rebuild benchmark: a read model rebuilt from the first event (subscribe through the
// event-store port, fold, commit batches to NATS KV) beside a raw ordered-consumer replay of the
// same log that only decodes JSON, measured against the same nats-server in the same run.

const TASKS = Number(process.env.BENCH_REBUILD_TASKS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const EVENTS = TASKS * EVENTS_PER_TASK;

export async function runProjectionsBenchmark(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'orch-bench-projections-'));
  const server = await startEmbeddedNatsServer({ dataDir });
  const nc = await connectNats(server.url, { name: 'bench-projections' });
  try {
    const store = await JetStreamEventStore.connect(nc);
    const storage = await KvReadModelStorage.connect(nc);
    const seedStart = Date.now();
    await pipelined(TASKS, 128, async (i) => {
      const history = taskHistory(`t${i}`, i);
      for (let r = 0; r < history.length; r++) await store.append(streamName('task', `t${i}`), history[r]!, r === 0 ? NO_STREAM : BigInt(r - 1));
    });
    console.log(`\n(seeded ${EVENTS} task events in ${((Date.now() - seedStart) / 1000).toFixed(1)} s)`);

    const js = nc.jetstream();
    const raw = (): Promise<Figure> =>
      timed('raw ordered-consumer replay', EVENTS, async () => {
        const consumer = await js.consumers.get(eventLogNames('orch').streamName, { filterSubjects: 'orch.es.task.*' });
        const messages = await consumer.consume({ max_messages: 1024 });
        let seen = 0;
        for await (const m of messages) {
          seen += (JSON.parse(new TextDecoder().decode(m.data)) as unknown[]).length;
          if (seen >= EVENTS) break;
        }
        messages.stop();
      });
    const models = Object.fromEntries(readModels.filter((m) => m.category === 'task').map((m) => [m.name, m]));
    const rebuild = (name: string, round: number): Promise<Figure> =>
      timed(`rebuild ${name}`, EVENTS, async () => {
        const bucket = await storage.bucket(`bench-${name}`, { version: 1, generation: round + 1 });
        const runner = new ProjectionRunner({ definition: models[name]!, store, bucket, logger: pino({ level: 'silent' }) });
        await runner.start();
        await runner.untilLive();
        await runner.stop();
      });

    const names = Object.keys(models);
    const results: Record<string, Figure[]> = { raw: [], ...Object.fromEntries(names.map((n) => [n, []])) };
    // Raw and each rebuild alternate within a round, so all meet the same server state.
    for (let round = 0; round < ROUNDS; round++) {
      results.raw!.push(await raw());
      for (const name of names) results[name]!.push(await rebuild(name, round));
    }

    console.log('bench/projections — rebuilding a read model from the first event vs raw ordered-consumer replay, same nats-server, same run');
    console.log(machineLine());
    console.log(
      `method: ${EVENTS} task events (${TASKS} tasks × ${EVENTS_PER_TASK}: queued, assigned, 2 progress, completed), file storage. A rebuild ` +
        `subscribes through the event-store port from the start, folds every event and commits the changed documents to a fresh NATS KV bucket ` +
        `until it is live; raw replay reads the same subjects with an ordered consumer and JSON.parse only. Alternating; ${ROUNDS} rounds; medians.`,
    );
    const rawRate = medianRate(results.raw!);
    console.log(`\n${'measure'.padEnd(28)}${'events/s'.padStart(10)}${'vs raw'.padStart(9)}  target    (per round)`);
    console.log(`${'raw ordered-consumer replay'.padEnd(28)}${rawRate.toFixed(0).padStart(10)}${'1.00×'.padStart(9)}`);
    for (const name of names) {
      const r = medianRate(results[name]!);
      const ratio = r / rawRate;
      const perRound = results[name]!.map((f, i) => (rate(f) / rate(results.raw![i]!)).toFixed(2)).join(' ');
      console.log(
        `${`rebuild ${name}`.padEnd(28)}${r.toFixed(0).padStart(10)}${`${ratio.toFixed(2)}×`.padStart(9)}  ≥ 0.5× ${ratio >= 0.5 ? 'met' : 'MISSED'}  (${perRound})`,
      );
    }
  } finally {
    await nc.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runProjectionsBenchmark();

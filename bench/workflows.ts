import { isLeft } from 'fp-ts/lib/Either.js';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { WorkflowEngine } from '../actors/workflow-engine.ts';
import type { JetStreamEventStore } from '../adapters/jetstream/jetstream-event-store.ts';
import { KvCheckpointStore } from '../adapters/nats/kv-checkpoint-store.ts';
import { registerDefinition, type CompiledWorkflow } from '../domain/workflow/index.ts';
import { BENCH_TASK, benchParams, eventWaiter, startBenchWorkers, withBenchCluster } from './bench-cluster.ts';
import { elapsedMs, machineLine, pipelined, quantile } from './measure.ts';
import { rawWork } from './raw-work.ts';

// Workflow benchmark: a 3-step sequential workflow of no-op tasks end to end (StartWorkflow →
// engine → three tasks through dispatcher, work queue and worker → WorkflowCompleted seen on
// the log), one at a time for latency and many in flight for throughput, beside the raw floor
// measured in the same run: three JetStream work round trips in a row (publish → pull → ack →
// core publish back), the least NATS traffic three dependent steps could take.

const SEQUENTIAL = Number(process.env.BENCH_WORKFLOWS_SEQUENTIAL ?? 100);
const PIPELINED = Number(process.env.BENCH_WORKFLOWS_PIPELINED ?? 600);
const IN_FLIGHT = 64;
const STEPS = 3;
const quiet = pino({ level: 'silent' });

function threeSteps(): CompiledWorkflow {
  const steps = Array.from({ length: STEPS }, (_, i) => ({ type: 'task', id: `step${i + 1}`, taskType: BENCH_TASK.taskType, params: benchParams(i) }));
  const compiled = registerDefinition({ form: 'stepTree', name: 'bench', root: { type: 'sequence', steps } }, { taskTypes: [BENCH_TASK.taskType] });
  if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
  return compiled.right;
}

/** Runs workflows and resolves each when its WorkflowCompleted is seen on the log. */
async function workflowRunner(store: JetStreamEventStore, commands: CommandClient) {
  const completions = eventWaiter(store, { category: 'workflow', after: await store.headPosition() }, 'WorkflowCompleted');
  const definition = threeSteps();
  return {
    async run(workflowId: string): Promise<number> {
      const done = completions.wait(workflowId);
      const start = process.hrtime.bigint();
      const reply = await commands.send(
        { category: 'workflow', id: workflowId },
        { commandId: `start-${workflowId}`, type: 'StartWorkflow', actor: 'U0BENCH', data: { definition, requestedBy: 'U0BENCH' } },
      );
      if (reply.status !== 'accepted') throw new Error(`StartWorkflow not accepted: ${JSON.stringify(reply)}`);
      await done;
      return elapsedMs(start);
    },
    close: () => completions.close(),
  };
}

/** The raw floor: three dependent JetStream work round trips per "workflow". */
async function rawChains(nc: NatsConnection) {
  const work = await rawWork(nc, { stream: 'BENCH_RAW_WF', subject: 'rawwf', maxMessages: IN_FLIGHT });
  return {
    async run(chain: string): Promise<number> {
      const start = process.hrtime.bigint();
      for (let s = 1; s <= STEPS; s++) await work.step(`${chain}-${s}`, { n: s });
      return elapsedMs(start);
    },
    close: () => work.close(),
  };
}

export async function runWorkflowsBenchmark(): Promise<void> {
  // Aggregates in their own process; engine, dispatcher and workers in this one.
  await withBenchCluster('workflows', async (cluster) => {
    const { hostNc, clientNc, store, stops } = cluster;
    const hostCommands = new CommandClient(hostNc, 'bench', 30_000);
    const checkpoints = await KvCheckpointStore.connect(hostNc, 'bench');
    await startBenchWorkers(cluster, { workers: 2, concurrency: 4, checkpoints, commands: hostCommands });
    const engine = new WorkflowEngine({
      store,
      checkpoints,
      commands: hostCommands,
      logger: quiet,
      routeTask: () => ({ pool: BENCH_TASK.pool, timeoutMs: 60_000 }),
    });
    await engine.start();
    stops.push(() => engine.stop());

    const workflows = await workflowRunner(store, new CommandClient(clientNc, 'bench', 30_000));
    const raw = await rawChains(clientNc);
    // Warm both paths.
    for (let i = 0; i < 20; i++) await workflows.run(`warm-${i}`);
    for (let i = 0; i < 20; i++) await raw.run(`warm-${i}`);

    const rawLatencies: number[] = [];
    const latencies: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      rawLatencies.push(await raw.run(`seq-${i}`));
      latencies.push(await workflows.run(`seq-${i}`));
    }
    let start = process.hrtime.bigint();
    await pipelined(PIPELINED, IN_FLIGHT, (i) => raw.run(`par-${i}`));
    const rawRate = PIPELINED / (elapsedMs(start) / 1000);
    start = process.hrtime.bigint();
    const inFlightLatencies: number[] = [];
    await pipelined(PIPELINED, IN_FLIGHT, async (i) => inFlightLatencies.push(await workflows.run(`par-${i}`)));
    const rate = PIPELINED / (elapsedMs(start) / 1000);
    await workflows.close();
    await raw.close();

    const p = (values: number[], q: number) => quantile(values, q).toFixed(2);
    console.log('\nbench/workflows — a 3-step no-op workflow end to end vs three raw JetStream work round trips, same nats-server, same run');
    console.log(machineLine());
    console.log(
      `method: StartWorkflow (compiled 3-task sequence) → workflow engine → QueueTask ×3 in order → dispatcher → work queue → 2 workers (no-op executor) → ` +
        `WorkflowCompleted seen by a subscriber. Aggregates in their own process; engine, dispatcher, workers and callers in this one. ` +
        `${SEQUENTIAL} workflows one at a time (alternating with raw chains), then ${PIPELINED} with ${IN_FLIGHT} in flight.`,
    );
    console.log(`\n${''.padEnd(26)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'per second'.padStart(12)}`);
    console.log(
      `${'raw: 3 work round trips'.padEnd(26)}${p(rawLatencies, 0.5).padStart(10)}${p(rawLatencies, 0.99).padStart(10)}${rawRate.toFixed(0).padStart(12)}`,
    );
    console.log(
      `${'workflow, one at a time'.padEnd(26)}${p(latencies, 0.5).padStart(10)}${p(latencies, 0.99).padStart(10)}${''.padStart(12)}   target p50 ≤ 25 ms ${quantile(latencies, 0.5) <= 25 ? 'met' : 'MISSED'} (${(quantile(latencies, 0.5) / quantile(rawLatencies, 0.5)).toFixed(1)}× raw p50)`,
    );
    console.log(
      `${`workflow, ${IN_FLIGHT} in flight`.padEnd(26)}${p(inFlightLatencies, 0.5).padStart(10)}${p(inFlightLatencies, 0.99).padStart(10)}${rate.toFixed(0).padStart(12)}   target ≥ 300/s ${rate >= 300 ? 'met' : 'MISSED'} (${(rate / rawRate).toFixed(2)}× raw)`,
    );
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await runWorkflowsBenchmark();

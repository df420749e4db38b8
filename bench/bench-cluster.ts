import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { z } from 'zod';
import { CommandClient } from '../actors/runtime/command-client.ts';
import { TaskDispatcher } from '../actors/task-dispatcher.ts';
import { WorkerActor } from '../actors/workers/worker-actor.ts';
import { JetStreamEventStore } from '../adapters/jetstream/jetstream-event-store.ts';
import { JetStreamWorkQueue } from '../adapters/jetstream/work-queue.ts';
import { KvCheckpointStore } from '../adapters/nats/kv-checkpoint-store.ts';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.ts';
import type { SubscribeOptions } from '../domain/ports/event-store.ts';
import type { Executor } from '../domain/ports/executor.ts';
import { parseStreamName } from '../domain/streams.ts';
import { connectNats } from '../infra/nats/connect-nats.ts';
import { startEmbeddedNatsServer, type EmbeddedNatsServer } from '../infra/nats/embedded-nats-server.ts';
import { startRoleProcess } from '../test/support/role-process.ts';

// What the end-to-end benchmarks share: a nats-server of their own, the aggregate hosts in
// their own process (as in production), one connection for the product's in-process parts and
// one for callers, and everything stopped again (newest first) however the run ends.

export interface BenchCluster {
  readonly server: EmbeddedNatsServer;
  readonly dataDir: string;
  /** The product's in-process parts (dispatcher, engine, workers). */
  readonly hostNc: NatsConnection;
  /** Callers, product and raw alike. */
  readonly clientNc: NatsConnection;
  readonly store: JetStreamEventStore;
  /** Stops run newest first when the benchmark ends. */
  readonly stops: (() => Promise<unknown>)[];
}

export async function withBenchCluster(name: string, run: (cluster: BenchCluster) => Promise<void>): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), `orch-bench-${name}-`));
  const server = await startEmbeddedNatsServer({ dataDir });
  const hostNc = await connectNats(server.url, { name: `bench-${name}-product` });
  const clientNc = await connectNats(server.url, { name: `bench-${name}-clients` });
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const store = await JetStreamEventStore.connect(hostNc, { prefix: 'bench' });
    const hosts = await startRoleProcess(['aggregates'], { NATS_URL: server.url, NATS_PREFIX: 'bench', DATA_DIR: dataDir });
    stops.push(() => hosts.stop());
    await run({ server, dataDir, hostNc, clientNc, store, stops });
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await clientNc.close();
    await hostNc.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const quiet = pino({ level: 'silent' });

/**
 * The benchmarks queue a registered read-only task type, so the aggregates' door admits it as it
 * would any request, and their workers run it with an executor that does nothing: what is left
 * is the platform's cost.
 */
export const BENCH_TASK = { taskType: 'git-status', pool: 'local-ops' } as const;
export const benchParams = (n: number) => ({ repository: `bench-repo-${n}` });

export const noopExecutor: Executor<{ repository: string }, { repository: string }> = {
  taskType: BENCH_TASK.taskType,
  pool: BENCH_TASK.pool,
  parameters: z.object({ repository: z.string() }),
  stages: [{ name: 'nothing', weight: 1 }],
  sideEffects: false,
  execute: async (params) => ({ repository: params.repository }),
};

export interface BenchWorkersOptions {
  /** How many workers to start (`bench-1`, `bench-2`, ...). */
  readonly workers: number;
  /** Tasks each worker runs at once. */
  readonly concurrency: number;
  /** The dispatcher's checkpoints; connected on the host connection (after the work queue) when omitted. */
  readonly checkpoints?: CheckpointStore;
  /** The workers' command client; one on the host connection when omitted. */
  readonly commands?: CommandClient;
}

/**
 * A task dispatcher and `workers` workers with the no-op executor, all on the host connection
 * and the `bench` pool; each is stopped again (workers, then the queue, then the dispatcher)
 * when the benchmark ends.
 */
export async function startBenchWorkers({ hostNc, store, stops, dataDir }: BenchCluster, options: BenchWorkersOptions): Promise<void> {
  const queue = await JetStreamWorkQueue.connect(hostNc, { prefix: 'bench', pools: [BENCH_TASK.pool] });
  const checkpoints = options.checkpoints ?? (await KvCheckpointStore.connect(hostNc, 'bench'));
  const dispatcher = new TaskDispatcher({ store, queue, checkpoints, nc: hostNc, logger: quiet, prefix: 'bench' });
  await dispatcher.start();
  stops.push(() => dispatcher.stop());
  const commands = options.commands ?? new CommandClient(hostNc, 'bench', 30_000);
  const workers = Array.from(
    { length: options.workers },
    (_, i) =>
      new WorkerActor({
        workerId: `bench-${i + 1}`,
        pool: BENCH_TASK.pool,
        concurrency: options.concurrency,
        queue,
        commands,
        executors: new Map([[BENCH_TASK.taskType, noopExecutor as unknown as Executor]]),
        workspaceRoot: dataDir,
        nc: hostNc,
        logger: quiet,
        prefix: 'bench',
      }),
  );
  workers.forEach((w) => w.start());
  stops.push(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    queue.close();
  });
}

export interface EventWaiter {
  /** Resolves when the event is seen on the stream with this id; call before causing it. */
  wait(id: string): Promise<void>;
  /** Stops watching. */
  close(): Promise<void>;
}

/** Watches the log for events of `eventType` and resolves whoever waits on the event's stream id. */
export function eventWaiter(store: JetStreamEventStore, subscribe: SubscribeOptions, eventType: string): EventWaiter {
  const waiting = new Map<string, () => void>();
  const subscription = store.subscribe(subscribe);
  const watching = (async () => {
    for await (const message of subscription) {
      if (message.kind === 'event' && message.event.type === eventType) waiting.get(parseStreamName(message.event.stream).id)?.();
    }
  })();
  return {
    wait: (id) =>
      new Promise<void>((resolve) =>
        waiting.set(id, () => {
          waiting.delete(id);
          resolve();
        }),
      ),
    async close() {
      await subscription.close();
      await watching;
    },
  };
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { JetStreamEventStore } from '../adapters/jetstream/jetstream-event-store.ts';
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

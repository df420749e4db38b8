import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import { freePort, natsServerProcess } from './nats-broker.ts';

// A real JetStream cluster of `nats-server` processes on loopback: each node with its own
// store, client port, cluster port and server_name, routed to the others. Nodes can be killed
// with SIGKILL and started again on the same ports and store. Started by this file, stopped by
// their pids.

export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly storeDir: string;
  /** The running server's pid, undefined while it is down. */
  pid(): number | undefined;
  /** `kill -9`; resolves once it has exited. */
  kill9(): Promise<void>;
  /** Starts it again on the same ports and store; resolves when it accepts clients. */
  restart(): Promise<void>;
}

export interface NatsCluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's client URL, comma-separated, as NATS_URL takes them. */
  readonly urls: string;
  node(name: string): ClusterNode | undefined;
  /** Kills every node and removes the stores. */
  dispose(): Promise<void>;
}

export async function startNatsCluster(options: { size?: number; name?: string } = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const dir = await mkdtemp(path.join(tmpdir(), 'orch-cluster-'));
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), cluster: await freePort() })));
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < size; i++) {
    const name = `n${i + 1}`;
    const storeDir = path.join(dir, name, 'store');
    await mkdir(storeDir, { recursive: true });
    const configFile = path.join(dir, name, 'nats-server.conf');
    const routes = ports.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p.cluster}`);
    await writeFile(
      configFile,
      [
        `server_name: ${name}`,
        `listen: "127.0.0.1:${ports[i]!.client}"`,
        'max_payload: 8388608',
        `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
        `cluster { name: ${options.name ?? 'orch-check'}, listen: "127.0.0.1:${ports[i]!.cluster}", routes: [${routes.map((r) => JSON.stringify(r)).join(', ')}] }`,
        '',
      ].join('\n'),
    );
    nodes.push(clusterNode(name, `nats://127.0.0.1:${ports[i]!.client}`, storeDir, configFile));
  }
  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((n) => n.url).join(','),
    node: (name) => nodes.find((n) => n.name === name),
    async dispose() {
      await Promise.all(nodes.map((n) => n.kill9()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.restart()));
    await waitForJetStreamMeta(cluster.urls);
  } catch (error) {
    await cluster.dispose();
    throw error;
  }
  return cluster;
}

function clusterNode(name: string, url: string, storeDir: string, configFile: string): ClusterNode {
  return { name, url, storeDir, ...natsServerProcess(configFile) };
}

/** A cluster accepts JetStream requests only once its meta group has a leader. */
async function waitForJetStreamMeta(urls: string, timeoutMs = 30_000): Promise<void> {
  const nc = await connect({ servers: urls.split(','), maxReconnectAttempts: -1 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const jsm = await nc.jetstreamManager({ timeout: 2_000 });
        await jsm.getAccountInfo();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`JetStream cluster has no meta leader after ${timeoutMs} ms: ${(error as Error).message}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}

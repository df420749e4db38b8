import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

// A real nats-server that a fault test can kill with SIGKILL and start again on the same port
// and store: the broker of the production layout, as opposed to the product's embedded one.
// Started by this file, stopped by its pid.

export interface NatsBroker {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The running server's pid, undefined while it is down. */
  pid(): number | undefined;
  /** `kill -9` of the server; resolves once it has exited. */
  kill9(): Promise<void>;
  /** Starts it again on the same port and store; resolves when it accepts clients. */
  restart(): Promise<void>;
  /** Stops it (SIGKILL) and removes the store. */
  dispose(): Promise<void>;
}

/** A free loopback port, picked by the kernel. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

const binary = (): string => process.env.NATS_SERVER_BIN ?? 'nats-server';

export async function startNatsBroker(options: { maxPayloadBytes?: number } = {}): Promise<NatsBroker> {
  const dir = await mkdtemp(path.join(tmpdir(), 'orch-broker-'));
  const storeDir = path.join(dir, 'store');
  const port = await freePort();
  const configFile = path.join(dir, 'nats-server.conf');
  await writeFile(
    configFile,
    [
      `listen: "127.0.0.1:${port}"`,
      `max_payload: ${options.maxPayloadBytes ?? 8 * 1024 * 1024}`,
      `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
      '',
    ].join('\n'),
  );
  const server = natsServerProcess(configFile);
  await server.restart();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    pid: server.pid,
    kill9: server.kill9,
    restart: server.restart,
    async dispose() {
      await server.kill9();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** One nats-server on a config file: started, killed with SIGKILL and started again, by its pid. */
export function natsServerProcess(configFile: string): { pid(): number | undefined; kill9(): Promise<void>; restart(): Promise<void> } {
  let child: ChildProcess | undefined;
  return {
    pid: () => child?.pid,
    async kill9() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGKILL');
      await exited;
    },
    async restart() {
      const started = spawn(binary(), ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      await waitForReady(started);
      started.stderr!.resume();
      child = started;
    },
  };
}

function waitForReady(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`nats-server not ready after ${timeoutMs} ms: ${output}`));
    }, timeoutMs);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/Server is ready/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited early (${signal ?? `code ${code}`}): ${output}`));
    });
  });
}

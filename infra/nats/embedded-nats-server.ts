import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadOrCreateCredentials, type IdentityCredential } from './embedded-credentials.ts';
import { identityPlan } from './embedded-identities.ts';
import { stopLeftoverNatsServers } from './leftover-nats-servers.ts';
import { lockStore } from './store-lock.ts';

// Starts a private `nats-server -js` on a random loopback port for embedded mode and tests.
// The port is picked by the server itself (`listen: 127.0.0.1:-1`) and read from its log,
// which avoids the race of probing for a free port first.
// The server runs in its own process group, so Ctrl-C at the terminal reaches only the product,
// which then stops the server itself (last, after its own connections have drained). The store
// is locked for this process (store-lock.ts), and a server left running by a killed earlier run
// on the same store is stopped first (leftover-nats-servers.ts).
// With `identities` the server requires a password from every client and gives each identity
// its permissions (embedded-identities.ts); the product connects as `service`. Without, it is
// open to any local client (test brokers and benches).

export interface EmbeddedNatsServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly storeDir: string;
  /** Pids of servers a killed earlier run left on this store, stopped before this one started. */
  readonly stoppedLeftovers: readonly number[];
  /** What the product connects as when the server has identities; undefined on an open server. */
  readonly service: IdentityCredential | undefined;
  /** Stops the server by its process id: SIGTERM, then SIGKILL if it lingers. */
  stop(): Promise<void>;
}

export interface EmbeddedNatsOptions {
  /** Folder for the server's config and JetStream store (created if missing). */
  readonly dataDir: string;
  readonly binary?: string;
  /** Largest message the server accepts; one event-store commit must fit. */
  readonly maxPayloadBytes?: number;
  readonly startTimeoutMs?: number;
  /** Require passwords: the service, consumer and `producer-<name>` identities for this subject prefix. */
  readonly identities?: { readonly prefix: string; readonly producers: readonly string[] };
}

export class NatsServerMissing extends Error {
  override readonly name = 'NatsServerMissing';
  constructor(readonly binary: string) {
    super(
      `nats-server was not found (tried "${binary}"). Install it — Debian/Ubuntu: "apt-get install nats-server", ` +
        `macOS: "brew install nats-server" — or set NATS_URL to use a NATS server you run yourself.`,
    );
  }
}

export class NatsServerFailedToStart extends Error {
  override readonly name = 'NatsServerFailedToStart';
  constructor(
    reason: string,
    readonly output: string,
  ) {
    super(`nats-server did not start: ${reason}${output ? `\n${output.trim().split('\n').slice(-5).join('\n')}` : ''}`);
  }
}

const LISTENING = /Listening for client connections on [^\s]*:(\d+)/;
const READY = /Server is ready/;

export async function startEmbeddedNatsServer(options: EmbeddedNatsOptions): Promise<EmbeddedNatsServer> {
  const binary = options.binary ?? 'nats-server';
  const storeDir = path.resolve(options.dataDir, 'nats');
  await mkdir(storeDir, { recursive: true, mode: 0o700 });
  // The store, the config and the credentials are this user's alone.
  await chmod(storeDir, 0o700);
  const configFile = path.join(storeDir, 'nats-server.conf');
  const pidFile = path.join(storeDir, 'nats-server.pid');
  const lock = lockStore(storeDir);
  let child: ChildProcess;
  let port: number;
  let stoppedLeftovers: number[];
  let service: IdentityCredential | undefined;
  try {
    stoppedLeftovers = await stopLeftoverNatsServers(configFile, pidFile);
    let authorization: string[] = [];
    if (options.identities) {
      const plan = identityPlan(options.identities.prefix, options.identities.producers);
      const credentials = await loadOrCreateCredentials(
        storeDir,
        plan.map((i) => i.user),
      );
      service = credentials.service;
      const users = plan.map(({ user, permissions }) => ({ user, password: credentials.hashes.get(user)!, ...(permissions && { permissions }) }));
      // JSON is valid nats-server config; quoted strings keep the `$` of bcrypt hashes literal.
      authorization = [`authorization: ${JSON.stringify({ users }, null, 2)}`];
    }
    await writeFile(
      configFile,
      [
        'listen: "127.0.0.1:-1"',
        `max_payload: ${options.maxPayloadBytes ?? 8 * 1024 * 1024}`,
        `jetstream { store_dir: ${JSON.stringify(storeDir)} }`,
        `pid_file: ${JSON.stringify(pidFile)}`,
        ...authorization,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    await chmod(configFile, 0o600);
    child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    port = await waitUntilReady(child, binary, options.startTimeoutMs ?? 15_000);
  } catch (error) {
    lock.release();
    throw error;
  }
  const pid = child.pid!;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  // Keep draining stderr so the server never blocks on a full pipe.
  child.stderr?.resume();

  // Safety net: if this process exits without stopping the server (a crash), stop it by its pid.
  const stopOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    lock.release();
  };
  process.once('exit', stopOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.off('exit', stopOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      lock.release();
    })());

  return { url: `nats://127.0.0.1:${port}`, port, pid, storeDir, stoppedLeftovers, service, stop };
}

function waitUntilReady(child: ChildProcess, binary: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    let port: number | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new NatsServerFailedToStart(`not ready after ${timeoutMs} ms`, output));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('error', onError);
      child.off('exit', onExit);
    };
    const fail = (error: Error) => {
      done();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      port ??= Number(LISTENING.exec(output)?.[1]) || undefined;
      if (port !== undefined && READY.test(output)) {
        done();
        resolve(port);
      }
    };
    const onError = (error: NodeJS.ErrnoException) =>
      fail(error.code === 'ENOENT' ? new NatsServerMissing(binary) : new NatsServerFailedToStart(error.message, output));
    const onExit = (code: number | null, signal: string | null) => fail(new NatsServerFailedToStart(`exited early (${signal ?? `code ${code}`})`, output));
    child.stderr?.on('data', onData);
    child.once('error', onError);
    child.once('exit', onExit);
  });
}

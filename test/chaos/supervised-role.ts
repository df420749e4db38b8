import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';

// One product process (`node --import tsx infra/run-role.ts <roles>`, as production starts it)
// under a supervisor loop the harness owns: whenever it exits it is started again, as systemd
// or Kubernetes would. Exits the harness did not cause (it did not kill -9 the process) are
// kept as findings. Output goes to a log file, not to memory: a chaos run logs a lot.

const root = path.resolve(import.meta.dirname, '../..');
const READY = /"msg":"ready"/;

export interface RoleExit {
  readonly at: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** False when the harness did not kill it: the process ended by itself. */
  readonly killedByHarness: boolean;
  /** The last lines it printed, for an exit nobody asked for. */
  readonly tail: string;
}

export class SupervisedRole {
  private child: ChildProcess | undefined;
  private stopping = false;
  private killRequested = false;
  private readonly log: WriteStream;
  private tail = '';
  private readyWaiters: (() => void)[] = [];
  readonly exits: RoleExit[] = [];
  /** `Date.now()` of every "ready" line, first start included. */
  readonly readyAt: number[] = [];
  starts = 0;

  constructor(
    readonly label: string,
    private readonly roles: readonly string[],
    private readonly env: NodeJS.ProcessEnv,
    logDir: string,
  ) {
    this.log = createWriteStream(path.join(logDir, `${label.replace(/[^A-Za-z0-9_#-]/g, '_')}.log`), { flags: 'a' });
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the first process; resolves at its "ready" line. */
  async start(timeoutMs = 60_000): Promise<void> {
    this.spawnOnce();
    await this.nextReady(timeoutMs);
  }

  /** `kill -9` of the running process; the supervisor loop starts another. */
  kill9(): number | undefined {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
    this.killRequested = true;
    child.kill('SIGKILL');
    return child.pid;
  }

  /** Resolves at the next "ready" line after now, or rejects after `timeoutMs`. */
  nextReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        reject(new Error(`${this.label} not ready within ${timeoutMs} ms; last output:\n${this.tail}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  /** Exits the harness did not cause. */
  unplannedExits(): RoleExit[] {
    return this.exits.filter((e) => !e.killedByHarness);
  }

  /** Stops supervising: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => this.log.end(resolve));
  }

  private spawnOnce(): void {
    this.starts += 1;
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/run-role.ts', ...this.roles], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let partial = '';
    const onOutput = (chunk: Buffer) => {
      const text = chunk.toString();
      this.log.write(text);
      this.tail = (this.tail + text).slice(-4_000);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      if (lines.some((line) => READY.test(line))) {
        this.readyAt.push(Date.now());
        const waiters = this.readyWaiters;
        this.readyWaiters = [];
        waiters.forEach((w) => w());
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.once('exit', (code, signal) => {
      const killedByHarness = this.killRequested || this.stopping;
      this.killRequested = false;
      this.exits.push({ at: Date.now(), code, signal, killedByHarness, tail: killedByHarness ? '' : this.tail.slice(-1_500) });
      this.log.write(`\n--- harness: exit code=${code} signal=${signal} ${killedByHarness ? '(killed by the harness)' : '(NOT killed by the harness)'} ---\n`);
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      // A process that keeps dying is restarted more slowly, as a supervisor would.
      const recent = this.exits.filter((e) => e.at > Date.now() - 10_000).length;
      setTimeout(
        () => {
          if (!this.stopping) this.spawnOnce();
        },
        Math.min(200 * 2 ** Math.max(0, recent - 1), 3_000),
      );
    });
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

// Starts a script of this repository in a child process (`node --import tsx`) and waits for its
// "ready" line: product roles (`infra/run-role.ts`, as production runs them) for tests and
// benchmarks. Callers end these processes by their pid.

const root = path.resolve(import.meta.dirname, '../..');

export interface RoleProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

export interface ProcessOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly ready?: RegExp;
  readonly timeoutMs?: number;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
}

export async function startScriptProcess(script: string, args: readonly string[], options: ProcessOptions = {}): Promise<RoleProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = options.ready ?? /"msg":"ready"/;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!ready.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      if (child.exitCode === null) child.kill('SIGKILL');
      throw new Error(`${script} ${args.join(' ')} did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Product roles in one child process; logs at info, the level of the "ready" line. */
export const startRoleProcess = (roles: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RoleProcess> =>
  startScriptProcess('infra/run-role.ts', roles, { env: { ...env, LOG_LEVEL: 'info' }, timeoutMs });

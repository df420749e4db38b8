import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

// Benchmarks run the product's hosts in their own processes, as production does, so the
// measuring process and the measured host do not share one event loop.

const root = path.resolve(import.meta.dirname, '..');

export interface ChildRole {
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts `node --import tsx <script> ...args` and waits until it prints `readyPattern`. */
export async function startChild(script: string, args: readonly string[], env: NodeJS.ProcessEnv, readyPattern: RegExp): Promise<ChildRole> {
  const child: ChildProcess = spawn(process.execPath, [...(process.env.BENCH_CHILD_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CHILD_PROFILE}`] : []), '--import', 'tsx', script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!readyPattern.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} ${args.join(' ')} did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

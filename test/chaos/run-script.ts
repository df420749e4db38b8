import { spawn } from 'node:child_process';
import path from 'node:path';

// Runs a fault-run script (`node --import tsx <script> <args>`) as a child process, as
// `npm run chaos` / `npm run cluster-check` do, and collects its output and exit code.
// A test that gives up stops it with SIGTERM: the script then stops what it started.

const root = path.resolve(import.meta.dirname, '../..');

export interface ScriptRun {
  readonly code: number | null;
  readonly output: string;
}

export function runScript(script: string, args: readonly string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

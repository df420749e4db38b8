import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

// Starts product roles in a child process (`infra/run-role.ts`), as production does, and waits
// for its "ready" log line. Tests end these processes by their pid.

const root = path.resolve(import.meta.dirname, '../..');

export interface RoleProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
}

export async function startRoleProcess(roles: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RoleProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/run-role.ts', ...roles], {
    cwd: root,
    // info: the "ready" line is logged at that level.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + timeoutMs;
  while (!/"msg":"ready"/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      if (child.exitCode === null) child.kill('SIGKILL');
      throw new Error(`${roles.join(' ')} did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, output: () => out };
}

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UNHANDLED_FATAL } from '../../infra/process-guard.ts';

// The process guard as production installs it (infra/run-role.ts, infra/main.ts), in a real
// Node process: a rejection nobody handles and an exception nobody catches each end the process
// with one fatal log line that names the error and the process, and a non-zero exit code.

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

async function runGuarded(fault: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `
    import { createLogger } from './infra/logging.ts';
    import { installProcessGuard } from './infra/process-guard.ts';
    installProcessGuard({ logger: createLogger({ level: 'info', name: 'guarded' }), context: { roles: ['probe'] } });
    setTimeout(() => console.log('still running'), 2000);
    ${fault}
  `;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      env: { PATH: process.env.PATH },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number | null; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const fatalLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.includes(UNHANDLED_FATAL))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('process guard', () => {
  it('an unhandled rejection: one fatal line with the error and the roles, exit code 70, nothing after', async () => {
    const { code, stdout } = await runGuarded(`Promise.reject(new Error('subscription broke'));`);
    expect(code).toBe(70);
    const [line, ...more] = fatalLines(stdout);
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 'fatal', kind: 'unhandledRejection', roles: ['probe'], err: { message: 'subscription broke' } });
    expect(stdout).not.toContain('still running');
  }, 30_000);

  it('an uncaught exception: the same, never exit code 0', async () => {
    const { code, stdout } = await runGuarded(`setTimeout(() => { throw new TypeError('bad state'); }, 10);`);
    expect(code).toBe(70);
    expect(fatalLines(stdout)).toEqual([
      expect.objectContaining({ kind: 'uncaughtException', err: expect.objectContaining({ message: 'bad state', type: 'TypeError' }) }),
    ]);
  }, 30_000);

  it('a process without faults is left alone', async () => {
    const { code, stdout } = await runGuarded('');
    expect(code).toBe(0);
    expect(stdout).toContain('still running');
    expect(fatalLines(stdout)).toEqual([]);
  }, 30_000);
});

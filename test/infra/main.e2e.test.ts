import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../support/processes.ts';

// The real entry point (`npm start` runs `tsx infra/main.ts`) as a child process.

const root = path.resolve(import.meta.dirname, '../..');
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return env;
};

function start(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const output = () => ({ stdout, stderr });
  const waitFor = async (pattern: RegExp, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(stdout)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; stdout: ${stdout}; stderr: ${stderr}`);
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}; stdout: ${stdout}; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, output, waitFor };
}

describe('npm start (infra/main.ts)', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('a bad configuration value stops it with one readable line and a non-zero exit', async () => {
    const run = start({ ...cleanEnv(), PORT: 'abc', ANTHROPIC_API_KEY: 'sk-ant-secret-value' });
    const code = await run.exited;
    const { stdout, stderr } = run.output();
    expect(code).toBe(2);
    const lines = stderr
      .trim()
      .split('\n')
      .filter((l) => !/npm warn/.test(l));
    expect(lines).toEqual(['Invalid configuration: PORT must be an integer from 1 to 65535 (got "abc")']);
    expect(stdout + stderr).not.toContain('sk-ant-secret-value');
  });

  it('starts its own nats-server, creates the event stream, reports ready, and on SIGTERM leaves no nats-server behind', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'orch-main-'));
    dirs.push(dataDir);
    const run = start({ ...cleanEnv(), DATA_DIR: dataDir, SLACK_BOT_TOKEN: '', ANTHROPIC_API_KEY: '' });
    await run.waitFor(/"msg":"ready"/);
    const lines = run
      .output()
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const started = lines.find((l) => l.msg === 'embedded nats-server started')!;
    const ready = lines.find((l) => l.msg === 'ready')!;
    expect(ready.eventStore).toBe('JetStream stream ORCH_EVENTS');
    expect(ready.frontEnd).toBe('console');
    expect(ready.planner).toBe('offline');
    const natsPid = started.natsPid as number;
    expect(isAlive(natsPid)).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output().stdout).toMatch(/"msg":"stopped"/);
    expect(isAlive(natsPid)).toBe(false);
  });
});

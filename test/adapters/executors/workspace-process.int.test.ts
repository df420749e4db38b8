import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningInGroup } from '../../support/processes.ts';
import { CommandNotFound, runProcess, safeEnv } from '../../../adapters/executors/process.ts';
import {
  InvalidRepositoryPath,
  PathOutsideWorkspace,
  RepositoryNotFound,
  repositoryParameter,
  resolveInWorkspace,
} from '../../../adapters/executors/workspace.ts';
import { ExecutionFailed } from '../../../domain/ports/executor.ts';

const rejection = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('resolveInWorkspace', () => {
  let root: string;
  let outside: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'orch-ws-'));
    outside = await mkdtemp(path.join(tmpdir(), 'orch-outside-'));
    await mkdir(path.join(root, 'repo', 'sub'), { recursive: true });
    await writeFile(path.join(root, 'file.txt'), 'x');
    await symlink(outside, path.join(root, 'escape'));
    await symlink(path.join(root, 'repo'), path.join(root, 'alias'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('resolves relative and absolute paths inside the root to real paths', async () => {
    const real = await realpath(path.join(root, 'repo'));
    expect(await resolveInWorkspace(root, 'repo')).toBe(real);
    expect(await resolveInWorkspace(root, './repo/sub/..')).toBe(real);
    expect(await resolveInWorkspace(root, path.join(root, 'repo'))).toBe(real);
    expect(await resolveInWorkspace(root, 'alias')).toBe(real); // a symlink that stays inside is fine
    expect(await resolveInWorkspace(root, '.')).toBe(await realpath(root));
  });

  it.each([
    ['a parent path', () => '../'],
    ['a sibling through ..', () => `../${path.basename(outside)}`],
    ['an absolute path outside', () => outside],
    ['/etc', () => '/etc'],
    ['a symlink pointing outside', () => 'escape'],
    ['a path through a symlink pointing outside', () => 'escape/anything'],
  ])('refuses %s with PathOutsideWorkspace', async (_name, requested) => {
    const error = await rejection(resolveInWorkspace(root, requested()));
    expect(error).toBeInstanceOf(PathOutsideWorkspace);
    expect(error).toBeInstanceOf(ExecutionFailed);
    expect((error as PathOutsideWorkspace).code).toBe('PathOutsideWorkspace');
    expect((error as Error).message).toContain(JSON.stringify(requested()));
    expect((error as Error).message).not.toContain(root);
    if (!requested().includes(outside)) expect((error as Error).message).not.toContain(outside);
  });

  it('reports a missing repository (or a file) as RepositoryNotFound without naming the root', async () => {
    for (const requested of ['missing', 'repo/missing/deeper', 'file.txt']) {
      const error = await rejection(resolveInWorkspace(root, requested));
      expect(error).toBeInstanceOf(RepositoryNotFound);
      expect((error as RepositoryNotFound).code).toBe('RepositoryNotFound');
      expect((error as Error).message).not.toContain(root);
    }
    // Outside and missing is still "outside": nothing is revealed about what exists there.
    expect(await rejection(resolveInWorkspace(root, '../no-such-folder-xyz'))).toBeInstanceOf(PathOutsideWorkspace);
  });

  it('validates the repository string first', async () => {
    for (const requested of ['', 'repo\0/x', 'repo\n', 'a'.repeat(2000)]) {
      expect(await rejection(resolveInWorkspace(root, requested))).toBeInstanceOf(InvalidRepositoryPath);
      expect(repositoryParameter.safeParse(requested).success).toBe(false);
    }
    expect(repositoryParameter.safeParse('repo/sub').success).toBe(true);
  });
});

describe('runProcess', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'orch-proc-'));
  });
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });
  const signal = () => new AbortController().signal;

  it('runs without a shell and reports exit code, output and lines', async () => {
    const lines: string[] = [];
    const result = await runProcess('node', ['-e', 'console.log(process.argv[1]); console.error("err"); process.exit(3)', '$HOME; echo hi'], {
      cwd,
      signal: signal(),
      onLine: (stream, line) => lines.push(`${stream}:${line}`),
    });
    expect(result).toMatchObject({
      exitCode: 3,
      signal: null,
      stdout: '$HOME; echo hi\n',
      stderr: 'err\n',
      timedOut: false,
      cancelled: false,
      truncated: false,
    });
    expect(lines.sort()).toEqual(['stderr:err', 'stdout:$HOME; echo hi']);
  });

  it('keeps only the tail of large output', async () => {
    const result = await runProcess('node', ['-e', 'for (let i = 0; i < 20000; i++) console.log("line " + i)'], {
      cwd,
      signal: signal(),
      maxOutputBytes: 1000,
    });
    expect(result.exitCode).toBe(0);
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(1000);
    expect(result.stdout.endsWith('line 19999\n')).toBe(true);
  });

  it('rejects a missing command with CommandNotFound', async () => {
    expect(await rejection(runProcess('no-such-command-xyz', [], { cwd, signal: signal() }))).toBeInstanceOf(CommandNotFound);
  });

  it('passes no secrets of this process to the command', async () => {
    process.env.ORCH_TEST_SECRET_TOKEN = 'xoxb-very-secret';
    try {
      const result = await runProcess('node', ['-e', 'console.log(JSON.stringify(process.env))'], { cwd, signal: signal() });
      expect(result.stdout).not.toContain('xoxb-very-secret');
      expect(JSON.parse(result.stdout)).toMatchObject({ CI: 'true', PATH: process.env.PATH });
      expect(safeEnv({ EXTRA: '1' }).EXTRA).toBe('1');
    } finally {
      delete process.env.ORCH_TEST_SECRET_TOKEN;
    }
  });

  it('stops the whole group on timeout', async () => {
    const started = Date.now();
    const result = await runProcess('sh', ['-c', 'sleep 30 & sleep 30'], { cwd, signal: signal(), timeoutMs: 200 });
    expect(result.timedOut).toBe(true);
    expect(result.cancelled).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(runningInGroup(result.pid!)).toEqual([]);
  });

  it('sends SIGKILL after the grace period when the group ignores SIGTERM', async () => {
    const controller = new AbortController();
    const running = runProcess('sh', ['-c', "trap '' TERM; sleep 30 & sleep 30"], { cwd, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const aborted = Date.now();
    controller.abort();
    const result = await running;
    const elapsed = Date.now() - aborted;
    expect(result.cancelled).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(4000);
    expect(runningInGroup(result.pid!)).toEqual([]);
  });

  it('stops what the command left running in its group when it exits', async () => {
    const started = Date.now();
    const result = await runProcess('sh', ['-c', 'sleep 30 & echo started'], { cwd, signal: signal() });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'started\n', cancelled: false });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(runningInGroup(result.pid!)).toEqual([]);
  });

  it('does not start a command when the signal is already aborted', async () => {
    const result = await runProcess('sleep', ['30'], { cwd, signal: AbortSignal.abort() });
    expect(result).toMatchObject({ cancelled: true, exitCode: null, pid: undefined });
  });
});

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningInGroup } from '../../support/processes.ts';
import { runTests, TestOutputParser } from '../../../adapters/executors/local/run-tests.ts';
import { ExecutionFailed, overallPercent, type ExecutionContext, type ProgressUpdate } from '../../../domain/ports/executor.ts';

function contextFor(root: string, signal = new AbortController().signal) {
  const updates: ProgressUpdate[] = [];
  const context: ExecutionContext = { taskId: 'task-1', attempt: 1, workspaceRoot: root, signal, progress: (u) => updates.push(u) };
  return { context, updates };
}

function expectProgress(updates: readonly ProgressUpdate[]) {
  const names = runTests.stages.map((s) => s.name);
  const percents = updates.map((u) => {
    expect(names).toContain(u.stage);
    return overallPercent(runTests.stages, u.stage, u.fraction);
  });
  percents.forEach((p, i) => expect(p).toBeGreaterThanOrEqual(percents[i - 1] ?? 0));
  expect(percents.at(-1)).toBe(100);
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'orch-tests-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function plant(name: string, files: Record<string, string>): Promise<string> {
  const repo = path.join(root, name);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(repo, file)), { recursive: true });
    await writeFile(path.join(repo, file), text);
  }
  return repo;
}

const nodeTests = (passing: number, failing: number) =>
  [
    "const test = require('node:test');",
    "const assert = require('node:assert');",
    ...Array.from({ length: passing }, (_, i) => `test('passes ${i}', () => assert.equal(1, 1));`),
    ...Array.from({ length: failing }, (_, i) => `test('fails ${i}', () => assert.equal(1, 2));`),
  ].join('\n');

async function execute(params: Record<string, unknown>, signal?: AbortSignal) {
  const { context, updates } = contextFor(root, signal);
  return { result: await runTests.execute(runTests.parameters.parse(params), context), updates };
}
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as ExecutionFailed,
  );

describe('run-tests', () => {
  it('runs `npm test` (node --test) and reports 3 passed / 2 failed', async () => {
    await plant('npm-repo', {
      'package.json': JSON.stringify({ name: 'npm-repo', private: true, scripts: { test: 'node --test' } }),
      'test/sample.test.js': nodeTests(3, 2),
    });
    const { result, updates } = await execute({ repository: 'npm-repo' });
    expect(result).toMatchObject({ runner: 'npm', command: ['npm', 'test'], passed: 3, failed: 2, skipped: 0, format: 'node', success: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.durationMs).toBeGreaterThan(0);
    expect(result.outputTail).toContain('fails 1');
    expectProgress(updates);
    expect(updates.at(-1)?.counters).toEqual({ passed: 3, failed: 2, skipped: 0 });
  });

  it('runs the argv from .orchestrator.json testCommand', async () => {
    await plant('configured', {
      '.orchestrator.json': JSON.stringify({ testCommand: ['node', '--test'] }),
      'test/only.test.js': nodeTests(4, 0),
    });
    const { result, updates } = await execute({ repository: 'configured' });
    expect(result).toMatchObject({ runner: 'configured', command: ['node', '--test'], exitCode: 0, passed: 4, failed: 0, success: true });
    expectProgress(updates);
  });

  it('detects pytest from a tests/ folder of test_*.py', async () => {
    const hasPytest = (() => {
      try {
        execFileSync('python3', ['-c', 'import pytest']);
        return true;
      } catch {
        return false;
      }
    })();
    await plant('py-repo', {
      'tests/test_math.py': 'def test_one():\n    assert 1 == 1\n\ndef test_two():\n    assert 2 == 2\n\ndef test_bad():\n    assert 1 == 2\n',
    });
    const run = execute({ repository: 'py-repo' });
    if (!hasPytest) return expect((await failure(run))?.code).toBe('RunnerNotInstalled');
    const { result } = await run;
    expect(result).toMatchObject({ runner: 'pytest', passed: 2, failed: 1, skipped: 0, format: 'pytest', success: false });
  });

  it('fails with NoTestRunnerFound when nothing is detected', async () => {
    await plant('nothing', { 'README.md': '# nothing\n', 'package.json': JSON.stringify({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }) });
    const error = await failure(execute({ repository: 'nothing' }));
    expect(error).toBeInstanceOf(ExecutionFailed);
    expect(error).toMatchObject({ code: 'NoTestRunnerFound', retryable: false });
  });

  it('fails with RunnerNotInstalled when the runner binary is missing', async () => {
    await plant('missing-bin', { '.orchestrator.json': JSON.stringify({ testCommand: ['no-such-test-runner-xyz', 'run'] }) });
    expect(await failure(execute({ repository: 'missing-bin' }))).toMatchObject({ code: 'RunnerNotInstalled', retryable: false });
  });

  it('rejects a shell string as testCommand', async () => {
    await plant('shell-string', { '.orchestrator.json': JSON.stringify({ testCommand: 'npm test && rm -rf /' }) });
    expect(await failure(execute({ repository: 'shell-string' }))).toMatchObject({ code: 'InvalidConfiguration' });
  });

  it('fails with a retryable TimedOut when the run takes too long', async () => {
    await plant('slow', { '.orchestrator.json': JSON.stringify({ testCommand: ['sleep', '30'] }) });
    const started = Date.now();
    expect(await failure(execute({ repository: 'slow', timeoutMs: 300 }))).toMatchObject({ code: 'TimedOut', retryable: true });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses a repository outside the workspace', async () => {
    expect(await failure(execute({ repository: '../' }))).toMatchObject({ code: 'PathOutsideWorkspace' });
  });

  it('cancellation stops the whole process group within 2 s', async () => {
    const repo = await plant('cancel', {
      '.orchestrator.json': JSON.stringify({ testCommand: ['sh', '-c', 'echo $$ > pgid.txt; sleep 30 & sleep 30'] }),
    });
    const controller = new AbortController();
    const running = failure(execute({ repository: 'cancel' }, controller.signal));
    let pgid = 0;
    for (let i = 0; i < 100 && !pgid; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      pgid = Number((await readFile(path.join(repo, 'pgid.txt'), 'utf8').catch(() => '')).trim());
    }
    expect(pgid).toBeGreaterThan(0);
    for (let i = 0; i < 40 && runningInGroup(pgid).length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runningInGroup(pgid).length).toBe(3); // sh and both sleeps

    const aborted = Date.now();
    controller.abort();
    const error = await running;
    expect(Date.now() - aborted).toBeLessThan(2000);
    expect(error).toMatchObject({ code: 'Cancelled', retryable: false });
    expect(runningInGroup(pgid)).toEqual([]);
    // Once the dead members are reaped the group is gone entirely.
    let gone = false;
    for (let i = 0; i < 100 && !gone; i++) {
      try {
        process.kill(-pgid, 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      } catch (e) {
        gone = (e as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
    expect(gone).toBe(true);
  });
});

describe('TestOutputParser', () => {
  const parse = (output: string) => {
    const parser = new TestOutputParser();
    for (const line of output.split('\n')) parser.push(line);
    return parser.result();
  };

  it.each([
    ['node tap', '# tests 5\n# pass 3\n# fail 1\n# cancelled 0\n# skipped 1\n# todo 0', { passed: 3, failed: 1, skipped: 1, format: 'node' }],
    ['node spec', 'ℹ tests 2\nℹ pass 2\nℹ fail 0', { passed: 2, failed: 0, skipped: 0, format: 'node' }],
    [
      'vitest',
      ' Test Files  1 failed | 2 passed (3)\n      Tests  \u001b[31m2 failed\u001b[39m | 7 passed | 1 skipped (10)',
      { passed: 7, failed: 2, skipped: 1, format: 'vitest-jest' },
    ],
    ['jest', 'Test Suites: 1 failed, 1 total\nTests:       1 failed, 1 todo, 4 passed, 6 total', { passed: 4, failed: 1, skipped: 1, format: 'vitest-jest' }],
    ['mocha', '  5 passing (20ms)\n  1 pending\n  2 failing', { passed: 5, failed: 2, skipped: 1, format: 'mocha' }],
    ['pytest', '====== 2 failed, 10 passed, 3 skipped, 1 error in 0.52s ======', { passed: 10, failed: 3, skipped: 3, format: 'pytest' }],
    ['pytest -q', '8 passed, 1 warning in 0.12s', { passed: 8, failed: 0, skipped: 0, format: 'pytest' }],
    [
      'go test -v',
      '=== RUN   TestA\n--- PASS: TestA (0.00s)\n--- FAIL: TestB (0.00s)\n    --- PASS: TestB/sub (0.00s)\n--- SKIP: TestC (0.00s)\nFAIL\nFAIL\texample.com/a\t0.004s\nok  \texample.com/b\t0.002s\nok  \texample.com/c\t(cached)',
      { passed: 2, failed: 1, skipped: 1, format: 'go', packages: { ok: 2, failed: 1 } },
    ],
    [
      'cargo',
      'test result: FAILED. 3 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out',
      { passed: 4, failed: 2, skipped: 1, format: 'cargo' },
    ],
  ])('parses %s output', (_name, output, expected) => {
    expect(parse(output)).toEqual(expected);
  });

  it('returns undefined for unknown output', () => {
    expect(parse('compiling…\nerror: something broke')).toBeUndefined();
  });
});

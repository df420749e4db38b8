import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ExecutionFailed, type ExecutionContext } from '../../../domain/ports/executor.ts';
import { DETECT_RUN_REPORT_STAGES, LineTail, runForExecutor, stripAnsi } from '../process.ts';
import { packageScript, readOrchestratorConfig, readRepoText, repoHas, repositoryParameter, resolveInWorkspace } from '../workspace.ts';
import type { TaskTypeExecutor } from '../task-type.ts';
import { resultView } from '../../../domain/replies/result-view.ts';
import { runTestsResultSchema, testRunReply } from '../../../domain/replies/test-run-reply.ts';

// `run-tests`: detects the repository's test runner (or takes `.orchestrator.json` testCommand,
// an argv array), runs it in its own process group and parses pass / fail / skip counts from
// its output. Failing tests are a result (failed > 0), not a failed execution.

const parameters = z.object({
  repository: repositoryParameter,
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(2 * 60 * 60 * 1000)
    .default(15 * 60 * 1000),
});
export type RunTestsParams = z.infer<typeof parameters>;

export type TestRunner = 'configured' | 'npm' | 'pytest' | 'go' | 'cargo';

export interface RunTestsResult {
  readonly runner: TestRunner;
  readonly command: string[];
  readonly exitCode: number | null;
  /** Null when the output's format was not recognised. */
  readonly passed: number | null;
  readonly failed: number | null;
  readonly skipped: number | null;
  /** Which output format the counts were read from: node, vitest-jest, mocha, pytest, go, cargo. */
  readonly format: string | null;
  /** `go test` only: packages that passed / failed. */
  readonly packages?: { ok: number; failed: number };
  readonly success: boolean;
  readonly durationMs: number;
  /** The last lines of stdout and stderr, interleaved. */
  readonly outputTail: string;
  readonly outputTruncated: boolean;
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}
/** "3 passed, 1 failed" → a function summing the numbers before the given words. */
function tally(text: string): (...words: string[]) => number {
  const found = new Map<string, number>();
  for (const [, n, word] of text.matchAll(/(\d+) (\w+)/g)) found.set(word!, (found.get(word!) ?? 0) + Number(n));
  return (...words) => words.reduce((sum, word) => sum + (found.get(word) ?? 0), 0);
}

/** Streaming parser for the summary lines of the usual test runners; the last summary wins. */
export class TestOutputParser {
  private readonly summaries = new Map<string, Counts>();
  private cargo: Counts | undefined;
  private readonly go = { passed: 0, failed: 0, skipped: 0, ok: 0, failedPackages: 0, seen: false };
  private readonly node: Record<string, number> = {};
  private readonly mocha: Record<string, number> = {};

  push(raw: string): void {
    const line = stripAnsi(raw);
    let m: RegExpExecArray | null;
    if ((m = /^test result: \w+\.\s+(\d+) passed;\s+(\d+) failed;\s+(\d+) ignored/.exec(line))) {
      const c = this.cargo ?? { passed: 0, failed: 0, skipped: 0 };
      this.cargo = { passed: c.passed + Number(m[1]), failed: c.failed + Number(m[2]), skipped: c.skipped + Number(m[3]) };
    } else if ((m = /^(?:#|ℹ) (tests|pass|fail|cancelled|skipped|todo) (\d+)\s*$/.exec(line))) {
      this.node[m[1]!] = Number(m[2]);
    } else if ((m = /^\s*(\d+) (passing|failing|pending)\b/.exec(line))) {
      this.mocha[m[2]!] = Number(m[1]);
    } else if ((m = /^\s*Tests:?\s+(.*\d+ (?:passed|failed|skipped|todo|pending).*)$/.exec(line))) {
      const n = tally(m[1]!);
      this.summaries.set('vitest-jest', { passed: n('passed'), failed: n('failed'), skipped: n('skipped', 'todo', 'pending') });
    } else if ((m = /^=*\s*((?:\d+ \w+(?:, )?)+|no tests ran) in [\d.]+s\b/.exec(line.trim()))) {
      const n = tally(m[1]!);
      this.summaries.set('pytest', { passed: n('passed', 'xpassed'), failed: n('failed', 'error', 'errors'), skipped: n('skipped', 'xfailed') });
    } else if ((m = /^\s*--- (PASS|FAIL|SKIP):/.exec(line))) {
      this.go.seen = true;
      if (m[1] === 'PASS') this.go.passed++;
      else if (m[1] === 'FAIL') this.go.failed++;
      else this.go.skipped++;
    } else if (/^ok\s+\S+\s+(?:[\d.]+s|\(cached\))/.test(line)) {
      this.go.seen = true;
      this.go.ok++;
    } else if (/^FAIL\s+\S+\s+(?:[\d.]+s|\[)/.test(line)) {
      this.go.seen = true;
      this.go.failedPackages++;
    }
  }

  result(): (Counts & { format: string; packages?: { ok: number; failed: number } }) | undefined {
    if (this.cargo) return { ...this.cargo, format: 'cargo' };
    const pytest = this.summaries.get('pytest');
    if (pytest) return { ...pytest, format: 'pytest' };
    const vitest = this.summaries.get('vitest-jest');
    if (vitest) return { ...vitest, format: 'vitest-jest' };
    if (this.mocha.passing !== undefined || this.mocha.failing !== undefined) {
      return { passed: this.mocha.passing ?? 0, failed: this.mocha.failing ?? 0, skipped: this.mocha.pending ?? 0, format: 'mocha' };
    }
    if (this.node.pass !== undefined || this.node.fail !== undefined) {
      const n = (key: string) => this.node[key] ?? 0;
      return { passed: n('pass'), failed: n('fail') + n('cancelled'), skipped: n('skipped') + n('todo'), format: 'node' };
    }
    if (this.go.seen) {
      const { passed, failed, skipped, ok, failedPackages } = this.go;
      return { passed, failed, skipped, format: 'go', packages: { ok, failed: failedPackages } };
    }
    return undefined;
  }
}

async function hasPythonTests(repo: string): Promise<boolean> {
  if (await repoHas(repo, 'pytest.ini')) return true;
  if (/\[tool\.pytest/.test((await readRepoText(repo, 'pyproject.toml')) ?? '')) return true;
  if (/\[tool:pytest\]/.test((await readRepoText(repo, 'setup.cfg')) ?? '')) return true;
  if (/\[pytest\]/.test((await readRepoText(repo, 'tox.ini')) ?? '')) return true;
  const entries = await readdir(path.join(repo, 'tests')).catch(() => [] as string[]);
  return entries.some((name) => /^test_.*\.py$|_test\.py$/.test(name));
}

/** The runner and argv for a repository, or undefined when none is recognisable. */
async function detectTestRunner(repo: string): Promise<{ runner: TestRunner; command: string[] } | undefined> {
  const config = await readOrchestratorConfig(repo);
  if (config.testCommand) return { runner: 'configured', command: config.testCommand };
  if (await packageScript(repo, 'test')) return { runner: 'npm', command: ['npm', 'test'] };
  if (await hasPythonTests(repo)) return { runner: 'pytest', command: ['python3', '-m', 'pytest', '-p', 'no:cacheprovider'] };
  if (await repoHas(repo, 'go.mod')) return { runner: 'go', command: ['go', 'test', '-v', './...'] };
  if (await repoHas(repo, 'Cargo.toml')) return { runner: 'cargo', command: ['cargo', 'test'] };
  return undefined;
}

const stages = DETECT_RUN_REPORT_STAGES;

async function execute(params: RunTestsParams, context: ExecutionContext): Promise<RunTestsResult> {
  context.progress({ stage: 'detect', fraction: 0 });
  const repo = await resolveInWorkspace(context.workspaceRoot, params.repository);
  const detected = await detectTestRunner(repo);
  if (!detected)
    throw new ExecutionFailed(
      'NoTestRunnerFound',
      'no test runner found (package.json test script, pytest, go.mod, Cargo.toml or .orchestrator.json testCommand)',
      false,
    );
  context.progress({ stage: 'detect', fraction: 1, details: detected.command.join(' ') });

  const parser = new TestOutputParser();
  const tail = new LineTail();
  let lines = 0;
  let lastReport = Date.now();
  const started = Date.now();
  context.progress({ stage: 'run', fraction: 0, details: detected.command.join(' ') });
  const run = await runForExecutor(detected.command, {
    cwd: repo,
    signal: context.signal,
    timeoutMs: params.timeoutMs,
    maxOutputBytes: 64 * 1024,
    onLine(_stream, line) {
      parser.push(line);
      tail.push(line);
      lines++;
      if (Date.now() - lastReport >= 1000) {
        lastReport = Date.now();
        // The total is unknown while running: an estimate that approaches the end of the stage.
        const fraction = Math.min(0.95, 1 - Math.exp(-(Date.now() - started) / 60_000));
        context.progress({ stage: 'run', fraction, counters: { outputLines: lines } });
      }
    },
  });
  const output = `${run.stdout}\n${run.stderr}`;
  if (detected.runner === 'pytest' && /No module named pytest/.test(output)) {
    throw new ExecutionFailed('RunnerNotInstalled', 'pytest is not installed for python3', false);
  }
  const counts = parser.result();
  if (run.exitCode === 127 && !counts) {
    throw new ExecutionFailed('RunnerNotInstalled', `the test command could not find a program (exit 127): ${detected.command.join(' ')}`, false);
  }
  context.progress({ stage: 'run', fraction: 1, counters: { outputLines: lines } });

  context.progress({ stage: 'report', fraction: 0 });
  const result: RunTestsResult = {
    runner: detected.runner,
    command: detected.command,
    exitCode: run.exitCode,
    passed: counts?.passed ?? null,
    failed: counts?.failed ?? null,
    skipped: counts?.skipped ?? null,
    format: counts?.format ?? null,
    ...(counts?.packages ? { packages: counts.packages } : {}),
    success: run.exitCode === 0 && (counts?.failed ?? 0) === 0,
    durationMs: run.durationMs,
    outputTail: tail.text(),
    outputTruncated: tail.truncated,
  };
  const counters = { passed: result.passed ?? 0, failed: result.failed ?? 0, skipped: result.skipped ?? 0 };
  context.progress({ stage: 'report', fraction: 1, counters });
  return result;
}

export const runTests = {
  taskType: 'run-tests' as const,
  pool: 'local-ops',
  description: "run a repository's tests",
  estimatedMs: 5 * 60_000,
  chat: {
    phrases: [String.raw`(?:run|execute|re-?run)\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?(?:unit\s+)?(?:test\s+suite|tests?|specs?)`, String.raw`tests?`],
    example: 'run the tests in my-service',
    summary: (repository: string) => `run the tests in ${repository}`,
  },
  reply: resultView(runTestsResultSchema, testRunReply),
  parameters,
  stages,
  sideEffects: false,
  /** It only reads: another run repeats nothing. */
  rerunSafe: () => true,
  execute,
} satisfies TaskTypeExecutor<RunTestsParams, RunTestsResult>;

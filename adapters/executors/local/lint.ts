import { z } from 'zod';
import { ExecutionFailed, type ExecutionContext } from '../../../domain/ports/executor.ts';
import { DETECT_RUN_REPORT_STAGES, LineTail, runForExecutor, stripAnsi } from '../process.ts';
import { packageScript, readOrchestratorConfig, readRepoText, repoHas, repositoryParameter, resolveInWorkspace } from '../workspace.ts';
import type { TaskTypeExecutor } from '../task-type.ts';
import { resultView } from '../../../domain/replies/result-view.ts';
import { lintReply, lintResultSchema } from '../../../domain/replies/lint-reply.ts';

// `lint`: runs the repository's configured linter (never one it has not configured, and never
// downloads one) and parses problem counts where the output format is known. A repository
// with no linter is a result `{ configured: false }`, not a failure.

const parameters = z.object({
  repository: repositoryParameter,
  timeoutMs: z
    .number()
    .int()
    .min(100)
    .max(60 * 60 * 1000)
    .default(10 * 60 * 1000),
});
export type LintParams = z.infer<typeof parameters>;

export type Linter = 'configured' | 'npm' | 'eslint' | 'ruff' | 'golangci-lint';

export type LintResult =
  | { readonly configured: false; readonly message: string }
  | {
      readonly configured: true;
      readonly linter: Linter;
      readonly command: string[];
      readonly exitCode: number | null;
      /** Exit code 0. */
      readonly clean: boolean;
      /** Null when the output's format was not recognised. */
      readonly problems: number | null;
      readonly errors: number | null;
      readonly warnings: number | null;
      readonly durationMs: number;
      readonly outputTail: string;
      readonly outputTruncated: boolean;
    };

const ESLINT_CONFIGS = [
  'eslint.config.js',
  'eslint.config.mjs',
  'eslint.config.cjs',
  'eslint.config.ts',
  'eslint.config.mts',
  '.eslintrc',
  '.eslintrc.js',
  '.eslintrc.cjs',
  '.eslintrc.json',
  '.eslintrc.yml',
  '.eslintrc.yaml',
];

/** The linter and argv for a repository, or undefined when none is configured. */
async function detectLinter(repo: string): Promise<{ linter: Linter; command: string[] } | undefined> {
  const config = await readOrchestratorConfig(repo);
  if (config.lintCommand) return { linter: 'configured', command: config.lintCommand };
  if (await packageScript(repo, 'lint')) return { linter: 'npm', command: ['npm', 'run', 'lint'] };
  for (const file of ESLINT_CONFIGS) {
    if (await repoHas(repo, file)) {
      // `--no`: use the repository's own eslint, never download one.
      if (!(await repoHas(repo, 'node_modules/.bin/eslint'))) {
        throw new ExecutionFailed('RunnerNotInstalled', 'eslint is configured but not installed (node_modules/.bin/eslint)', false);
      }
      return { linter: 'eslint', command: ['npx', '--no', 'eslint', '.'] };
    }
  }
  const pyproject = (await readRepoText(repo, 'pyproject.toml')) ?? '';
  if ((await repoHas(repo, 'ruff.toml')) || (await repoHas(repo, '.ruff.toml')) || /\[tool\.ruff/.test(pyproject)) {
    return { linter: 'ruff', command: ['ruff', 'check', '--no-cache', '.'] };
  }
  if ((await repoHas(repo, '.golangci.yml')) || (await repoHas(repo, '.golangci.yaml'))) {
    return { linter: 'golangci-lint', command: ['golangci-lint', 'run'] };
  }
  return undefined;
}

interface ProblemCounts {
  problems: number;
  errors: number | null;
  warnings: number | null;
}

/** Problem counts from eslint (stylish), ruff or golangci-lint output; the last summary wins. */
class LintOutputParser {
  private summary: ProblemCounts | undefined;
  private goIssues = 0;

  push(raw: string): void {
    const line = stripAnsi(raw);
    let m: RegExpExecArray | null;
    if ((m = /✖ (\d+) problems? \((\d+) errors?, (\d+) warnings?\)/.exec(line))) {
      this.summary = { problems: Number(m[1]), errors: Number(m[2]), warnings: Number(m[3]) };
    } else if ((m = /^Found (\d+) errors?\b/.exec(line))) {
      this.summary = { problems: Number(m[1]), errors: Number(m[1]), warnings: null };
    } else if (/^All checks passed!/.test(line)) {
      this.summary = { problems: 0, errors: 0, warnings: 0 };
    } else if ((m = /^(\d+) issues?\b/.exec(line))) {
      this.summary = { problems: Number(m[1]), errors: null, warnings: null };
    } else if (/^\S+\.go:\d+(?::\d+)?: /.test(line)) {
      this.goIssues++;
    }
  }

  result(linter: Linter, exitCode: number | null): ProblemCounts | undefined {
    if (this.summary) return this.summary;
    if (linter === 'golangci-lint' && (this.goIssues > 0 || exitCode === 0)) return { problems: this.goIssues, errors: null, warnings: null };
    if (linter === 'eslint' && exitCode === 0) return { problems: 0, errors: 0, warnings: 0 };
    return undefined;
  }
}

const stages = DETECT_RUN_REPORT_STAGES;

async function execute(params: LintParams, context: ExecutionContext): Promise<LintResult> {
  context.progress({ stage: 'detect', fraction: 0 });
  const repo = await resolveInWorkspace(context.workspaceRoot, params.repository);
  const detected = await detectLinter(repo);
  context.progress({ stage: 'detect', fraction: 1, ...(detected ? { details: detected.command.join(' ') } : {}) });
  if (!detected) {
    context.progress({ stage: 'report', fraction: 1, details: 'no linter configured' });
    return { configured: false, message: 'no linter configured' };
  }

  const parser = new LintOutputParser();
  const tail = new LineTail();
  context.progress({ stage: 'run', fraction: 0, details: detected.command.join(' ') });
  const run = await runForExecutor(detected.command, {
    cwd: repo,
    signal: context.signal,
    timeoutMs: params.timeoutMs,
    maxOutputBytes: 64 * 1024,
    onLine(_stream, line) {
      parser.push(line);
      tail.push(line);
    },
  });
  if (run.exitCode === 127) {
    throw new ExecutionFailed('RunnerNotInstalled', `the lint command could not find a program (exit 127): ${detected.command.join(' ')}`, false);
  }
  context.progress({ stage: 'run', fraction: 1 });

  context.progress({ stage: 'report', fraction: 0 });
  const counts = parser.result(detected.linter, run.exitCode);
  const result: LintResult = {
    configured: true,
    linter: detected.linter,
    command: detected.command,
    exitCode: run.exitCode,
    clean: run.exitCode === 0,
    problems: counts?.problems ?? null,
    errors: counts?.errors ?? null,
    warnings: counts?.warnings ?? null,
    durationMs: run.durationMs,
    outputTail: tail.text(),
    outputTruncated: tail.truncated,
  };
  context.progress({ stage: 'report', fraction: 1, counters: { problems: result.problems ?? 0 } });
  return result;
}

export const lint = {
  taskType: 'lint' as const,
  pool: 'local-ops',
  description: "run a repository's linter",
  estimatedMs: 60_000,
  chat: {
    phrases: [String.raw`(?:run\s+|check\s+)?(?:the\s+)?(?:lint|linter|linters|linting)`],
    example: 'lint my-service',
    summary: (repository: string) => `lint ${repository}`,
  },
  reply: resultView(lintResultSchema, lintReply),
  parameters,
  stages,
  sideEffects: false,
  /** It only reads: another run repeats nothing. */
  rerunSafe: () => true,
  execute,
} satisfies TaskTypeExecutor<LintParams, LintResult>;

import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claudeCode, claudeProgram, composePrompt, type ClaudeCodeResult } from '../../../adapters/executors/claude/claude-code.ts';
import { report } from '../../../adapters/executors/local/report.ts';
import { executorFor } from '../../../adapters/executors/registry.ts';
import { ExecutionFailed, overallPercent, type ExecutionContext, type ProgressUpdate } from '../../../domain/ports/executor.ts';
import { runningInGroup } from '../../support/processes.ts';

// The claude-code executor against test/support/claude-standin.mjs (the CLI's documented
// headless output) in a real git repository: what it runs, what it reads back, how it fails.

const STANDIN = fileURLToPath(new URL('../../support/claude-standin.mjs', import.meta.url));
const API_KEY = 'sk-ant-test-0123456789abcdef';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test User', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });

let root: string;
let repo: string;
let log: string;
const ownEnv = new Set<string>();

function setEnv(vars: Record<string, string>) {
  for (const [name, value] of Object.entries(vars)) {
    if (!(name in process.env)) ownEnv.add(name);
    process.env[name] = value;
  }
}

beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'orch-claude-')));
  repo = path.join(root, 'app');
  await mkdir(path.join(repo, 'src'), { recursive: true });
  await writeFile(path.join(repo, 'README.md'), '# app\n');
  await writeFile(path.join(repo, 'src/index.ts'), 'export const x = 1;\n');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'initial');
  await mkdir(path.join(root, 'plain'));
  log = path.join(root, 'invocations.jsonl');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(async () => {
  for (const name of Object.keys(process.env)) if (name.startsWith('CLAUDE_STANDIN_')) delete process.env[name];
  for (const name of ownEnv) delete process.env[name];
  ownEnv.clear();
  await rm(log, { force: true });
  git(repo, 'checkout', '-q', '--', '.');
  git(repo, 'clean', '-qfd');
});

function contextFor(options: { signal?: AbortSignal; program?: string } = {}) {
  const updates: ProgressUpdate[] = [];
  const context: ExecutionContext = {
    taskId: 'task-1',
    attempt: 1,
    workspaceRoot: root,
    programs: { claude: options.program ?? STANDIN },
    signal: options.signal ?? new AbortController().signal,
    progress: (u) => updates.push(u),
  };
  return { context, updates };
}

async function run(params: Record<string, unknown>, env: Record<string, string> = {}, options: { signal?: AbortSignal; program?: string } = {}) {
  setEnv({ CLAUDE_STANDIN_LOG: log, ...env });
  const { context, updates } = contextFor(options);
  const result: ClaudeCodeResult = await claudeCode.execute(claudeCode.parameters.parse(params), context);
  return { result, updates };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected a failure'),
    (error: unknown) => error as ExecutionFailed,
  );

async function invocations(): Promise<{ argv: string[]; cwd: string; pid: number; env: string[] }[]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

const option = (argv: readonly string[], name: string) => argv[argv.indexOf(name) + 1];

describe('claude-code', () => {
  it('is registered in the claude pool, with side effects, beside the report executor', () => {
    expect(executorFor('claude-code')).toBe(claudeCode);
    expect(claudeCode).toMatchObject({ taskType: 'claude-code', pool: 'claude', sideEffects: true });
    expect(executorFor('report')).toBe(report);
  });

  it('runs claude -p in the repository and reads summary, cost, usage, turns and session from the stream', async () => {
    const answer =
      'Two issues are worth fixing now.\n\n```json\n{"highPriorityCount": 2, "highPriority": ["sql injection in login", "unbounded cache"], "success": false}\n```';
    const { result, updates } = await run(
      { repository: 'app', mode: 'plan', prompt: 'Rank these findings.', findings: { todo: { count: 3 } }, issues: null },
      { CLAUDE_STANDIN_RESULT: answer },
    );
    expect(result).toMatchObject({
      success: true,
      mode: 'plan',
      summary: answer,
      summaryTruncated: false,
      costUsd: 0.0123,
      usage: { inputTokens: 1200, outputTokens: 345, cacheReadInputTokens: 300, cacheCreationInputTokens: 0 },
      turns: 3,
      permissionDenials: 0,
      filesChanged: [],
      filesChangedCount: 0,
      // The answer's named values, for conditions such as steps.prioritize.output.highPriorityCount > 0.
      highPriorityCount: 2,
      highPriority: ['sql injection in login', 'unbounded cache'],
      answerFields: ['highPriorityCount', 'highPriority'],
    });
    expect(result.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    const [call, ...more] = await invocations();
    expect(more).toEqual([]);
    expect(call!.cwd).toBe(repo);
    expect(call!.argv.slice(0, 2)).toEqual(['-p', expect.stringContaining('Rank these findings.')]);
    expect(call!.argv[1]).toContain('"count": 3');
    expect(option(call!.argv, '--output-format')).toBe('stream-json');
    expect(call!.argv).toContain('--verbose');
    expect(option(call!.argv, '--permission-mode')).toBe('default');
    expect(option(call!.argv, '--disallowedTools')!.split(',')).toEqual(expect.arrayContaining(['Edit', 'Write', 'Bash', 'WebFetch']));

    const percents = updates.map((u) => overallPercent(claudeCode.stages, u.stage, u.fraction));
    percents.forEach((p, i) => expect(p).toBeGreaterThanOrEqual(percents[i - 1] ?? 0));
    expect(percents.at(-1)).toBe(100);
    expect(updates.some((u) => u.stage === 'run' && u.details === `Read ${path.join(repo, 'README.md')}`)).toBe(true);
    expect(updates.find((u) => u.stage === 'run' && u.fraction === 1)?.counters).toMatchObject({ steps: 3, toolUses: 1, outputTokens: 345 });
  });

  it('edit mode accepts edits, and the changed file shows in filesChanged', async () => {
    const { result } = await run({ repository: 'app', mode: 'edit', prompt: 'Fix it.' }, { CLAUDE_STANDIN_EDIT: 'src/fixed.ts' });
    expect(result).toMatchObject({ filesChanged: ['src/fixed.ts'], filesChangedCount: 1, permissionDenials: 0 });
    expect(await readFile(path.join(repo, 'src/fixed.ts'), 'utf8')).toContain('edited by the claude stand-in');
    const [call] = await invocations();
    expect(option(call!.argv, '--permission-mode')).toBe('acceptEdits');
    expect(option(call!.argv, '--allowedTools')!.split(',')).toEqual(expect.arrayContaining(['Edit', 'Write', 'Bash']));
  });

  it('counts a second edit of a file that was already modified before the run', async () => {
    await writeFile(path.join(repo, 'src/index.ts'), 'export const x = 2;\n');
    const { result } = await run({ repository: 'app', mode: 'edit', prompt: 'Fix it.' }, { CLAUDE_STANDIN_EDIT: 'src/index.ts' });
    expect(result.filesChanged).toEqual(['src/index.ts']);
  });

  it('review mode refuses edits: nothing changes and the denial is counted', async () => {
    const { result } = await run(
      { repository: 'app', mode: 'review', focus: 'security', prompt: 'Review the changes.' },
      { CLAUDE_STANDIN_EDIT: 'src/fixed.ts' },
    );
    expect(result).toMatchObject({ filesChanged: [], permissionDenials: 1 });
    const [call] = await invocations();
    expect(call!.argv[1]).toContain('Focus: security');
  });

  it('omits filesChanged outside a git repository', async () => {
    const { result } = await run({ repository: 'plain', prompt: 'Look around.' });
    expect(result.success).toBe(true);
    expect(result).not.toHaveProperty('filesChanged');
  });

  it('keeps a long answer (one stream line over 64 KiB) and bounds the summary', async () => {
    const { result } = await run({ repository: 'app', prompt: 'Say a lot.' }, { CLAUDE_STANDIN_RESULT: 'x'.repeat(90_000) });
    expect(result.summary).toHaveLength(16_000);
    expect(result.summaryTruncated).toBe(true);
  });

  it('passes Claude settings and the API key to the child, never Slack secrets, and never shows the key', async () => {
    setEnv({ ANTHROPIC_API_KEY: API_KEY, SLACK_BOT_TOKEN: 'xoxb-not-for-claude' });
    const { result } = await run({ repository: 'app', prompt: 'Print the key.' }, { CLAUDE_STANDIN_RESULT: `the key is ${API_KEY}` });
    const [call] = await invocations();
    expect(call!.env).toContain('ANTHROPIC_API_KEY');
    expect(call!.env).not.toContain('SLACK_BOT_TOKEN');
    expect(result.summary).toBe('the key is [redacted]');
    expect(JSON.stringify(result)).not.toContain(API_KEY);
  });

  it('an is_error result fails with its text, not retryable', async () => {
    const error = await failure(
      run({ repository: 'app', prompt: 'Do it.' }, { CLAUDE_STANDIN_FAIL: 'error', CLAUDE_STANDIN_RESULT: 'the build tool exploded' }),
    );
    expect(error).toBeInstanceOf(ExecutionFailed);
    expect(error).toMatchObject({ code: 'ClaudeCodeFailed', retryable: false });
    expect(error.message).toContain('the build tool exploded');
  });

  it.each(['overloaded', 'rate_limit'])('%s: retryable', async (kind) => {
    const error = await failure(run({ repository: 'app', prompt: 'Do it.' }, { CLAUDE_STANDIN_FAIL: kind }));
    expect(error).toMatchObject({ code: 'ClaudeUnavailable', retryable: true });
    expect(error.message).toMatch(/API Error: (529|429)/);
  });

  it('the turn limit: MaxTurnsReached, not retryable', async () => {
    const error = await failure(run({ repository: 'app', prompt: 'Do it.', maxTurns: 3 }, { CLAUDE_STANDIN_FAIL: 'max_turns' }));
    expect(error).toMatchObject({ code: 'MaxTurnsReached', retryable: false });
    const [call] = await invocations();
    expect(option(call!.argv, '--max-turns')).toBe('3');
  });

  it('a CLI that dies without a result fails with what it printed', async () => {
    const error = await failure(run({ repository: 'app', prompt: 'Do it.' }, { CLAUDE_STANDIN_FAIL: 'crash' }));
    expect(error).toMatchObject({ code: 'ClaudeCodeFailed', retryable: false });
    expect(error.message).toContain('crashed before answering');
  });

  it('a missing or non-executable claude: RunnerNotInstalled naming CLAUDE_BIN', async () => {
    const missing = await failure(run({ repository: 'app', prompt: 'Do it.' }, {}, { program: path.join(root, 'no-such-claude') }));
    expect(missing).toMatchObject({ code: 'RunnerNotInstalled', retryable: false });
    expect(missing.message).toContain('CLAUDE_BIN');
    expect(missing.message).toContain('no-such-claude');

    const notExecutable = path.join(root, 'claude-not-executable');
    await writeFile(notExecutable, '#!/bin/sh\n');
    await chmod(notExecutable, 0o644);
    const refused = await failure(run({ repository: 'app', prompt: 'Do it.' }, {}, { program: notExecutable }));
    expect(refused).toMatchObject({ code: 'RunnerNotInstalled', retryable: false });
    expect(refused.message).toContain('is not executable');
  });

  it('cancelling stops claude and everything it started', async () => {
    const controller = new AbortController();
    const running = failure(run({ repository: 'app', prompt: 'Take your time.' }, { CLAUDE_STANDIN_DELAY_MS: '30000' }, { signal: controller.signal }));
    let pid: number | undefined;
    for (let i = 0; i < 100 && (pid === undefined || runningInGroup(pid).length < 2); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      pid = (await invocations())[0]?.pid;
    }
    expect(runningInGroup(pid!).length).toBe(2); // the CLI and its "Bash tool" child
    const aborted = Date.now();
    controller.abort();
    const error = await running;
    expect(Date.now() - aborted).toBeLessThan(3_000);
    expect(error).toMatchObject({ code: 'Cancelled', retryable: false });
    expect(runningInGroup(pid!)).toEqual([]);
  });

  it('refuses a repository outside the workspace before running anything', async () => {
    const error = await failure(run({ repository: '../elsewhere', prompt: 'Do it.' }));
    expect(error.code).toBe('PathOutsideWorkspace');
    expect(await invocations()).toEqual([]);
  });
});

describe('claude-code parameters', () => {
  const accepts = (params: Record<string, unknown>) => claudeCode.parameters.safeParse(params).success;

  it('accepts what the workflow templates give it', () => {
    expect(accepts({ repository: 'acme/api', mode: 'plan', prompt: 'Rank.', findings: { todo: { count: 1 } } })).toBe(true);
    expect(accepts({ repository: 'acme/api', mode: 'edit', prompt: 'Fix.', issues: null })).toBe(true);
    expect(accepts({ repository: 'acme/api', mode: 'investigate', prompt: 'Reproduce.', reproduction: { summary: 'x' } })).toBe(true);
    expect(accepts({ repository: 'acme/api', mode: 'review', focus: 'security', prompt: 'Review.' })).toBe(true);
    expect(claudeCode.parameters.parse({ repository: 'a', prompt: 'x' })).toMatchObject({ mode: 'review', timeoutMs: 1_800_000 });
  });

  it('rejects bad parameters', () => {
    expect(accepts({ repository: 'a' })).toBe(false);
    expect(accepts({ repository: 'a', prompt: '   ' })).toBe(false);
    expect(accepts({ repository: 'a', prompt: 'x', mode: 'yolo' })).toBe(false);
    expect(accepts({ repository: 'a\0b', prompt: 'x' })).toBe(false);
    expect(accepts({ repository: 'a', prompt: 'x', maxTurns: 0 })).toBe(false);
    expect(accepts({ repository: 'a', prompt: 'x', 'bad key': 1 })).toBe(false);
    expect(accepts({ repository: 'a', prompt: 'x'.repeat(20_001) })).toBe(false);
  });

  it('keeps the prompt within one argument, cutting large context, and never starting with a dash', () => {
    const prompt = composePrompt(claudeCode.parameters.parse({ repository: 'a', prompt: '--help', findings: { text: 'y'.repeat(300_000) } }));
    expect(prompt.startsWith('Task: --help')).toBe(true);
    expect(Buffer.byteLength(prompt)).toBeLessThanOrEqual(100_000);
    expect(prompt).toContain('(cut: the context was');
  });

  it('takes CLAUDE_BIN from the context, resolving a relative path against the working folder, not the repository', () => {
    const { context } = contextFor();
    expect(claudeProgram({ ...context, programs: undefined })).toBe('claude');
    expect(claudeProgram({ ...context, programs: { claude: '/opt/claude/bin/claude' } })).toBe('/opt/claude/bin/claude');
    expect(claudeProgram({ ...context, programs: { claude: 'bin/claude' } })).toBe(path.resolve('bin/claude'));
  });
});

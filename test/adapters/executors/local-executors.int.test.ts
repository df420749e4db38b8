import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCodebase } from '../../../adapters/executors/local/analyze-codebase.ts';
import { gitStatus } from '../../../adapters/executors/local/git-status.ts';
import { lint } from '../../../adapters/executors/local/lint.ts';
import { executorFor, executors, taskTypes } from '../../../adapters/executors/registry.ts';
import { ExecutionFailed, overallPercent, type Executor, type ExecutionContext, type ProgressUpdate } from '../../../domain/ports/executor.ts';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test User', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });

function contextFor(root: string, signal = new AbortController().signal) {
  const updates: ProgressUpdate[] = [];
  const context: ExecutionContext = { taskId: 'task-1', attempt: 1, workspaceRoot: root, signal, progress: (u) => updates.push(u) };
  return { context, updates };
}

/** Progress names known stages, its overall percent never goes back, and it ends at 100. */
function expectProgress(executor: Executor, updates: readonly ProgressUpdate[]) {
  const names = executor.stages.map((s) => s.name);
  expect(updates.length).toBeGreaterThan(0);
  const percents = updates.map((u) => {
    expect(names).toContain(u.stage);
    expect(u.fraction).toBeGreaterThanOrEqual(0);
    expect(u.fraction).toBeLessThanOrEqual(1);
    return overallPercent(executor.stages, u.stage, u.fraction);
  });
  percents.forEach((p, i) => expect(p).toBeGreaterThanOrEqual(percents[i - 1] ?? 0));
  expect(percents.at(-1)).toBe(100);
}

async function run<P, R>(executor: Executor<P, R>, root: string, params: Record<string, unknown>) {
  const { context, updates } = contextFor(root);
  const result = await executor.execute(executor.parameters.parse(params), context);
  expectProgress(executor as Executor, updates);
  return { result, updates };
}

const lines = (n: number, make: (i: number) => string = (i) => `line ${i}`) => Array.from({ length: n }, (_, i) => make(i)).join('\n') + '\n';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'orch-exec-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('registry', () => {
  it('registers the four local-ops executors by task type', () => {
    expect(taskTypes.filter((type) => executorFor(type)?.pool === 'local-ops')).toEqual([
      'git-status',
      'analyze-codebase',
      'run-tests',
      'lint',
      'report',
      'count-lines',
    ]);
    for (const executor of executors) {
      expect(executorFor(executor.taskType)).toBe(executor);
      if (executor.pool === 'local-ops') expect(executor).toMatchObject({ sideEffects: false });
      expect(executor.parameters.safeParse({ repository: 'x\0' }).success).toBe(false);
    }
    expect(executorFor('rm -rf /')).toBeUndefined();
  });
});

describe('analyze-codebase', () => {
  it('returns exactly the planted counts for a git repository', async () => {
    const repo = path.join(root, 'analyzed');
    const files: Record<string, string> = {
      'src/a.ts': lines(10, (i) => (i === 2 || i === 5 ? `// TODO item ${i}` : i === 7 ? '// FIXME broken' : `const x${i} = ${i};`)),
      'src/b.ts': lines(5),
      'src/util.js': lines(3, (i) => (i === 0 ? '// TODO later' : `x${i}`)),
      'lib/big.py': lines(40),
      'README.md': lines(4, (i) => (i === 1 ? 'FIXME: write docs' : `text ${i}`)),
      'test/a.test.ts': lines(6),
      'tests/test_x.py': lines(3),
      '.gitignore': 'ignored/\n',
      'ignored/x.ts': lines(100, () => '// TODO not counted'),
    };
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(repo, file)), { recursive: true });
      await writeFile(path.join(repo, file), text);
    }
    await writeFile(path.join(repo, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 1, 2, 3]));
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', 'src', 'lib', 'README.md', '.gitignore', 'image.png');
    git(repo, 'commit', '-q', '-m', 'initial');
    // test/ and tests/ stay untracked (not ignored): still listed.

    const { result, updates } = await run(analyzeCodebase, root, { repository: 'analyzed' });
    expect(result.source).toBe('git');
    expect(result.totals).toEqual({ files: 8, lines: 72 });
    expect(result.languages).toEqual([
      { language: 'Python', files: 2, lines: 43 },
      { language: 'TypeScript', files: 3, lines: 21 },
      { language: 'Markdown', files: 1, lines: 4 },
      { language: 'JavaScript', files: 1, lines: 3 },
      { language: 'Other', files: 1, lines: 1 },
    ]);
    expect(result.largestFiles[0]).toEqual({ path: 'lib/big.py', lines: 40, language: 'Python' });
    expect(result.largestFiles.map((f) => f.path)).toHaveLength(8);
    expect(result.todo.count).toBe(3);
    expect(result.todo.examples).toEqual([
      { path: 'src/a.ts', line: 3, text: '// TODO item 2' },
      { path: 'src/a.ts', line: 6, text: '// TODO item 5' },
      { path: 'src/util.js', line: 1, text: '// TODO later' },
    ]);
    expect(result.fixme.count).toBe(2);
    expect(result.fixme.examples.map((m) => `${m.path}:${m.line}`).sort()).toEqual(['README.md:2', 'src/a.ts:8']);
    expect(result.tests).toEqual({
      folders: ['test', 'tests'],
      patterns: [
        { pattern: '*.test.ts', files: 1 },
        { pattern: 'test_*.py', files: 1 },
      ],
      files: 2,
    });
    expect(result.skipped).toEqual({ binary: 1, tooLarge: 0, unreadable: 0 });
    expect(result.truncated).toBe(false);
    expect(updates.some((u) => u.stage === 'scan' && u.counters?.filesScanned === 9)).toBe(true);
  });

  it('walks a folder that is not a git repository, skipping node_modules and symlinks', async () => {
    const repo = path.join(root, 'plain');
    await mkdir(path.join(repo, 'node_modules', 'dep'), { recursive: true });
    await mkdir(path.join(repo, 'src'), { recursive: true });
    await writeFile(path.join(repo, 'node_modules', 'dep', 'index.js'), lines(50));
    await writeFile(
      path.join(repo, 'src', 'main.go'),
      lines(7, (i) => (i === 0 ? '// TODO: one' : 'x')),
    );
    await writeFile(path.join(repo, 'src', 'main_test.go'), lines(2));
    await symlink('/etc/hostname', path.join(repo, 'src', 'outside.txt'));
    const { result } = await run(analyzeCodebase, root, { repository: 'plain' });
    expect(result.source).toBe('walk');
    expect(result.totals).toEqual({ files: 2, lines: 9 });
    expect(result.languages).toEqual([{ language: 'Go', files: 2, lines: 9 }]);
    expect(result.todo.count).toBe(1);
    expect(result.tests).toEqual({ folders: [], patterns: [{ pattern: '*_test.go', files: 1 }], files: 1 });
  });
});

describe('git-status', () => {
  it('reports branch, upstream, ahead/behind, staged, unstaged and untracked files and the last commit', async () => {
    const repo = path.join(root, 'status');
    const origin = path.join(root, 'origin.git');
    await mkdir(repo);
    git(root, 'init', '-q', '--bare', origin);
    git(repo, 'init', '-q', '-b', 'feature/x');
    for (const file of ['a.txt', 'b.txt', 'old.txt']) await writeFile(path.join(repo, file), `${file}\n`);
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'first');
    git(repo, 'remote', 'add', 'origin', origin);
    git(repo, 'push', '-q', '-u', 'origin', 'feature/x');
    await writeFile(path.join(repo, 'a.txt'), 'a changed\n');
    git(repo, 'add', 'a.txt');
    git(repo, 'commit', '-q', '-m', 'Second: change a');

    await writeFile(path.join(repo, 'a.txt'), 'a staged\n');
    await writeFile(path.join(repo, 'new file.txt'), 'new\n');
    git(repo, 'add', 'a.txt', 'new file.txt');
    git(repo, 'mv', 'old.txt', 'renamed.txt');
    await writeFile(path.join(repo, 'b.txt'), 'b unstaged\n');
    await writeFile(path.join(repo, 'untracked one.txt'), 'u\n');
    await writeFile(path.join(repo, 'untracked2.txt'), 'u\n');

    const { result, updates } = await run(gitStatus, root, { repository: 'status' });
    expect(result).toMatchObject({ branch: 'feature/x', detached: false, upstream: 'origin/feature/x', ahead: 1, behind: 0, clean: false });
    expect(result.staged).toEqual([
      { path: 'a.txt', change: 'modified' },
      { path: 'new file.txt', change: 'added' },
      { path: 'renamed.txt', change: 'renamed', from: 'old.txt' },
    ]);
    expect(result.unstaged).toEqual([{ path: 'b.txt', change: 'modified' }]);
    expect(result.untracked.sort()).toEqual(['untracked one.txt', 'untracked2.txt']);
    expect(result.counts).toEqual({ staged: 3, unstaged: 1, untracked: 2, conflicted: 0 });
    expect(result.lastCommit).toMatchObject({ subject: 'Second: change a', author: 'Test User' });
    expect(result.lastCommit?.hash).toBe(git(repo, 'rev-parse', 'HEAD').trim());
    expect(result.head).toBe(result.lastCommit?.hash);
    expect(Number.isNaN(Date.parse(result.lastCommit!.date))).toBe(false);
    expect(updates.find((u) => u.stage === 'status' && u.fraction === 1)?.counters).toEqual({ staged: 3, unstaged: 1, untracked: 2, conflicted: 0 });
  });

  it('handles a repository without commits or upstream', async () => {
    const repo = path.join(root, 'empty');
    await mkdir(repo);
    git(repo, 'init', '-q', '-b', 'main');
    await writeFile(path.join(repo, 'x.txt'), 'x\n');
    const { result } = await run(gitStatus, root, { repository: 'empty' });
    expect(result).toMatchObject({ branch: 'main', head: null, upstream: null, ahead: null, behind: null, lastCommit: null, untracked: ['x.txt'] });
  });

  it('fails with NotAGitRepository outside git', async () => {
    await mkdir(path.join(root, 'not-git'));
    const { context } = contextFor(root);
    const error = await gitStatus.execute({ repository: 'not-git' }, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutionFailed);
    expect((error as ExecutionFailed).code).toBe('NotAGitRepository');
  });
});

describe('lint', () => {
  it('returns configured: false when no linter is configured', async () => {
    await mkdir(path.join(root, 'no-lint'));
    const { result } = await run(lint, root, { repository: 'no-lint' });
    expect(result).toEqual({ configured: false, message: 'no linter configured' });
  });

  it('runs the command from .orchestrator.json and parses its problem count', async () => {
    const repo = path.join(root, 'lint-configured');
    await mkdir(repo);
    const script = "console.log('x.py:1:1: F401 unused'); console.log('Found 2 errors.'); process.exit(1)";
    await writeFile(path.join(repo, '.orchestrator.json'), JSON.stringify({ lintCommand: ['node', '-e', script] }));
    const { result } = await run(lint, root, { repository: 'lint-configured' });
    expect(result).toMatchObject({ configured: true, linter: 'configured', exitCode: 1, clean: false, problems: 2, errors: 2 });
    expect(result.configured && result.outputTail).toContain('Found 2 errors.');
  });

  it('runs a package.json lint script with npm', async () => {
    const repo = path.join(root, 'lint-npm');
    await mkdir(repo);
    const script = 'node -e "console.log(\'\\u2716 3 problems (1 error, 2 warnings)\')"';
    await writeFile(path.join(repo, 'package.json'), JSON.stringify({ name: 'lint-npm', scripts: { lint: script } }));
    const { result } = await run(lint, root, { repository: 'lint-npm' });
    expect(result).toMatchObject({ configured: true, linter: 'npm', command: ['npm', 'run', 'lint'], exitCode: 0, problems: 3, errors: 1, warnings: 2 });
  });
});

import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executorFor } from '../../../adapters/executors/registry.ts';
import { ExecutionFailed, overallPercent, type ExecutionContext, type ProgressUpdate } from '../../../domain/ports/executor.ts';

// The task type added to show that a new one is one file and one registration line: it is run
// here only through the registry, on real files in a temporary workspace.

let root: string;
let outside: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'orch-count-lines-'));
  outside = await mkdtemp(path.join(tmpdir(), 'orch-count-lines-outside-'));
  const repo = path.join(root, 'acme');
  await mkdir(path.join(repo, 'src', 'deep'), { recursive: true });
  await mkdir(path.join(repo, 'node_modules', 'dep'), { recursive: true });
  await writeFile(path.join(repo, 'src', 'a.ts'), 'one\ntwo\nthree\n');
  await writeFile(path.join(repo, 'src', 'deep', 'b.TS'), 'one\ntwo'); // unterminated last line, upper-case extension
  await writeFile(path.join(repo, 'README.md'), '# acme\n\nhello\nworld\n');
  await writeFile(path.join(repo, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x0a]));
  await writeFile(path.join(repo, 'node_modules', 'dep', 'index.ts'), 'not counted\n'.repeat(50));
  await writeFile(path.join(outside, 'secret.ts'), 'outside\n'.repeat(7));
  await symlink(outside, path.join(repo, 'src', 'escape'));
  await symlink(path.join(outside, 'secret.ts'), path.join(repo, 'src', 'linked.ts'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

async function runThroughRegistry(params: unknown) {
  const executor = executorFor('count-lines');
  if (!executor) throw new Error('count-lines is not registered');
  const updates: ProgressUpdate[] = [];
  const context: ExecutionContext = {
    taskId: 'task-1',
    attempt: 1,
    workspaceRoot: root,
    signal: new AbortController().signal,
    progress: (u) => updates.push(u),
  };
  const result = await executor.execute(executor.parameters.parse(params), context);
  return { result, percents: updates.map((u) => overallPercent(executor.stages, u.stage, u.fraction)) };
}

describe('count-lines, run through the registry', () => {
  it('is registered as a read-only local-ops task type that may run again', () => {
    expect(executorFor('count-lines')).toMatchObject({ pool: 'local-ops', sideEffects: false });
    expect(executorFor('count-lines')?.rerunSafe?.({})).toBe(true);
  });

  it('counts every text file, skipping dependency folders, binaries and symlinks (which could lead outside)', async () => {
    const { result, percents } = await runThroughRegistry({ repository: 'acme' });
    expect(result).toEqual({
      repository: 'acme',
      extensions: [],
      files: 3,
      lines: 9,
      byExtension: [
        { extension: '.ts', files: 2, lines: 5 },
        { extension: '.md', files: 1, lines: 4 },
      ],
      largestFiles: [
        { path: 'README.md', lines: 4 },
        { path: 'src/a.ts', lines: 3 },
        { path: 'src/deep/b.TS', lines: 2 },
      ],
      skipped: { binary: 1, tooLarge: 0, unreadable: 0 },
      truncated: false,
    });
    percents.forEach((p, i) => expect(p).toBeGreaterThanOrEqual(percents[i - 1] ?? 0));
    expect(percents.at(-1)).toBe(100);
  });

  it('counts only the files ending in the extensions asked for, in any case', async () => {
    const { result } = await runThroughRegistry({ repository: 'acme', extensions: ['.ts'] });
    expect(result).toMatchObject({ files: 2, lines: 5, extensions: ['.ts'], skipped: { binary: 0 } });
  });

  it('stops at maxFiles and says so', async () => {
    const { result } = await runThroughRegistry({ repository: 'acme', extensions: ['.ts'], maxFiles: 1 });
    expect(result).toMatchObject({ files: 1, lines: 3, largestFiles: [{ path: 'src/a.ts', lines: 3 }], truncated: true });
  });

  it('a repository outside the workspace: PathOutsideWorkspace, nothing read', async () => {
    const failure = await runThroughRegistry({ repository: '../..' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExecutionFailed);
    expect(failure).toMatchObject({ code: 'PathOutsideWorkspace', retryable: false });
  });

  it('a missing repository: RepositoryNotFound', async () => {
    await expect(runThroughRegistry({ repository: 'nope' })).rejects.toMatchObject({ code: 'RepositoryNotFound' });
  });

  it.each([
    [{ repository: 'acme', extensions: ['ts'] }, 'extensions.0'],
    [{ repository: 'acme', extensions: ['.t/s'] }, 'extensions.0'],
    [{ repository: 'acme', maxFiles: 0 }, 'maxFiles'],
    [{ repo: 'acme' }, 'repository'],
  ])('parameters %j are refused by its schema at %s', (params, where) => {
    const parsed = executorFor('count-lines')?.parameters.safeParse(params);
    expect(parsed?.success).toBe(false);
    expect(parsed?.error?.issues.map((i) => i.path.join('.'))).toContain(where);
  });
});

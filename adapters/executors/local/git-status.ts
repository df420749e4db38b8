import { z } from 'zod';
import { ExecutionFailed, type ExecutionContext } from '../../../domain/ports/executor.ts';
import { gitRunner, repositoryParameter, resolveInWorkspace } from '../workspace.ts';
import type { TaskTypeExecutor } from '../task-type.ts';
import { resultView } from '../../../domain/replies/result-view.ts';
import { gitStatusReply, gitStatusResultSchema } from '../../../domain/replies/git-status-reply.ts';

// `git-status`: branch, upstream, ahead/behind, staged / unstaged / untracked / conflicted files
// and the last commit, from `git status --porcelain=v2 --branch -z` and `git log -1`. Read-only:
// no optional locks, no fsmonitor hook.

const parameters = z.object({ repository: repositoryParameter });
export type GitStatusParams = z.infer<typeof parameters>;

export type FileChange = 'modified' | 'added' | 'deleted' | 'renamed' | 'copied' | 'type-changed' | 'updated';

export interface ChangedFile {
  readonly path: string;
  readonly change: FileChange;
  /** For renames and copies: the path it came from. */
  readonly from?: string;
}

export interface GitStatusResult {
  readonly repository: string;
  readonly branch: string | null;
  readonly detached: boolean;
  readonly head: string | null;
  readonly upstream: string | null;
  readonly ahead: number | null;
  readonly behind: number | null;
  readonly staged: ChangedFile[];
  readonly unstaged: ChangedFile[];
  readonly untracked: string[];
  readonly conflicted: string[];
  readonly counts: { staged: number; unstaged: number; untracked: number; conflicted: number };
  readonly clean: boolean;
  /** True when a file list was cut at `MAX_LISTED` entries (counts stay exact). */
  readonly truncated: boolean;
  readonly lastCommit: { hash: string; subject: string; author: string; date: string } | null;
}

const MAX_LISTED = 500;

const CHANGES: Record<string, FileChange> = {
  M: 'modified',
  A: 'added',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'type-changed',
  U: 'updated',
};

/** Splits off `count` space-separated fields; the rest (a path, which may contain spaces) is last. */
function fields(entry: string, count: number): [string[], string] {
  const parts = entry.split(' ');
  return [parts.slice(0, count), parts.slice(count).join(' ')];
}

export type ParsedStatus = Omit<GitStatusResult, 'repository' | 'lastCommit' | 'clean' | 'truncated' | 'counts'> & {
  readonly counts: GitStatusResult['counts'];
  readonly initial: boolean;
};

/** Parses `git status --porcelain=v2 --branch -z` (lists not yet bounded). */
function parsePorcelainV2(output: string): ParsedStatus {
  const entries = output.split('\0');
  let branch: string | null = null;
  let head: string | null = null;
  let upstream: string | null = null;
  let ahead: number | null = null;
  let behind: number | null = null;
  let detached = false;
  const staged: ChangedFile[] = [];
  const unstaged: ChangedFile[] = [];
  const untracked: string[] = [];
  const conflicted: string[] = [];
  const record = (xy: string, path: string, from?: string) => {
    const [x = '.', y = '.'] = xy;
    const change = (letter: string): ChangedFile => ({ path, change: CHANGES[letter] ?? 'modified', ...(from ? { from } : {}) });
    if (x !== '.') staged.push(change(x));
    if (y !== '.') unstaged.push(change(y));
  };
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry === '') continue;
    if (entry.startsWith('# ')) {
      const [key = '', ...rest] = entry.slice(2).split(' ');
      const value = rest.join(' ');
      if (key === 'branch.oid') head = value === '(initial)' ? null : value;
      else if (key === 'branch.head') {
        detached = value === '(detached)';
        branch = detached ? null : value;
      } else if (key === 'branch.upstream') upstream = value;
      else if (key === 'branch.ab') {
        const match = /^\+(\d+) -(\d+)$/.exec(value);
        if (match) [ahead, behind] = [Number(match[1]), Number(match[2])];
      }
    } else if (entry.startsWith('1 ')) {
      const [[, xy = '..'], path] = fields(entry, 8);
      record(xy, path);
    } else if (entry.startsWith('2 ')) {
      const [[, xy = '..'], path] = fields(entry, 9);
      record(xy, path, entries[++i]); // -z: the original path is the next entry
    } else if (entry.startsWith('u ')) {
      conflicted.push(fields(entry, 10)[1]);
    } else if (entry.startsWith('? ')) {
      untracked.push(entry.slice(2));
    }
  }
  return {
    branch,
    detached,
    head,
    upstream,
    ahead,
    behind,
    staged,
    unstaged,
    untracked,
    conflicted,
    counts: { staged: staged.length, unstaged: unstaged.length, untracked: untracked.length, conflicted: conflicted.length },
    initial: head === null,
  };
}

const stages = [
  { name: 'resolve', weight: 1 },
  { name: 'status', weight: 3 },
  { name: 'last-commit', weight: 1 },
] as const;

async function execute(params: GitStatusParams, context: ExecutionContext): Promise<GitStatusResult> {
  context.progress({ stage: 'resolve', fraction: 0 });
  const repo = await resolveInWorkspace(context.workspaceRoot, params.repository);
  const git = await gitRunner(repo, context.workspaceRoot, context.signal, 32 * 1024 * 1024);
  context.progress({ stage: 'resolve', fraction: 1 });

  context.progress({ stage: 'status', fraction: 0, details: 'git status' });
  const status = await git(['status', '--porcelain=v2', '--branch', '-z']);
  if (status.exitCode !== 0) {
    if (/not a git repository/i.test(status.stderr)) {
      throw new ExecutionFailed('NotAGitRepository', `${JSON.stringify(params.repository)} is not a git repository`, false);
    }
    throw new ExecutionFailed('GitFailed', `git status failed with exit code ${status.exitCode}`, false);
  }
  if (status.truncated) throw new ExecutionFailed('OutputTooLarge', 'git status output is too large', false);
  const parsed = parsePorcelainV2(status.stdout);
  context.progress({ stage: 'status', fraction: 1, counters: { ...parsed.counts } });

  context.progress({ stage: 'last-commit', fraction: 0, details: 'git log -1' });
  let lastCommit: GitStatusResult['lastCommit'] = null;
  if (!parsed.initial) {
    const log = await git(['log', '-1', '--no-show-signature', '--format=%H%x00%s%x00%an%x00%aI']);
    const [hash, subject, author, date] = log.stdout.trimEnd().split('\0');
    if (log.exitCode === 0 && hash && date !== undefined) {
      lastCommit = { hash, subject: subject ?? '', author: author ?? '', date };
    }
  }
  const { initial: _initial, ...rest } = parsed;
  const bound = <T>(list: T[]) => list.slice(0, MAX_LISTED);
  const result: GitStatusResult = {
    repository: params.repository,
    ...rest,
    staged: bound(parsed.staged),
    unstaged: bound(parsed.unstaged),
    untracked: bound(parsed.untracked),
    conflicted: bound(parsed.conflicted),
    clean: Object.values(parsed.counts).every((n) => n === 0),
    truncated: Object.values(parsed.counts).some((n) => n > MAX_LISTED),
    lastCommit,
  };
  context.progress({ stage: 'last-commit', fraction: 1, counters: { ...parsed.counts } });
  return result;
}

export const gitStatus = {
  taskType: 'git-status' as const,
  pool: 'local-ops',
  description: 'show the branch, commits ahead/behind and changed files of a repository',
  estimatedMs: 2_000,
  chat: {
    phrases: [String.raw`(?:what(?:'?s|\s+is)\s+|show\s+(?:me\s+)?|check\s+|get\s+)?(?:the\s+)?(?:current\s+)?(?:git\s+|repo(?:sitory)?\s+)?status`],
    example: 'git status of my-service',
    summary: (repository: string) => `git status of ${repository}`,
  },
  reply: resultView(gitStatusResultSchema, gitStatusReply),
  parameters,
  stages,
  sideEffects: false,
  /** It only reads: another run repeats nothing. */
  rerunSafe: () => true,
  execute,
} satisfies TaskTypeExecutor<GitStatusParams, GitStatusResult>;

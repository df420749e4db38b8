import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { isInside, type GitRunner } from '../workspace.ts';

// Which files a Claude Code run changed, from git: the working tree's status before and after
// (each dirty path with its size and modification time, so a second edit of an already modified
// file counts too), plus whatever commits the run made. Read-only git, as git-status runs it.

export interface TreeSnapshot {
  readonly toplevel: string;
  readonly head: string | null;
  /** Dirty path (relative to the top level) → status and size/mtime. */
  readonly dirty: ReadonlyMap<string, string>;
}

/** Paths of `git status --porcelain -z` (renames: both sides), with their status letters. */
function parsePorcelainV1(output: string): Map<string, string> {
  const entries = output.split('\0');
  const paths = new Map<string, string>();
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.length < 4) continue;
    const status = entry.slice(0, 2);
    paths.set(entry.slice(3), status);
    if (status.includes('R') || status.includes('C')) {
      const from = entries[++i];
      if (from) paths.set(from, status);
    }
  }
  return paths;
}

async function fingerprint(toplevel: string, relative: string): Promise<string> {
  const file = path.join(toplevel, relative);
  if (!isInside(toplevel, file)) return 'outside';
  try {
    const info = await lstat(file);
    return `${info.size}:${info.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/**
 * The working tree's state, or undefined when the folder is not in a git repository (or git is missing).
 * `gitRun` is the run's git runner, built once (`gitRunner`): failing to build it counts as git failing.
 */
export async function snapshotTree(gitRun: Promise<GitRunner>, signal: AbortSignal): Promise<TreeSnapshot | undefined> {
  try {
    const git = await gitRun;
    const top = await git(['rev-parse', '--show-toplevel']);
    if (top.exitCode !== 0) return undefined;
    const toplevel = top.stdout.trim();
    const head = await git(['rev-parse', '--verify', '--quiet', 'HEAD']);
    const status = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignore-submodules=all']);
    if (status.exitCode !== 0) return undefined;
    const dirty = new Map<string, string>();
    for (const [relative, letters] of parsePorcelainV1(status.stdout)) dirty.set(relative, `${letters} ${await fingerprint(toplevel, relative)}`);
    return { toplevel, head: head.exitCode === 0 ? head.stdout.trim() : null, dirty };
  } catch (error) {
    if (signal.aborted) throw error;
    return undefined; // git missing or failing: the result simply has no filesChanged
  }
}

/** Paths (relative to the repository's top level) that differ between two snapshots, sorted. */
export async function changedFiles(before: TreeSnapshot, after: TreeSnapshot, gitRun: Promise<GitRunner>): Promise<string[]> {
  const changed = new Set<string>();
  for (const [relative, state] of after.dirty) if (before.dirty.get(relative) !== state) changed.add(relative);
  for (const relative of before.dirty.keys()) if (!after.dirty.has(relative)) changed.add(relative);
  if (before.head !== null && after.head !== null && before.head !== after.head) {
    const git = await gitRun;
    const diff = await git(['diff', '--name-only', '-z', '--no-renames', before.head, after.head]);
    if (diff.exitCode === 0) for (const relative of diff.stdout.split('\0')) if (relative !== '') changed.add(relative);
  }
  return [...changed].sort();
}

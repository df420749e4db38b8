import { z } from 'zod';
import { excerpt } from './format.ts';
import type { ReplyDocument, ReplySection } from './reply-document.ts';

// `git-status` results: where the branch stands against its upstream, what is staged, modified,
// untracked or conflicted, and the last commit. The schema is this module's own reading of the
// executor's result: the counts are required, everything else is optional, unknown keys pass.

const n = z.number().int().nonnegative();
const changedFile = z.object({ path: z.string(), change: z.string(), from: z.string().optional() }).loose();

export const gitStatusResultSchema = z
  .object({
    repository: z.string().optional(),
    branch: z.string().nullable(),
    detached: z.boolean().optional(),
    head: z.string().nullable().optional(),
    upstream: z.string().nullable().optional(),
    ahead: n.nullable().optional(),
    behind: n.nullable().optional(),
    staged: z.array(changedFile).optional(),
    unstaged: z.array(changedFile).optional(),
    untracked: z.array(z.string()).optional(),
    conflicted: z.array(z.string()).optional(),
    counts: z.object({ staged: n, unstaged: n, untracked: n, conflicted: n }).loose(),
    clean: z.boolean().optional(),
    truncated: z.boolean().optional(),
    lastCommit: z.object({ hash: z.string(), subject: z.string(), author: z.string().optional(), date: z.string().optional() }).loose().nullable().optional(),
  })
  .loose();
export type GitStatusView = z.infer<typeof gitStatusResultSchema>;

const shortHash = (hash: string) => hash.slice(0, 10);

function branchLine(r: GitStatusView): string {
  if (r.branch) return r.head === null ? `${r.branch} (no commits yet)` : r.branch;
  if (r.detached || r.head) return r.head ? `detached HEAD at ${shortHash(r.head)}` : 'detached HEAD';
  return 'unknown';
}

function upstreamLine(r: GitStatusView): string {
  if (!r.upstream) return 'none';
  const ahead = r.ahead ?? null;
  const behind = r.behind ?? null;
  if (ahead === null || behind === null) return r.upstream;
  if (ahead === 0 && behind === 0) return `${r.upstream} (up to date)`;
  return `${r.upstream} (${ahead} ahead, ${behind} behind)`;
}

function fileList(heading: string, total: number, lines: readonly string[]): ReplySection[] {
  if (total === 0 && lines.length === 0) return [];
  const more = total > lines.length ? [`… and ${total - lines.length} more`] : [];
  return [{ heading: `${heading} (${Math.max(total, lines.length)})`, lines: [...lines, ...more] }];
}

const describeChange = (file: z.infer<typeof changedFile>) => (file.from ? `${file.change}: ${file.from} → ${file.path}` : `${file.change}: ${file.path}`);

export function gitStatusReply(r: GitStatusView): ReplyDocument {
  const { counts } = r;
  const clean = r.clean ?? counts.staged + counts.unstaged + counts.untracked + counts.conflicted === 0;
  const summary = clean
    ? 'Working tree clean'
    : `${counts.staged} staged, ${counts.unstaged} modified, ${counts.untracked} untracked, ${counts.conflicted} conflicted`;
  const commit = r.lastCommit
    ? `${shortHash(r.lastCommit.hash)} ${excerpt(r.lastCommit.subject)}` +
      (r.lastCommit.author || r.lastCommit.date ? ` (${[r.lastCommit.author, r.lastCommit.date?.slice(0, 10)].filter(Boolean).join(', ')})` : '')
    : 'none';
  const sections = [
    ...fileList('Conflicted', counts.conflicted, r.conflicted ?? []),
    ...fileList('Staged', counts.staged, (r.staged ?? []).map(describeChange)),
    ...fileList('Modified', counts.unstaged, (r.unstaged ?? []).map(describeChange)),
    ...fileList('Untracked', counts.untracked, r.untracked ?? []),
  ];
  return {
    title: `Git status: ${branchLine(r)}`,
    tone: counts.conflicted > 0 ? 'warning' : clean ? 'success' : 'info',
    summary,
    fields: [
      { label: 'Branch', value: branchLine(r) },
      { label: 'Upstream', value: upstreamLine(r) },
      { label: 'Last commit', value: commit },
    ],
    ...(sections.length > 0 ? { sections } : {}),
  };
}

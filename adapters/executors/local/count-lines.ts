import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ExecutionContext } from '../../../domain/ports/executor.ts';
import type { ReplyDocument } from '../../../domain/replies/reply-document.ts';
import { resultView } from '../../../domain/replies/result-view.ts';
import { abortedFailure } from '../process.ts';
import type { TaskTypeExecutor } from '../task-type.ts';
import { repositoryParameter, resolveInWorkspace } from '../workspace.ts';
import { MAX_FILE_BYTES, SKIPPED_FOLDERS } from './repository-walk.ts';

// `count-lines`: how many lines the repository's text files hold, in total, per extension and
// for the largest files; only files whose names end in one of `extensions` when some are given.
// Read-only and with node:fs alone: a walk that never follows symlinks (so it stays inside the
// repository) and skips dependency and build folders, binary files and files over
// MAX_FILE_BYTES. A line is a run ending in "\n", plus an unterminated last one.

const LARGEST_SHOWN = 5;
const EXTENSIONS_SHOWN = 8;

const parameters = z.object({
  repository: repositoryParameter,
  /** `.ts`, `.md`: matched against the end of a file's name, case-insensitively. None: every file. */
  extensions: z
    .array(z.string().regex(/^\.[A-Za-z0-9_+-]{1,16}$/, 'an extension is a dot and up to 16 letters, digits, "_", "+" or "-"'))
    .max(20)
    .default([]),
  maxFiles: z.number().int().min(1).max(200_000).default(50_000),
});
export type CountLinesParams = z.infer<typeof parameters>;

const count = z.number().int().nonnegative();
const countLinesResult = z.object({
  repository: z.string(),
  extensions: z.array(z.string()),
  files: count,
  lines: count,
  byExtension: z.array(z.object({ extension: z.string(), files: count, lines: count })),
  largestFiles: z.array(z.object({ path: z.string(), lines: count })),
  skipped: z.object({ binary: count, tooLarge: count, unreadable: count }),
  /** More than `maxFiles` files matched; only the first were counted. */
  truncated: z.boolean(),
});
export type CountLinesResult = z.infer<typeof countLinesResult>;

const extensionOf = (file: string): string => path.extname(file).toLowerCase();

async function matchingFiles(repo: string, params: CountLinesParams, signal: AbortSignal): Promise<{ files: string[]; truncated: boolean }> {
  const wanted = params.extensions.map((e) => e.toLowerCase());
  const files: string[] = [];
  let truncated = false;
  const walk = async (relative: string): Promise<void> => {
    if (signal.aborted) throw abortedFailure(signal);
    const entries = await readdir(path.join(repo, relative), { withFileTypes: true }).catch(() => []);
    // Sorted by code unit, not locale: the same files are counted first on every machine.
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (truncated) return;
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)) await walk(child);
      else if (entry.isFile() && (wanted.length === 0 || wanted.some((e) => entry.name.toLowerCase().endsWith(e)))) {
        if (files.length === params.maxFiles) truncated = true;
        else files.push(child);
      }
    }
  };
  await walk('');
  return { files, truncated };
}

type Counted = { kind: 'text'; lines: number } | { kind: 'binary' | 'tooLarge' | 'unreadable' };

async function countFile(file: string): Promise<Counted> {
  try {
    const info = await lstat(file);
    if (info.size > MAX_FILE_BYTES) return { kind: 'tooLarge' };
    const buffer = await readFile(file);
    if (buffer.subarray(0, 8000).includes(0)) return { kind: 'binary' };
    let lines = 0;
    for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) lines++;
    if (buffer.length > 0 && buffer[buffer.length - 1] !== 10) lines++;
    return { kind: 'text', lines };
  } catch {
    return { kind: 'unreadable' };
  }
}

const stages = [
  { name: 'find', weight: 1 },
  { name: 'count', weight: 4 },
] as const;

async function execute(params: CountLinesParams, context: ExecutionContext): Promise<CountLinesResult> {
  context.progress({ stage: 'find', fraction: 0 });
  const repo = await resolveInWorkspace(context.workspaceRoot, params.repository);
  const { files, truncated } = await matchingFiles(repo, params, context.signal);
  context.progress({ stage: 'count', fraction: 0, counters: { files: files.length } });

  const skipped = { binary: 0, tooLarge: 0, unreadable: 0 };
  const byExtension = new Map<string, { files: number; lines: number }>();
  const counted: { path: string; lines: number }[] = [];
  for (const [index, file] of files.entries()) {
    if (context.signal.aborted) throw abortedFailure(context.signal);
    const result = await countFile(path.join(repo, file));
    if (result.kind !== 'text') skipped[result.kind]++;
    else {
      counted.push({ path: file, lines: result.lines });
      const extension = byExtension.get(extensionOf(file)) ?? { files: 0, lines: 0 };
      byExtension.set(extensionOf(file), { files: extension.files + 1, lines: extension.lines + result.lines });
    }
    if (index % 100 === 99) context.progress({ stage: 'count', fraction: (index + 1) / files.length, counters: { files: index + 1 } });
  }
  context.progress({ stage: 'count', fraction: 1, counters: { files: counted.length } });
  return {
    repository: params.repository,
    extensions: params.extensions,
    files: counted.length,
    lines: counted.reduce((sum, f) => sum + f.lines, 0),
    byExtension: [...byExtension].map(([extension, c]) => ({ extension, ...c })).sort((a, b) => b.lines - a.lines || (a.extension < b.extension ? -1 : 1)),
    largestFiles: [...counted].sort((a, b) => b.lines - a.lines || (a.path < b.path ? -1 : 1)).slice(0, LARGEST_SHOWN),
    skipped,
    truncated,
  };
}

function countLinesReply(r: CountLinesResult): ReplyDocument {
  const skipped = r.skipped.binary + r.skipped.tooLarge + r.skipped.unreadable;
  return {
    title: `${r.lines} lines in ${r.files} files`,
    tone: 'success',
    summary: [
      r.extensions.length > 0 ? `Files ending in ${r.extensions.join(', ')}.` : 'Every text file.',
      ...(skipped > 0 ? [`Skipped ${skipped} (binary ${r.skipped.binary}, too large ${r.skipped.tooLarge}, unreadable ${r.skipped.unreadable}).`] : []),
      ...(r.truncated ? ['More files matched than were counted.'] : []),
    ].join(' '),
    sections: [
      {
        heading: 'By extension',
        lines: r.byExtension.slice(0, EXTENSIONS_SHOWN).map((e) => `${e.extension || '(none)'}: ${e.lines} lines in ${e.files} files`),
      },
      { heading: 'Largest files', lines: r.largestFiles.map((f) => `${f.path}: ${f.lines} lines`) },
    ].filter((section) => section.lines.length > 0),
  };
}

export const countLines = {
  taskType: 'count-lines' as const,
  pool: 'local-ops',
  description: "count the lines of a repository's files",
  estimatedMs: 10_000,
  chat: {
    phrases: [String.raw`count\s+(?:the\s+)?lines(?:\s+of\s+code)?`, String.raw`how\s+many\s+lines(?:\s+of\s+code)?(?:\s+are(?:\s+there)?)?`],
    example: 'count lines in my-service',
    summary: (repository: string) => `count the lines in ${repository}`,
  },
  reply: resultView(countLinesResult, countLinesReply),
  parameters,
  stages,
  sideEffects: false,
  /** It only reads: another run repeats nothing. */
  rerunSafe: () => true,
  execute,
} satisfies TaskTypeExecutor<CountLinesParams, CountLinesResult>;

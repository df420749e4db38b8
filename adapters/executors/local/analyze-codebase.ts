import { lstat, open, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ExecutionContext } from '../../../domain/ports/executor.ts';
import { abortedFailure } from '../process.ts';
import { gitRunner, isInside, repositoryParameter, resolveInWorkspace } from '../workspace.ts';
import type { TaskTypeExecutor } from '../task-type.ts';
import { resultView } from '../../../domain/replies/result-view.ts';
import { analysisReply, analyzeResultSchema } from '../../../domain/replies/analysis-reply.ts';
import { MAX_FILE_BYTES, SKIPPED_FOLDERS } from './repository-walk.ts';

// `analyze-codebase`: files and lines per language, largest files, TODO / FIXME counts and the
// test layout. Files come from `git ls-files` (tracked plus untracked-not-ignored) in a git
// repository, else from a walk that skips dependency and build folders. Binary files (a NUL in
// the first 8000 bytes), symlinks and files over `MAX_FILE_BYTES` are skipped. A line is a run
// ending in "\n", plus an unterminated last one; TODO / FIXME count lines with the word.

const parameters = z.object({
  repository: repositoryParameter,
  maxFiles: z.number().int().min(1).max(500_000).default(100_000),
});
export type AnalyzeParams = z.infer<typeof parameters>;

export interface Marker {
  readonly path: string;
  readonly line: number;
  readonly text: string;
}
export interface AnalyzeResult {
  readonly repository: string;
  readonly source: 'git' | 'walk';
  readonly totals: { files: number; lines: number };
  readonly languages: { language: string; files: number; lines: number }[];
  readonly largestFiles: { path: string; lines: number; language: string }[];
  readonly todo: { count: number; examples: Marker[] };
  readonly fixme: { count: number; examples: Marker[] };
  readonly tests: { folders: string[]; patterns: { pattern: string; files: number }[]; files: number };
  readonly skipped: { binary: number; tooLarge: number; unreadable: number };
  /** More than `maxFiles` files were found; only the first were analysed. */
  readonly truncated: boolean;
}

const BATCH = 100;
const MAX_EXAMPLES = 20;

const TEST_FOLDERS = new Set(['test', 'tests', '__tests__', 'spec', 'specs', 'e2e', 'testing']);
const NOT_CODE = new Set(['Markdown', 'JSON', 'YAML', 'TOML', 'XML', 'Text', 'CSV', 'reStructuredText', 'Other']);

const LANGUAGES: Record<string, string> = {};
for (const [language, extensions] of Object.entries({
  TypeScript: 'ts tsx mts cts',
  JavaScript: 'js jsx mjs cjs',
  Python: 'py pyi',
  Go: 'go',
  Rust: 'rs',
  Java: 'java',
  Kotlin: 'kt kts',
  Scala: 'scala',
  Ruby: 'rb',
  PHP: 'php',
  'C#': 'cs',
  C: 'c h',
  'C++': 'cc cpp cxx hpp hh hxx',
  Swift: 'swift',
  'Objective-C': 'm mm',
  Dart: 'dart',
  Lua: 'lua',
  R: 'r',
  Elixir: 'ex exs',
  Erlang: 'erl hrl',
  Haskell: 'hs',
  Clojure: 'clj cljs',
  Apex: 'cls trigger',
  Shell: 'sh bash zsh',
  PowerShell: 'ps1',
  SQL: 'sql',
  HTML: 'html htm',
  CSS: 'css',
  SCSS: 'scss sass',
  Less: 'less',
  Vue: 'vue',
  Svelte: 'svelte',
  GraphQL: 'graphql gql',
  'Protocol Buffers': 'proto',
  Terraform: 'tf tfvars',
  JSON: 'json jsonc',
  YAML: 'yml yaml',
  TOML: 'toml',
  XML: 'xml',
  Markdown: 'md markdown mdx',
  reStructuredText: 'rst',
  Text: 'txt',
  CSV: 'csv',
})) {
  for (const extension of extensions.split(' ')) LANGUAGES[extension] = language;
}
const BY_NAME: Record<string, string> = { Dockerfile: 'Dockerfile', Makefile: 'Makefile', Rakefile: 'Ruby', Gemfile: 'Ruby' };

function languageOf(file: string): string {
  const base = path.basename(file);
  const extension = path.extname(base).slice(1).toLowerCase();
  return BY_NAME[base] ?? (extension && base !== `.${extension}` ? LANGUAGES[extension] : undefined) ?? 'Other';
}

/** The test-file naming pattern a file name follows, if any. */
function testPattern(file: string): string | undefined {
  const base = path.basename(file);
  let m: RegExpExecArray | null;
  if ((m = /\.(test|spec)\.([A-Za-z0-9]+)$/.exec(base))) return `*.${m[1]}.${m[2]}`;
  if ((m = /^test_.+\.([A-Za-z0-9]+)$/.exec(base))) return `test_*.${m[1]}`;
  if ((m = /.([_-])(test|spec)\.([A-Za-z0-9]+)$/.exec(base))) return `*${m[1]}${m[2]}.${m[3]}`;
  if ((m = /.(Tests?|Spec)\.(java|kt|cs|scala|cls|swift|groovy)$/.exec(base))) return `*${m[1]}.${m[2]}`;
  return undefined;
}

async function listFiles(repo: string, context: ExecutionContext): Promise<{ files: string[]; source: 'git' | 'walk' }> {
  const run = await gitRunner(repo, context.workspaceRoot, context.signal, 256 * 1024 * 1024);
  const inside = await run(['rev-parse', '--is-inside-work-tree']).catch(() => undefined); // git missing: walk
  if (inside?.exitCode === 0 && inside.stdout.trim() === 'true') {
    const listed = await run(['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
    if (listed.exitCode === 0 && !listed.truncated) {
      return { files: [...new Set(listed.stdout.split('\0').filter(Boolean))], source: 'git' };
    }
  }
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    if (context.signal.aborted) throw abortedFailure(context.signal);
    const entries = await readdir(path.join(repo, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)) await walk(child);
      else if (entry.isFile()) files.push(child);
    }
  };
  await walk('');
  return { files: files.sort(), source: 'walk' };
}

type Scan =
  { kind: 'text'; lines: number; markers: { todo: Marker[]; fixme: Marker[] } } | { kind: 'binary' | 'tooLarge' | 'unreadable' } | { kind: 'ignored' }; // deleted since listed, a symlink, or not a regular file

async function scanFile(repo: string, relative: string, safeDir: (dir: string) => Promise<boolean>): Promise<Scan> {
  const file = path.join(repo, relative);
  try {
    const info = await lstat(file);
    if (!info.isFile()) return { kind: 'ignored' };
    if (!(await safeDir(path.dirname(file)))) return { kind: 'unreadable' };
    if (info.size > MAX_FILE_BYTES) return { kind: 'tooLarge' };
    const handle = await open(file, 'r');
    let buffer: Buffer;
    try {
      buffer = await handle.readFile();
    } finally {
      await handle.close();
    }
    if (buffer.subarray(0, 8000).includes(0)) return { kind: 'binary' };
    let lines = 0;
    for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) lines++;
    if (buffer.length > 0 && buffer[buffer.length - 1] !== 10) lines++;
    const markers = { todo: [] as Marker[], fixme: [] as Marker[] };
    const text = buffer.toString('utf8');
    if (text.includes('TODO') || text.includes('FIXME')) {
      text.split('\n').forEach((line, index) => {
        const marker = { path: relative, line: index + 1, text: line.trim().slice(0, 200) };
        if (/\bTODO\b/.test(line)) markers.todo.push(marker);
        if (/\bFIXME\b/.test(line)) markers.fixme.push(marker);
      });
    }
    return { kind: 'text', lines, markers };
  } catch (error) {
    return { kind: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'ignored' : 'unreadable' };
  }
}

const stages = [
  { name: 'list-files', weight: 1 },
  { name: 'scan', weight: 8 },
  { name: 'summarize', weight: 1 },
] as const;

async function execute(params: AnalyzeParams, context: ExecutionContext): Promise<AnalyzeResult> {
  context.progress({ stage: 'list-files', fraction: 0 });
  const repo = await resolveInWorkspace(context.workspaceRoot, params.repository);
  const listed = await listFiles(repo, context);
  const files = listed.files.slice(0, params.maxFiles);
  context.progress({ stage: 'list-files', fraction: 1, details: `${files.length} files (${listed.source})`, counters: { files: files.length } });

  // A tracked path under a folder since replaced by a symlink must not lead outside the repository.
  const dirs = new Map<string, Promise<boolean>>();
  const safeDir = (dir: string) => {
    let known = dirs.get(dir);
    if (!known)
      dirs.set(
        dir,
        (known = realpath(dir).then(
          (real) => isInside(repo, real),
          () => false,
        )),
      );
    return known;
  };
  const languages = new Map<string, { files: number; lines: number }>();
  const sizes: { path: string; lines: number; language: string }[] = [];
  const todo = { count: 0, examples: [] as Marker[] };
  const fixme = { count: 0, examples: [] as Marker[] };
  const skipped = { binary: 0, tooLarge: 0, unreadable: 0 };
  let totalLines = 0;
  context.progress({ stage: 'scan', fraction: 0, counters: { filesScanned: 0, totalFiles: files.length } });
  for (let start = 0; start < files.length; start += BATCH) {
    if (context.signal.aborted) throw abortedFailure(context.signal);
    const batch = files.slice(start, start + BATCH);
    const scans = await Promise.all(batch.map((file) => scanFile(repo, file, safeDir)));
    scans.forEach((scan, index) => {
      if (scan.kind === 'ignored') return;
      if (scan.kind !== 'text') return void skipped[scan.kind]++;
      const file = batch[index]!;
      const language = languageOf(file);
      const entry = languages.get(language) ?? { files: 0, lines: 0 };
      languages.set(language, { files: entry.files + 1, lines: entry.lines + scan.lines });
      sizes.push({ path: file, lines: scan.lines, language });
      totalLines += scan.lines;
      for (const [found, into] of [
        [scan.markers.todo, todo],
        [scan.markers.fixme, fixme],
      ] as const) {
        into.count += found.length;
        into.examples.push(...found.slice(0, MAX_EXAMPLES - into.examples.length));
      }
    });
    const done = Math.min(files.length, start + BATCH);
    context.progress({
      stage: 'scan',
      fraction: done / files.length,
      counters: { filesScanned: done, totalFiles: files.length, lines: totalLines, todo: todo.count, fixme: fixme.count },
    });
  }

  context.progress({ stage: 'summarize', fraction: 0 });
  const folders = new Set<string>();
  const patterns = new Map<string, number>();
  let testFiles = 0;
  for (const file of files) {
    const segments = file.split('/');
    const folderIndex = segments.slice(0, -1).findIndex((segment) => TEST_FOLDERS.has(segment));
    if (folderIndex >= 0) folders.add(segments.slice(0, folderIndex + 1).join('/'));
    const pattern = testPattern(file);
    if (pattern) patterns.set(pattern, (patterns.get(pattern) ?? 0) + 1);
    if (pattern || (folderIndex >= 0 && !NOT_CODE.has(languageOf(file)))) testFiles++;
  }
  const result: AnalyzeResult = {
    repository: params.repository,
    source: listed.source,
    totals: { files: sizes.length, lines: totalLines },
    languages: [...languages]
      .map(([language, n]) => ({ language, ...n }))
      .sort((a, b) => b.lines - a.lines || b.files - a.files || a.language.localeCompare(b.language)),
    largestFiles: sizes.sort((a, b) => b.lines - a.lines || a.path.localeCompare(b.path)).slice(0, 10),
    todo,
    fixme,
    tests: {
      folders: [...folders].sort().slice(0, 50),
      patterns: [...patterns].map(([pattern, n]) => ({ pattern, files: n })).sort((a, b) => b.files - a.files || a.pattern.localeCompare(b.pattern)),
      files: testFiles,
    },
    skipped,
    truncated: listed.files.length > files.length,
  };
  context.progress({ stage: 'summarize', fraction: 1, counters: { files: result.totals.files, lines: totalLines, testFiles } });
  return result;
}

export const analyzeCodebase = {
  taskType: 'analyze-codebase' as const,
  pool: 'local-ops',
  description: 'analyze a codebase: languages, size and structure',
  estimatedMs: 30_000,
  chat: {
    phrases: [String.raw`analy[sz]e`, String.raw`(?:run\s+|do\s+)?(?:an?\s+)?(?:code\s*base\s+)?analysis`],
    example: 'analyze repo my-service',
    summary: (repository: string) => `analyze the codebase of ${repository}`,
  },
  reply: resultView(analyzeResultSchema, analysisReply),
  parameters,
  stages,
  sideEffects: false,
  /** It only reads: another run repeats nothing. */
  rerunSafe: () => true,
  execute,
} satisfies TaskTypeExecutor<AnalyzeParams, AnalyzeResult>;

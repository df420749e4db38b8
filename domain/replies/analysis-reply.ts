import { z } from 'zod';
import { count, excerpt } from './format.ts';
import type { ReplyDocument, ReplyField, ReplySection } from './reply-document.ts';

// `analyze-codebase` results: totals, the languages that make up most of the code, the largest
// files, TODO / FIXME markers and how the tests are laid out. Only the totals are required.

const n = z.number().int().nonnegative();
const marker = z.object({ path: z.string(), line: n, text: z.string() }).loose();
const markers = z.object({ count: n, examples: z.array(marker).optional() }).loose();

export const analyzeResultSchema = z
  .object({
    repository: z.string().optional(),
    source: z.string().optional(),
    totals: z.object({ files: n, lines: n }).loose(),
    languages: z.array(z.object({ language: z.string(), files: n, lines: n }).loose()).optional(),
    largestFiles: z.array(z.object({ path: z.string(), lines: n, language: z.string().optional() }).loose()).optional(),
    todo: markers.optional(),
    fixme: markers.optional(),
    tests: z
      .object({
        folders: z.array(z.string()).optional(),
        patterns: z.array(z.object({ pattern: z.string(), files: n }).loose()).optional(),
        files: n,
      })
      .loose()
      .optional(),
    skipped: z.object({ binary: n.optional(), tooLarge: n.optional(), unreadable: n.optional() }).loose().optional(),
    truncated: z.boolean().optional(),
  })
  .loose();
export type AnalyzeView = z.infer<typeof analyzeResultSchema>;

export const TOP_LANGUAGES = 8;
export const TOP_LARGEST_FILES = 5;
export const MARKER_EXAMPLES = 3;

const share = (part: number, whole: number) => (whole > 0 ? ` (${Math.round((part * 100) / whole)}%)` : '');

function languagesSection(r: AnalyzeView): ReplySection[] {
  const languages = [...(r.languages ?? [])].sort((a, b) => b.lines - a.lines || b.files - a.files);
  if (languages.length === 0) return [];
  const lines = languages
    .slice(0, TOP_LANGUAGES)
    .map((l) => `${l.language}: ${count(l.files, 'file')}, ${count(l.lines, 'line')}${share(l.lines, r.totals.lines)}`);
  const rest = languages.slice(TOP_LANGUAGES);
  if (rest.length > 0) {
    const files = rest.reduce((sum, l) => sum + l.files, 0);
    const restLines = rest.reduce((sum, l) => sum + l.lines, 0);
    lines.push(`${count(rest.length, 'other language')}: ${count(files, 'file')}, ${count(restLines, 'line')}`);
  }
  return [{ heading: 'Languages', lines }];
}

function largestSection(r: AnalyzeView): ReplySection[] {
  const largest = [...(r.largestFiles ?? [])].sort((a, b) => b.lines - a.lines).slice(0, TOP_LARGEST_FILES);
  if (largest.length === 0) return [];
  return [{ heading: 'Largest files', lines: largest.map((f) => `${f.path}: ${count(f.lines, 'line')}${f.language ? ` (${f.language})` : ''}`) }];
}

function markersSection(r: AnalyzeView): ReplySection[] {
  if (!r.todo && !r.fixme) return [];
  const todo = r.todo?.count ?? 0;
  const fixme = r.fixme?.count ?? 0;
  const examples = (word: string, list: z.infer<typeof marker>[] | undefined) =>
    (list ?? []).slice(0, MARKER_EXAMPLES).map((m) => `${word} ${m.path}:${m.line}: ${excerpt(m.text)}`);
  return [{ heading: 'TODO / FIXME', lines: [`${todo} TODO, ${fixme} FIXME`, ...examples('TODO', r.todo?.examples), ...examples('FIXME', r.fixme?.examples)] }];
}

function testsSection(r: AnalyzeView): ReplySection[] {
  if (!r.tests) return [];
  const { files, folders = [], patterns = [] } = r.tests;
  if (files === 0 && folders.length === 0) return [{ heading: 'Tests', lines: ['No test files found'] }];
  const lines = [count(files, 'test file')];
  if (folders.length > 0) lines.push(`Folders: ${folders.join(', ')}`);
  if (patterns.length > 0) lines.push(`Patterns: ${patterns.map((p) => `${p.pattern} (${p.files})`).join(', ')}`);
  return [{ heading: 'Tests', lines }];
}

function skippedFields(r: AnalyzeView): ReplyField[] {
  const { binary = 0, tooLarge = 0, unreadable = 0 } = r.skipped ?? {};
  if (binary + tooLarge + unreadable === 0) return [];
  return [{ label: 'Skipped', value: `${binary} binary, ${tooLarge} too large, ${unreadable} unreadable` }];
}

export function analysisReply(r: AnalyzeView): ReplyDocument {
  const { files, lines } = r.totals;
  const languageCount = r.languages?.length ?? 0;
  const warning: ReplySection[] = r.truncated
    ? [{ heading: 'Warning', lines: [`The repository has more files than the analysis limit; only the first ${count(files, 'file')} were analysed.`] }]
    : [];
  const source = r.source === 'git' ? 'git ls-files' : r.source === 'walk' ? 'folder walk' : r.source;
  return {
    title: 'Codebase analysis',
    tone: r.truncated ? 'warning' : 'success',
    summary: `${count(files, 'file')}, ${count(lines, 'line')}` + (languageCount > 0 ? ` in ${count(languageCount, 'language')}` : ''),
    fields: [...(source ? [{ label: 'Files from', value: source }] : []), ...skippedFields(r)],
    sections: [...warning, ...languagesSection(r), ...largestSection(r), ...markersSection(r), ...testsSection(r)],
  };
}

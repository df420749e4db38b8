import { z } from 'zod';
import type { ExecutionContext } from '../../../domain/ports/executor.ts';
import type { TaskTypeExecutor } from '../task-type.ts';

// `report`: the last step of a workflow. Turns a title and what earlier steps produced (their
// outputs, given as `$from` parameters) into one markdown document, bounded in size. It runs no
// program and touches no file: the document is the task's result, delivered like any other.

const MAX_SECTIONS = 20;
const MAX_MARKDOWN_CHARS = 40_000;
const MAX_SECTION_CHARS = 8_000;
const MAX_TEXT_CHARS = 4_000;
const MAX_LIST_ITEMS = 20;
const SECTION_KEY = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

const parameters = z
  .object({ title: z.string().trim().min(1).max(200) })
  // Each other parameter is a section: an earlier step's output, or null when that step did not run.
  .catchall(z.json())
  .superRefine((params, ctx) => {
    const keys = Object.keys(params).filter((key) => key !== 'title');
    for (const key of keys)
      if (!SECTION_KEY.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'section names are letters, digits, _ and - (at most 64)' });
    if (keys.length > MAX_SECTIONS) ctx.addIssue({ code: 'custom', path: [], message: `at most ${MAX_SECTIONS} sections` });
  });
export type ReportParams = z.infer<typeof parameters>;

export interface ReportResult {
  readonly title: string;
  readonly markdown: string;
  /** True when something was cut to keep the document within its bounds. */
  readonly truncated: boolean;
}

/** `rootCause` → `Root cause`, `smoke-test` → `Smoke test`. */
export function sectionHeading(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const oneLine = (text: string, max = 300): string => cut(text.replace(/\s+/g, ' ').trim(), max);

function scalar(value: unknown): string {
  if (value === null) return '—';
  if (typeof value === 'string') return oneLine(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `\`${oneLine(JSON.stringify(value), 200)}\``;
}

function listItem(item: unknown): string {
  if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
    const fields = Object.entries(item).filter(([, v]) => v === null || typeof v !== 'object');
    if (fields.length > 0) return oneLine(fields.map(([k, v]) => `${k}: ${scalar(v)}`).join(', '));
  }
  return scalar(item);
}

function renderList(items: readonly unknown[]): string[] {
  const shown = items.slice(0, MAX_LIST_ITEMS).map((item) => `- ${listItem(item)}`);
  if (items.length > MAX_LIST_ITEMS) shown.push(`- … and ${items.length - MAX_LIST_ITEMS} more`);
  return shown;
}

/** One section's body: text as text; of an object its summary first, then its fields, then its lists. */
function renderValue(value: unknown): string {
  if (value === null || value === undefined) return '_Nothing: this step did not run._';
  if (typeof value === 'string') return cut(value.trim(), MAX_TEXT_CHARS) || '_Empty._';
  if (Array.isArray(value)) return value.length === 0 ? '_None._' : renderList(value).join('\n');
  if (typeof value !== 'object') return String(value);
  const entries = Object.entries(value);
  const lines: string[] = [];
  const summary = entries.find(([key, v]) => key === 'summary' && typeof v === 'string');
  if (summary) lines.push(cut(String(summary[1]).trim(), MAX_TEXT_CHARS), '');
  const rest = entries.filter(([key]) => key !== 'summary');
  for (const [key, v] of rest) if (!Array.isArray(v)) lines.push(`- **${sectionHeading(key)}:** ${listItem(v)}`);
  for (const [key, v] of rest) if (Array.isArray(v)) lines.push('', `**${sectionHeading(key)}** (${v.length})`, ...renderList(v));
  return lines.join('\n').trim() || '_Empty._';
}

export function renderReport(params: ReportParams): ReportResult {
  let truncated = false;
  const sections = Object.entries(params)
    .filter(([key]) => key !== 'title')
    .map(([key, value]) => {
      const body = renderValue(value);
      if (body.length > MAX_SECTION_CHARS) truncated = true;
      return `## ${sectionHeading(key)}\n\n${cut(body, MAX_SECTION_CHARS)}`;
    });
  let markdown = [`# ${oneLine(params.title, 200)}`, ...sections].join('\n\n') + '\n';
  if (markdown.length > MAX_MARKDOWN_CHARS) {
    markdown = `${markdown.slice(0, MAX_MARKDOWN_CHARS - 40)}\n\n… (report cut to its size limit)\n`;
    truncated = true;
  }
  return { title: params.title, markdown, truncated };
}

const stages = [{ name: 'render', weight: 1 }] as const;

async function execute(params: ReportParams, context: ExecutionContext): Promise<ReportResult> {
  context.progress({ stage: 'render', fraction: 0 });
  const result = renderReport(params);
  context.progress({ stage: 'render', fraction: 1, counters: { sections: Object.keys(params).length - 1, characters: result.markdown.length } });
  return result;
}

export const report = {
  taskType: 'report' as const,
  pool: 'local-ops',
  description: "turn earlier steps' outputs into one markdown report",
  estimatedMs: 60_000,
  parameters,
  stages,
  sideEffects: false,
  /** It only reads: another run repeats nothing. */
  rerunSafe: () => true,
  execute,
} satisfies TaskTypeExecutor<ReportParams, ReportResult>;

import { z } from 'zod';
import type { ReplyDocument, ReplyField } from './reply-document.ts';

// `lint` results: problem counts from the repository's own linter (null when its output format
// was not recognised), or word that no linter is configured, which is a result, not a failure.

const n = z.number().int().nonnegative();

export const lintResultSchema = z.discriminatedUnion('configured', [
  z.object({ configured: z.literal(false), message: z.string().optional() }).loose(),
  z
    .object({
      configured: z.literal(true),
      linter: z.string().optional(),
      command: z.array(z.string()).optional(),
      exitCode: z.number().int().nullable().optional(),
      clean: z.boolean().optional(),
      problems: n.nullable().optional(),
      errors: n.nullable().optional(),
      warnings: n.nullable().optional(),
      durationMs: z.number().optional(),
      outputTail: z.string().optional(),
      outputTruncated: z.boolean().optional(),
    })
    .loose(),
]);
export type LintView = z.infer<typeof lintResultSchema>;

function problemsLine(problems: number | null, errors: number | null, warnings: number | null, clean: boolean, exitCode: number | null | undefined): string {
  if (problems === null) {
    if (clean) return 'No problems';
    return `Problems found (count not recognised${typeof exitCode === 'number' ? `; exit code ${exitCode}` : ''})`;
  }
  const parts = [errors === null ? undefined : `${errors} errors`, warnings === null ? undefined : `${warnings} warnings`].filter(Boolean);
  return `${problems} problems` + (parts.length > 0 ? `: ${parts.join(', ')}` : '');
}

export function lintReply(r: LintView): ReplyDocument {
  if (!r.configured) {
    const message = r.message && r.message.trim().toLowerCase() !== 'no linter configured' ? r.message : undefined;
    return { title: 'Lint: no linter configured', tone: 'info', summary: message ?? 'Nothing was run.' };
  }
  const problems = r.problems ?? null;
  const errors = r.errors ?? null;
  const warnings = r.warnings ?? null;
  const clean = r.clean ?? r.exitCode === 0;
  const noProblems = clean && (problems ?? 0) === 0;
  const [title, tone] = noProblems
    ? (['Lint clean', 'success'] as const)
    : clean
      ? (['Lint passed with warnings', 'warning'] as const)
      : (['Lint found problems', 'failure'] as const);
  const fields: ReplyField[] = [];
  if (r.linter) fields.push({ label: 'Linter', value: r.linter });
  if (r.exitCode !== undefined) fields.push({ label: 'Exit code', value: r.exitCode === null ? 'none (stopped by a signal or timeout)' : String(r.exitCode) });
  if (r.command && r.command.length > 0) fields.push({ label: 'Command', value: r.command.join(' ') });
  const showOutput = !noProblems && (r.outputTail ?? '').trim() !== '';
  return {
    title,
    tone,
    summary: problemsLine(problems, errors, warnings, clean, r.exitCode),
    fields,
    ...(showOutput ? { code: { title: r.outputTruncated ? 'Output (last lines)' : 'Output', text: r.outputTail!, keep: 'end' as const } } : {}),
  };
}

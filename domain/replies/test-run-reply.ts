import { z } from 'zod';
import type { ReplyDocument, ReplyField } from './reply-document.ts';

// `run-tests` results: pass / fail / skip counts (null when the runner's output format was not
// recognised), the runner and its exit code, and the output's last lines when something failed.
// Failing test names are shown when a result carries them (`failingTests`); today's executor
// reports only counts and the output tail.

const n = z.number().int().nonnegative();
const failingTest = z.union([z.string(), z.object({ name: z.string() }).loose()]);

export const runTestsResultSchema = z
  .object({
    runner: z.string().optional(),
    command: z.array(z.string()).optional(),
    exitCode: z.number().int().nullable().optional(),
    passed: n.nullable(),
    failed: n.nullable(),
    skipped: n.nullable(),
    format: z.string().nullable().optional(),
    packages: z.object({ ok: n, failed: n }).loose().optional(),
    success: z.boolean().optional(),
    durationMs: z.number().optional(),
    outputTail: z.string().optional(),
    outputTruncated: z.boolean().optional(),
    failingTests: z.array(failingTest).optional(),
  })
  .loose();
export type RunTestsView = z.infer<typeof runTestsResultSchema>;

const exitCodeText = (code: number | null | undefined) => (code === null ? 'none (stopped by a signal or timeout)' : String(code));

export function testRunReply(r: RunTestsView): ReplyDocument {
  const recognised = r.passed !== null || r.failed !== null || r.skipped !== null;
  const success = r.success ?? (r.exitCode === 0 && (r.failed ?? 0) === 0);
  const summary = recognised
    ? `${r.passed ?? 0} passed, ${r.failed ?? 0} failed, ${r.skipped ?? 0} skipped`
    : `Test counts not recognised in the output${r.exitCode !== undefined ? `; exit code ${exitCodeText(r.exitCode)}` : ''}`;
  const fields: ReplyField[] = [];
  if (r.runner) fields.push({ label: 'Runner', value: r.format ? `${r.runner} (${r.format} output)` : r.runner });
  if (r.exitCode !== undefined) fields.push({ label: 'Exit code', value: exitCodeText(r.exitCode) });
  if (r.packages) fields.push({ label: 'Packages', value: `${r.packages.ok} ok, ${r.packages.failed} failed` });
  if (r.command && r.command.length > 0) fields.push({ label: 'Command', value: r.command.join(' ') });
  const failing = (r.failingTests ?? []).map((t) => (typeof t === 'string' ? t : t.name));
  const showOutput = (!success || !recognised) && (r.outputTail ?? '').trim() !== '';
  return {
    title: success ? 'Tests passed' : 'Tests failed',
    tone: success ? 'success' : 'failure',
    summary,
    fields,
    ...(failing.length > 0 ? { sections: [{ heading: `Failing tests (${failing.length})`, lines: failing }] } : {}),
    ...(showOutput ? { code: { title: r.outputTruncated ? 'Output (last lines)' : 'Output', text: r.outputTail!, keep: 'end' as const } } : {}),
  };
}

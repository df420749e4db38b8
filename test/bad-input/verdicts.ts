import { SEED } from './generators.ts';

// Every case of the suite ends in a verdict: answered with a named error (ok), or not, and why.
// A file prints its case counts and its failures grouped by (group, reason) with a few
// examples, so one run says which surfaces still answer what badly.

export interface BadInputCase {
  /** The family it belongs to, e.g. "envelope: not JSON". */
  readonly group: string;
  /** What exactly was sent, short. */
  readonly name: string;
}

export interface Verdict {
  readonly group: string;
  readonly name: string;
  /** Undefined when the answer was the named error expected. */
  readonly failure?: string;
}

export const pass = (c: BadInputCase): Verdict => ({ group: c.group, name: c.name });
export const fail = (c: BadInputCase, failure: string): Verdict => ({ group: c.group, name: c.name, failure });

/** Prints counts per group and the failures, and returns the failure lines for an assertion. */
export function report(surface: string, verdicts: readonly Verdict[], elapsedMs: number): string[] {
  const groups = new Map<string, { cases: number; failed: number }>();
  const failures = new Map<string, Verdict[]>();
  for (const v of verdicts) {
    const g = groups.get(v.group) ?? { cases: 0, failed: 0 };
    g.cases += 1;
    if (v.failure !== undefined) {
      g.failed += 1;
      const key = `${v.group} — ${v.failure}`;
      failures.set(key, [...(failures.get(key) ?? []), v]);
    }
    groups.set(v.group, g);
  }
  const lines = [`[bad-input] ${surface}: ${verdicts.length} cases (seed ${SEED}) in ${(elapsedMs / 1000).toFixed(1)} s`];
  for (const [group, g] of groups) lines.push(`  ${String(g.cases).padStart(5)}  ${group}${g.failed > 0 ? `  (${g.failed} FAILED)` : ''}`);
  const failureLines = [...failures].map(
    ([key, vs]) =>
      `${vs.length} × ${key}; e.g. ${vs
        .slice(0, 3)
        .map((v) => v.name)
        .join(' | ')}`,
  );
  if (failureLines.length > 0) lines.push('  failures:', ...failureLines.map((l) => `    ${l}`));
  console.log(lines.join('\n'));
  return failureLines;
}

import { describe, expect, it } from 'vitest';
import { renderReport, report, sectionHeading } from '../../../adapters/executors/local/report.ts';
import { overallPercent, type ExecutionContext, type ProgressUpdate } from '../../../domain/ports/executor.ts';

// `report`: a title and earlier steps' outputs in, one bounded markdown document out.

const params = (input: Record<string, unknown>) => report.parameters.parse(input);

describe('report', () => {
  it('is a local-ops task type without side effects', () => {
    expect(report).toMatchObject({ taskType: 'report', pool: 'local-ops', sideEffects: false });
  });

  it('turns the title and each earlier output into a section', async () => {
    const updates: ProgressUpdate[] = [];
    const context: ExecutionContext = {
      taskId: 't',
      attempt: 1,
      workspaceRoot: '/nowhere',
      signal: new AbortController().signal,
      progress: (u) => updates.push(u),
    };
    const result = await report.execute(
      params({
        title: 'Analysis & improvement of acme/api',
        analysis: {
          repository: 'acme/api',
          totals: { files: 12, lines: 340 },
          languages: [{ language: 'TypeScript', files: 10, lines: 300 }],
          truncated: false,
        },
        priorities: { summary: 'Two issues matter.', highPriorityCount: 2, highPriority: ['sql injection in login', 'unbounded cache'] },
        changes: null,
        tests: { runner: 'npm', passed: 41, failed: 0, success: true },
      }),
      context,
    );
    expect(result.title).toBe('Analysis & improvement of acme/api');
    expect(result.truncated).toBe(false);
    expect(result.markdown).toBe(
      [
        '# Analysis & improvement of acme/api',
        '',
        '## Analysis',
        '',
        '- **Repository:** acme/api',
        '- **Totals:** files: 12, lines: 340',
        '- **Truncated:** false',
        '',
        '**Languages** (1)',
        '- language: TypeScript, files: 10, lines: 300',
        '',
        '## Priorities',
        '',
        'Two issues matter.',
        '',
        '- **High priority count:** 2',
        '',
        '**High priority** (2)',
        '- sql injection in login',
        '- unbounded cache',
        '',
        '## Changes',
        '',
        '_Nothing: this step did not run._',
        '',
        '## Tests',
        '',
        '- **Runner:** npm',
        '- **Passed:** 41',
        '- **Failed:** 0',
        '- **Success:** true',
        '',
      ].join('\n'),
    );
    expect(updates.map((u) => overallPercent(report.stages, u.stage, u.fraction))).toEqual([0, 100]);
    expect(updates.at(-1)?.counters).toMatchObject({ sections: 4 });
  });

  it('stays bounded: long texts, long lists and many sections are cut', () => {
    const sections = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`part${i}`, { summary: 'y'.repeat(20_000), items: Array.from({ length: 100 }, (_, j) => `item ${j}`) }]),
    );
    const result = renderReport(params({ title: 'Big', ...sections }));
    expect(result.truncated).toBe(true);
    expect(result.markdown.length).toBeLessThanOrEqual(40_000);
    const small = renderReport(params({ title: 'List', items: Array.from({ length: 25 }, (_, i) => i) }));
    expect(small.markdown).toContain('- 19\n- … and 5 more');
  });

  it('needs a title; section names are plain words', () => {
    expect(report.parameters.safeParse({ review: {} }).success).toBe(false);
    expect(report.parameters.safeParse({ title: '  ' }).success).toBe(false);
    expect(report.parameters.safeParse({ title: 'x', 'two words': 1 }).success).toBe(false);
    expect(report.parameters.safeParse({ title: 'x', review: { summary: 'ok' }, tests: null }).success).toBe(true);
  });

  it('names sections after their parameters', () => {
    expect(sectionHeading('rootCause')).toBe('Root cause');
    expect(sectionHeading('smoke-test')).toBe('Smoke test');
    expect(sectionHeading('review')).toBe('Review');
  });
});

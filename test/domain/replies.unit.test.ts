import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnalyzeResult } from '../../adapters/executors/local/analyze-codebase.ts';
import type { GitStatusResult } from '../../adapters/executors/local/git-status.ts';
import type { LintResult } from '../../adapters/executors/local/lint.ts';
import type { RunTestsResult } from '../../adapters/executors/local/run-tests.ts';
import { progressBar, progressReply, type ProgressStatus } from '../../domain/replies/progress-reply.ts';
import type { ReplyDocument } from '../../domain/replies/reply-document.ts';
import { taskTypeDescriptors } from '../../adapters/executors/registry.ts';
import { resultReply as replyIn, type ResultReplyInput } from '../../domain/replies/result-reply.ts';

// Replies in the reply formats the registered task types' descriptors give.
const resultReply = (input: ResultReplyInput): ReplyDocument => replyIn(input, taskTypeDescriptors);

// Fixtures are typed with the executors' own result types, so a change there that the
// replies' lenient schemas do not accept shows up here as a generic reply.

/** Everything a reader could see, as one string: what the "the number appears" checks search. */
const allText = (doc: ReplyDocument) =>
  [
    doc.title,
    doc.summary,
    ...(doc.fields ?? []).flatMap((f) => [f.label, f.value]),
    ...(doc.sections ?? []).flatMap((s) => [s.heading, ...s.lines]),
    doc.code?.title,
    doc.code?.text,
    doc.footer,
  ]
    .filter(Boolean)
    .join('\n');
const field = (doc: ReplyDocument, label: string) => doc.fields?.find((f) => f.label === label)?.value;
const section = (doc: ReplyDocument, heading: string) => doc.sections?.find((s) => s.heading?.startsWith(heading))?.lines;
const completed = (taskType: string, result: unknown, extra: Partial<ResultReplyInput> = {}) =>
  resultReply({ taskId: 't-42', taskType, outcome: 'completed', result, ...extra });

const gitStatus = (over: Partial<GitStatusResult> = {}): GitStatusResult => ({
  repository: 'acme',
  branch: 'main',
  detached: false,
  head: '0123456789abcdef0123456789abcdef01234567',
  upstream: 'origin/main',
  ahead: 2,
  behind: 1,
  staged: [
    { path: 'src/a.ts', change: 'added' },
    { path: 'src/new.ts', change: 'renamed', from: 'src/old.ts' },
  ],
  unstaged: [{ path: 'README.md', change: 'modified' }],
  untracked: ['notes.txt'],
  conflicted: [],
  counts: { staged: 2, unstaged: 1, untracked: 1, conflicted: 0 },
  clean: false,
  truncated: false,
  lastCommit: { hash: '0123456789abcdef0123456789abcdef01234567', subject: 'Fix the parser', author: 'Ada', date: '2026-11-20T09:00:00+01:00' },
  ...over,
});

const languages = ['TypeScript', 'JavaScript', 'Python', 'Go', 'Rust', 'Shell', 'YAML', 'JSON', 'Markdown', 'CSS'];
const analysis = (over: Partial<AnalyzeResult> = {}): AnalyzeResult => ({
  repository: 'acme',
  source: 'git',
  totals: { files: 12, lines: 340 },
  languages: languages.map((language, i) => ({ language, files: 1 + (i < 2 ? 1 : 0), lines: 100 - i * 9 })),
  largestFiles: Array.from({ length: 7 }, (_, i) => ({ path: `src/file${i}.ts`, lines: 90 - i * 10, language: 'TypeScript' })),
  todo: { count: 4, examples: Array.from({ length: 4 }, (_, i) => ({ path: 'src/a.ts', line: 10 + i, text: `// TODO item ${i}` })) },
  fixme: { count: 1, examples: [{ path: 'src/b.ts', line: 7, text: '// FIXME off by one' }] },
  tests: { folders: ['test'], patterns: [{ pattern: '*.test.ts', files: 3 }], files: 3 },
  skipped: { binary: 2, tooLarge: 1, unreadable: 0 },
  truncated: false,
  ...over,
});

const testRun = (over: Partial<RunTestsResult> = {}): RunTestsResult => ({
  runner: 'npm',
  command: ['npm', 'test'],
  exitCode: 1,
  passed: 5,
  failed: 1,
  skipped: 0,
  format: 'vitest-jest',
  success: false,
  durationMs: 4200,
  outputTail: 'FAIL test/a.test.ts > parses\nTests  1 failed | 5 passed (6)',
  outputTruncated: true,
  ...over,
});

describe('progress bar', () => {
  it.each([
    [0, '░░░░░░░░░░ 0%'],
    [5, '█░░░░░░░░░ 5%'],
    [44.6, '████░░░░░░ 45%'],
    [80, '████████░░ 80%'],
    [100, '██████████ 100%'],
    [-20, '░░░░░░░░░░ 0%'],
    [250, '██████████ 100%'],
    [Number.NaN, '░░░░░░░░░░ 0%'],
  ])('%s%% → %s', (percent, bar) => {
    expect(progressBar(percent)).toBe(bar);
  });

  it('takes another width', () => {
    expect(progressBar(50, 4)).toBe('██░░ 50%');
    expect(progressBar(80, 20)).toBe(`${'█'.repeat(16)}${'░'.repeat(4)} 80%`);
  });
});

describe('progress reply', () => {
  const running = { taskId: 't-7', taskType: 'analyze-codebase', status: 'running' as const, percent: 80, stage: 'scan' };

  it('reads as the stage, the bar, the details, the counters and the ETA, with a Cancel button', () => {
    const doc = progressReply({ ...running, details: 'src/domain', counters: { filesTouched: 12, tokens: 3400 }, etaText: 'about 2 min' });
    expect(doc.title).toBe('analyze-codebase: scan');
    expect(doc.tone).toBe('progress');
    expect(doc.summary).toBe('████████░░ 80% · ETA about 2 min');
    expect(doc.sections).toEqual([{ lines: ['src/domain'] }]);
    expect(doc.fields).toEqual([
      { label: 'Files touched', value: '12' },
      { label: 'Tokens', value: '3400' },
    ]);
    expect(doc.actions).toEqual([{ actionId: 'cancel_task', label: 'Cancel', value: 't-7', style: 'danger' }]);
    expect(doc.footer).toBe('Running · task t-7');
  });

  it('names a retry and its attempt', () => {
    const doc = progressReply({ ...running, status: 'retrying', attempt: 2 });
    expect(doc.tone).toBe('warning');
    expect(doc.footer).toBe('Retrying · attempt 2 · task t-7');
    expect(doc.actions?.map((a) => a.actionId)).toEqual(['cancel_task']);
  });

  it('offers Cancel while queued, without an ETA', () => {
    const doc = progressReply({ taskId: 't-7', taskType: 'lint', status: 'queued', percent: 0, etaText: 'about 1 min' });
    expect(doc.title).toBe('lint: queued');
    expect(doc.summary).toBe('░░░░░░░░░░ 0%');
    expect(doc.actions).toHaveLength(1);
  });

  it.each<ProgressStatus>(['completed', 'failed', 'cancelled'])('has no actions and no ETA once %s', (status) => {
    const doc = progressReply({ ...running, status, etaText: 'about 2 min' });
    expect(doc.actions).toBeUndefined();
    expect(doc.title).toBe(`analyze-codebase: ${status}`);
    expect(doc.summary).not.toContain('ETA');
  });

  it('shows a completed task full whatever the last reported percent, and where a failed one stopped', () => {
    expect(progressReply({ ...running, status: 'completed' }).summary).toBe('██████████ 100%');
    const failed = progressReply({ ...running, status: 'failed', percent: 40 });
    expect(failed.summary).toBe('████░░░░░░ 40%');
    expect(failed.footer).toBe('Failed · at stage scan · task t-7');
  });
});

describe('git-status result', () => {
  it('shows the branch, upstream, counts, last commit and files', () => {
    const doc = completed('git-status', gitStatus(), { durationMs: 1250 });
    expect(doc.title).toBe('Git status: main');
    expect(doc.tone).toBe('info');
    expect(doc.summary).toBe('2 staged, 1 modified, 1 untracked, 0 conflicted');
    expect(field(doc, 'Upstream')).toBe('origin/main (2 ahead, 1 behind)');
    expect(field(doc, 'Last commit')).toBe('0123456789 Fix the parser (Ada, 2026-11-20)');
    expect(section(doc, 'Staged')).toEqual(['added: src/a.ts', 'renamed: src/old.ts → src/new.ts']);
    expect(section(doc, 'Modified')).toEqual(['modified: README.md']);
    expect(section(doc, 'Untracked')).toEqual(['notes.txt']);
    expect(section(doc, 'Conflicted')).toBeUndefined();
    expect(doc.actions).toEqual([{ actionId: 'rerun_task', label: 'Re-run', value: 't-42' }]);
    expect(doc.footer).toBe('acme · task t-42 · took 1.2 s');
  });

  it('says a clean tree is clean', () => {
    const doc = completed(
      'git-status',
      gitStatus({ staged: [], unstaged: [], untracked: [], counts: { staged: 0, unstaged: 0, untracked: 0, conflicted: 0 }, clean: true, ahead: 0, behind: 0 }),
    );
    expect(doc.tone).toBe('success');
    expect(doc.summary).toBe('Working tree clean');
    expect(field(doc, 'Upstream')).toBe('origin/main (up to date)');
    expect(doc.sections).toBeUndefined();
  });

  it('warns about conflicts, names a detached HEAD, and counts what a capped list left out', () => {
    const doc = completed(
      'git-status',
      gitStatus({
        branch: null,
        detached: true,
        upstream: null,
        ahead: null,
        behind: null,
        conflicted: ['x.ts'],
        counts: { staged: 2, unstaged: 700, untracked: 1, conflicted: 1 },
        truncated: true,
      }),
    );
    expect(doc.tone).toBe('warning');
    expect(doc.title).toBe('Git status: detached HEAD at 0123456789');
    expect(field(doc, 'Upstream')).toBe('none');
    expect(section(doc, 'Conflicted')).toEqual(['x.ts']);
    expect(doc.sections?.find((s) => s.heading === 'Modified (700)')?.lines.at(-1)).toBe('… and 699 more');
  });
});

describe('analyze-codebase result', () => {
  it('reads "12 files, 340 lines" with the top languages, largest files, markers, tests and skips', () => {
    const doc = completed('analyze-codebase', analysis());
    expect(doc.summary).toBe('12 files, 340 lines in 10 languages');
    const langs = section(doc, 'Languages')!;
    expect(langs).toHaveLength(9);
    expect(langs[0]).toBe('TypeScript: 2 files, 100 lines (29%)');
    expect(langs[8]).toBe('2 other languages: 2 files, 47 lines');
    const largest = section(doc, 'Largest files')!;
    expect(largest).toHaveLength(5);
    expect(largest[0]).toBe('src/file0.ts: 90 lines (TypeScript)');
    const markers = section(doc, 'TODO / FIXME')!;
    expect(markers[0]).toBe('4 TODO, 1 FIXME');
    expect(markers.filter((l) => l.startsWith('TODO '))).toHaveLength(3);
    expect(markers).toContain('FIXME src/b.ts:7: // FIXME off by one');
    expect(section(doc, 'Tests')).toEqual(['3 test files', 'Folders: test', 'Patterns: *.test.ts (3)']);
    expect(field(doc, 'Skipped')).toBe('2 binary, 1 too large, 0 unreadable');
    expect(doc.tone).toBe('success');
  });

  it('warns when the file limit cut the analysis short', () => {
    const doc = completed('analyze-codebase', analysis({ truncated: true }));
    expect(doc.tone).toBe('warning');
    expect(section(doc, 'Warning')?.[0]).toContain('only the first 12 files were analysed');
  });
});

describe('run-tests result', () => {
  it('reads "5 passed, 1 failed, 0 skipped" with the runner, exit code and the output tail', () => {
    const doc = completed('run-tests', testRun());
    expect(doc.title).toBe('Tests failed');
    expect(doc.tone).toBe('failure');
    expect(doc.summary).toBe('5 passed, 1 failed, 0 skipped');
    expect(field(doc, 'Runner')).toBe('npm (vitest-jest output)');
    expect(field(doc, 'Exit code')).toBe('1');
    expect(doc.code).toEqual({ title: 'Output (last lines)', text: testRun().outputTail, keep: 'end' });
  });

  it('lists failing test names when the result carries them', () => {
    const doc = completed('run-tests', { ...testRun(), failingTests: ['parser > parses', { name: 'lexer > lexes' }] });
    expect(section(doc, 'Failing tests (2)')).toEqual(['parser > parses', 'lexer > lexes']);
  });

  it('leaves the output out of a passing run', () => {
    const doc = completed('run-tests', testRun({ exitCode: 0, passed: 6, failed: 0, skipped: 2, success: true, outputTruncated: false }));
    expect(doc.title).toBe('Tests passed');
    expect(doc.summary).toBe('6 passed, 0 failed, 2 skipped');
    expect(doc.code).toBeUndefined();
  });

  it('shows the output when the counts could not be read', () => {
    const doc = completed('run-tests', testRun({ passed: null, failed: null, skipped: null, format: null, exitCode: null }));
    expect(doc.summary).toBe('Test counts not recognised in the output; exit code none (stopped by a signal or timeout)');
    expect(doc.code?.text).toContain('FAIL');
  });
});

describe('lint result', () => {
  const linted = (over: Partial<Extract<LintResult, { configured: true }>> = {}): LintResult => ({
    configured: true,
    linter: 'eslint',
    command: ['npx', 'eslint', '.'],
    exitCode: 1,
    clean: false,
    problems: 12,
    errors: 3,
    warnings: 9,
    durationMs: 900,
    outputTail: 'src/a.ts\n  1:1  error  no-undef',
    outputTruncated: false,
    ...over,
  });

  it('counts problems, errors and warnings and names the linter', () => {
    const doc = completed('lint', linted());
    expect(doc.title).toBe('Lint found problems');
    expect(doc.summary).toBe('12 problems: 3 errors, 9 warnings');
    expect(field(doc, 'Linter')).toBe('eslint');
    expect(doc.code?.text).toContain('no-undef');
  });

  it('is clean with no problems, and passes with warnings only', () => {
    expect(completed('lint', linted({ exitCode: 0, clean: true, problems: 0, errors: 0, warnings: 0 }))).toMatchObject({
      title: 'Lint clean',
      tone: 'success',
      summary: '0 problems: 0 errors, 0 warnings',
    });
    expect(completed('lint', linted({ exitCode: 0, clean: true, problems: 2, errors: 0, warnings: 2 }))).toMatchObject({
      title: 'Lint passed with warnings',
      tone: 'warning',
    });
  });

  it('says when no linter is configured', () => {
    const doc = completed('lint', { configured: false, message: 'no linter configured' } satisfies LintResult);
    expect(doc.title).toBe('Lint: no linter configured');
    expect(doc.tone).toBe('info');
  });
});

describe('results that are not recognised, failures and cancellations', () => {
  it('shows a result of the wrong shape as returned, with a note', () => {
    const result = { branch: 'main', counts: { staged: 'two' } };
    const doc = completed('git-status', result);
    expect(doc.title).toBe('git-status completed');
    expect(doc.summary).toContain('did not have the shape');
    expect(doc.code).toEqual({ title: 'Result', text: JSON.stringify(result, null, 2) });
    expect(doc.actions?.map((a) => a.actionId)).toEqual(['rerun_task']);
  });

  it.each([
    ['analyze-codebase', { totals: { files: -1, lines: 3 } }],
    ['run-tests', { passed: 1, failed: 0 }],
    ['lint', { configured: 'yes' }],
    ['lint', 'just a string'],
  ])('falls back for %s given %j', (taskType, result) => {
    expect(completed(taskType, result).code?.text).toBe(JSON.stringify(result, null, 2));
  });

  it('shows an unknown task type as JSON, and copes with values JSON cannot hold', () => {
    const doc = completed('deploy', { url: 'https://example.test', n: 10n });
    expect(doc.summary).toBeUndefined();
    expect(doc.code?.text).toContain('"n": "10"');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(completed('deploy', cyclic).code?.text).toBe('[object Object]');
    expect(completed('deploy', undefined).summary).toBe('Completed with no result.');
  });

  it('gives a failure its error code and message, and no Re-run', () => {
    const doc = resultReply({
      taskId: 't-1',
      taskType: 'run-tests',
      outcome: 'failed',
      error: { code: 'NotAGitRepository', message: '"x" is not a git repository' },
      repository: 'x',
    });
    expect(doc).toMatchObject({
      title: 'run-tests failed',
      tone: 'failure',
      summary: '"x" is not a git repository',
      fields: [{ label: 'Error', value: 'NotAGitRepository' }],
      footer: 'x · task t-1',
    });
    expect(doc.actions).toBeUndefined();
  });

  it('gives a cancellation its reason', () => {
    const doc = resultReply({ taskId: 't-1', taskType: 'lint', outcome: 'cancelled', reason: 'cancelled by @ada' });
    expect(doc).toMatchObject({ title: 'lint cancelled', tone: 'warning', summary: 'Cancelled: cancelled by @ada' });
  });

  it('puts every key number of each result in the text', () => {
    expect(allText(completed('git-status', gitStatus()))).toMatch(/2 staged.*1 modified.*1 untracked/);
    expect(allText(completed('analyze-codebase', analysis()))).toContain('12 files, 340 lines');
    expect(allText(completed('run-tests', testRun()))).toContain('5 passed, 1 failed, 0 skipped');
    expect(allText(completed('lint', { configured: false, message: 'no linter configured' }))).toContain('no linter configured');
  });
});

describe('domain/replies stays pure', () => {
  const folder = path.resolve(import.meta.dirname, '../../domain/replies');
  it.each(readdirSync(folder).filter((f) => f.endsWith('.ts')))('%s imports only zod, ts-pattern and domain/', (file) => {
    const source = readFileSync(path.join(folder, file), 'utf8');
    for (const [, specifier] of source.matchAll(/from '([^']+)'/g)) {
      if (specifier === 'zod' || specifier === 'ts-pattern') continue;
      expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\.?\//);
      expect(path.resolve(folder, specifier!).startsWith(path.resolve(folder, '..'))).toBe(true);
    }
    expect(source).not.toMatch(/Date\.now|new Date\(|process\.|node:/);
  });
});

import { describe, expect, it } from 'vitest';
import { toPlainText } from '../../domain/replies/plain-text.ts';
import {
  BLOCK_KIT_LIMITS as L,
  LINES_SHOWN_PER_SECTION,
  toBlockKit,
  TRUNCATION_NOTICE,
  type Block,
  type BlockKitMessage,
} from '../../adapters/slack/block-kit.ts';
import { progressReply } from '../../domain/replies/progress-reply.ts';
import type { ReplyDocument } from '../../domain/replies/reply-document.ts';
import { resultReply as replyIn, type ResultReplyInput } from '../../domain/replies/result-reply.ts';
import { taskTypeDescriptors } from '../../adapters/executors/registry.ts';

// Replies in the reply formats the registered task types' descriptors give.
const resultReply = (input: ResultReplyInput): ReplyDocument => replyIn(input, taskTypeDescriptors);

const mrkdwnTexts = (block: Block): string[] =>
  block.type === 'section'
    ? [...(block.text ? [block.text.text] : []), ...(block.fields ?? []).map((f) => f.text)]
    : block.type === 'context'
      ? block.elements.map((e) => e.text)
      : [];

/** Every documented limit, checked on every block; and no raw markup characters in mrkdwn. */
function expectWithinLimits(message: BlockKitMessage): void {
  expect(message.blocks.length).toBeLessThanOrEqual(L.blocksPerMessage);
  expect(message.text.length).toBeGreaterThan(0);
  expect(message.text.length).toBeLessThanOrEqual(L.fallbackText);
  for (const block of message.blocks) {
    switch (block.type) {
      case 'header':
        expect(block.text.type).toBe('plain_text');
        expect(block.text.text.length).toBeGreaterThan(0);
        expect(block.text.text.length).toBeLessThanOrEqual(L.headerText);
        break;
      case 'section':
        expect(block.text ?? block.fields).toBeDefined();
        if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(L.sectionText);
        if (block.fields) {
          expect(block.fields.length).toBeGreaterThan(0);
          expect(block.fields.length).toBeLessThanOrEqual(L.sectionFields);
          for (const f of block.fields) expect(f.text.length).toBeLessThanOrEqual(L.fieldText);
        }
        break;
      case 'context':
        expect(block.elements.length).toBeLessThanOrEqual(L.contextElements);
        for (const e of block.elements) expect(e.text.length).toBeLessThanOrEqual(L.contextText);
        break;
      case 'actions':
        expect(block.elements.length).toBeGreaterThan(0);
        expect(block.elements.length).toBeLessThanOrEqual(L.actionsElements);
        for (const b of block.elements) {
          expect(b.text.text.length).toBeLessThanOrEqual(L.buttonText);
          expect(b.action_id.length).toBeLessThanOrEqual(L.actionId);
          expect((b.value ?? '').length).toBeLessThanOrEqual(L.buttonValue);
        }
        expect(new Set(block.elements.map((b) => b.action_id)).size).toBe(block.elements.length);
        break;
    }
    for (const text of mrkdwnTexts(block)) {
      expect(text.trim().length).toBeGreaterThan(0);
      expect(text).not.toMatch(/[<>]/);
      expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
  }
}

const bigOutput = Array.from({ length: 4000 }, (_, i) => `line ${String(i).padStart(4, '0')} ${'x'.repeat(45)}`).join('\n');

describe('Block Kit rendering', () => {
  it('lays a result out as header, summary, fields, sections, code, buttons and footer', () => {
    const doc: ReplyDocument = {
      title: 'Tests failed',
      tone: 'failure',
      summary: '5 passed, 1 failed, 0 skipped',
      fields: [
        { label: 'Runner', value: 'npm' },
        { label: 'Exit code', value: '1' },
      ],
      sections: [{ heading: 'Failing tests (1)', lines: ['parser > parses'] }],
      code: { title: 'Output', text: 'FAIL parses' },
      actions: [{ actionId: 'rerun_task', label: 'Re-run', value: 't-1' }],
      footer: 'acme · task t-1',
    };
    const message = toBlockKit(doc);
    expectWithinLimits(message);
    expect(message.overflow).toBeUndefined();
    expect(message.text).toBe('Tests failed — 5 passed, 1 failed, 0 skipped');
    expect(message.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: ':x: Tests failed', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: '5 passed, 1 failed, 0 skipped' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Runner*\nnpm' },
          { type: 'mrkdwn', text: '*Exit code*\n1' },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: '*Failing tests (1)*\nparser &gt; parses' } },
      { type: 'section', text: { type: 'mrkdwn', text: '*Output*\n```\nFAIL parses\n```' } },
      { type: 'actions', elements: [{ type: 'button', action_id: 'rerun_task', text: { type: 'plain_text', text: 'Re-run', emoji: true }, value: 't-1' }] },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'acme · task t-1' }] },
    ]);
  });

  it('escapes &, < and > in every mrkdwn text, and leaves plain_text alone', () => {
    const nasty = 'a <!channel> & <@U123> > b';
    const escaped = 'a &lt;!channel&gt; &amp; &lt;@U123&gt; &gt; b';
    const message = toBlockKit({
      title: nasty,
      tone: 'info',
      summary: nasty,
      fields: [{ label: nasty, value: nasty }],
      sections: [{ heading: nasty, lines: [nasty] }],
      code: { text: nasty },
      footer: nasty,
    });
    expectWithinLimits(message);
    expect(message.text).toBe(`${escaped} — ${escaped}`);
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: `:information_source: ${nasty}`, emoji: true } });
    const texts = message.blocks.flatMap(mrkdwnTexts);
    expect(texts).toEqual([escaped, `*${escaped}*\n${escaped}`, `*${escaped}*\n${escaped}`, `\`\`\`\n${escaped}\n\`\`\``, escaped]);
  });

  it('keeps a 200 KB output tail inside a section, says so, and attaches the whole of it', () => {
    expect(bigOutput.length).toBeGreaterThan(200_000);
    const doc = resultReply({
      taskId: 't-9',
      taskType: 'run-tests',
      outcome: 'completed',
      result: {
        runner: 'npm',
        command: ['npm', 'test'],
        exitCode: 1,
        passed: 5,
        failed: 1,
        skipped: 0,
        format: 'node',
        success: false,
        durationMs: 1,
        outputTail: bigOutput,
        outputTruncated: false,
      },
    });
    const message = toBlockKit(doc);
    expectWithinLimits(message);
    const code = mrkdwnTexts(message.blocks.find((b) => mrkdwnTexts(b).some((t) => t.includes('```')))!)[0]!;
    expect(code).toContain(TRUNCATION_NOTICE);
    expect(code.indexOf(TRUNCATION_NOTICE)).toBeLessThan(code.indexOf('```')); // the tail is kept: the cut is above it
    expect(code).toContain('line 3999');
    expect(code).not.toContain('line 0000');
    expect(code.length).toBeGreaterThan(L.sectionText - 200);
    expect(message.overflow?.filename).toBe('tests-failed.txt');
    expect(message.overflow?.content).toContain(
      bigOutput
        .split('\n')
        .map((line) => `    ${line}`)
        .join('\n'),
    );
    expect(message.blocks.at(-2)?.type).toBe('actions');
    expect(message.blocks.at(-1)?.type).toBe('context');
  });

  it('cuts a 200 KB single line without splitting an entity, keeping the start when asked', () => {
    const line = '&<>'.repeat(70_000);
    const message = toBlockKit({ title: 'Result', tone: 'info', code: { text: line } });
    expectWithinLimits(message);
    const text = mrkdwnTexts(message.blocks[1]!)[0]!;
    expect(text.startsWith('```\n&amp;&lt;&gt;')).toBe(true);
    expect(text.endsWith(`…\n\`\`\`\n${TRUNCATION_NOTICE}`)).toBe(true);
    expect(message.overflow?.content).toContain(line);
  });

  it('shows at most 50 blocks of 100 sections, says how many were left out, and attaches them all', () => {
    const sections = Array.from({ length: 100 }, (_, i) => ({ heading: `Section ${i + 1}`, lines: [`value ${i + 1}`] }));
    const message = toBlockKit({
      title: 'Many',
      tone: 'info',
      summary: 's',
      fields: [{ label: 'a', value: 'b' }],
      sections,
      actions: [{ actionId: 'rerun_task', label: 'Re-run', value: 't' }],
      footer: 'f',
    });
    expectWithinLimits(message);
    expect(message.blocks).toHaveLength(L.blocksPerMessage);
    // header, summary, 1 field block, 44 sections, the notice, actions, footer
    const notice = mrkdwnTexts(message.blocks[47]!)[0];
    expect(notice).toBe(`${TRUNCATION_NOTICE}: 56 more sections not shown`);
    expect(mrkdwnTexts(message.blocks[46]!)[0]).toBe('*Section 44*\nvalue 44');
    expect(message.blocks.at(-2)?.type).toBe('actions');
    expect(message.blocks.at(-1)?.type).toBe('context');
    expect(message.overflow?.content).toContain('Section 100\n  value 100');
  });

  it('shows the first lines of a long list and of a huge section', () => {
    const files = Array.from({ length: 500 }, (_, i) => `modified: src/file${i}.ts`);
    const message = toBlockKit({
      title: 'Git status: main',
      tone: 'info',
      sections: [{ heading: 'Modified (500)', lines: files }, { lines: ['y'.repeat(10_000)] }],
    });
    expectWithinLimits(message);
    const [list, huge] = [mrkdwnTexts(message.blocks[1]!)[0]!, mrkdwnTexts(message.blocks[2]!)[0]!];
    expect(list.split('\n')).toEqual(['*Modified (500)*', ...files.slice(0, LINES_SHOWN_PER_SECTION), TRUNCATION_NOTICE]);
    expect(huge.endsWith(`…\n${TRUNCATION_NOTICE}`)).toBe(true);
    expect(message.overflow?.content).toContain('src/file499.ts');
  });

  it('spreads many fields over sections of ten and cuts an overlong value', () => {
    const fields = Array.from({ length: 23 }, (_, i) => ({ label: `F${i}`, value: i === 0 ? 'v'.repeat(5000) : String(i) }));
    const message = toBlockKit({ title: 'Fields', tone: 'info', fields });
    expectWithinLimits(message);
    expect(message.blocks.slice(1).map((b) => (b.type === 'section' ? b.fields?.length : 0))).toEqual([10, 10, 3]);
    expect(message.overflow?.content).toContain('v'.repeat(5000));
  });

  it('shortens a long title and button label without attaching a file, and drops a button it cannot send', () => {
    const message = toBlockKit({
      title: 'T'.repeat(400),
      tone: 'success',
      actions: [
        { actionId: 'a', label: 'L'.repeat(200), value: 'v' },
        { actionId: 'x'.repeat(300), label: 'Too long id', value: 'v' },
        { actionId: 'b', label: 'Big value', value: 'v'.repeat(2001) },
      ],
    });
    expectWithinLimits(message);
    const header = message.blocks[0]!;
    expect(header.type === 'header' && header.text.text.endsWith('…')).toBe(true);
    const actions = message.blocks.find((b) => b.type === 'actions');
    expect(actions?.type === 'actions' && actions.elements.map((e) => e.action_id)).toEqual(['a']);
    expect(message.overflow).toBeUndefined();
  });

  it('keeps a code fence in the output from closing the block early', () => {
    const message = toBlockKit({ title: 'Result', tone: 'info', code: { text: 'before\n```\nafter' } });
    const text = mrkdwnTexts(message.blocks[1]!)[0]!;
    expect(text.match(/```/g)).toHaveLength(2);
  });

  it('renders every real reply within the limits', () => {
    const docs = [
      progressReply({
        taskId: 't',
        taskType: 'analyze-codebase',
        status: 'running',
        percent: 80,
        stage: 'scan',
        counters: { files: 12 },
        etaText: 'about 2 min',
      }),
      progressReply({ taskId: 't', taskType: 'analyze-codebase', status: 'completed', percent: 100 }),
      resultReply({
        taskId: 't',
        taskType: 'git-status',
        outcome: 'completed',
        result: { branch: 'main', counts: { staged: 0, unstaged: 0, untracked: 0, conflicted: 0 } },
      }),
      resultReply({ taskId: 't', taskType: 'deploy', outcome: 'completed', result: { big: bigOutput } }),
      resultReply({ taskId: 't', taskType: 'lint', outcome: 'failed', error: { code: 'LintFailed', message: 'm'.repeat(10_000) } }),
      resultReply({ taskId: 't', taskType: 'lint', outcome: 'cancelled' }),
    ];
    for (const doc of docs) expectWithinLimits(toBlockKit(doc));
    expect(toBlockKit(docs[0]!).text).toBe('analyze-codebase: scan — ████████░░ 80% · ETA about 2 min');
  });
});

describe('plain text rendering', () => {
  const doc: ReplyDocument = {
    title: 'Tests failed',
    tone: 'failure',
    summary: '5 passed, 1 failed, 0 skipped',
    fields: [
      { label: 'Runner', value: 'npm' },
      { label: 'Exit code', value: '1' },
    ],
    sections: [{ heading: 'Failing tests (1)', lines: ['parser > parses'] }, { lines: ['a note'] }],
    code: { title: 'Output', text: 'FAIL parses\nTests 1 failed\n' },
    actions: [{ actionId: 'rerun_task', label: 'Re-run', value: 't-1' }],
    footer: 'acme · task t-1',
  };

  it('reads as a terminal report, without markup and without the buttons', () => {
    expect(toPlainText(doc)).toBe(
      [
        '[FAILED] Tests failed',
        '5 passed, 1 failed, 0 skipped',
        '',
        'Runner:    npm',
        'Exit code: 1',
        '',
        'Failing tests (1)',
        '  parser > parses',
        '',
        'a note',
        '',
        'Output',
        '    FAIL parses',
        '    Tests 1 failed',
        '',
        'acme · task t-1',
      ].join('\n'),
    );
  });

  it('keeps everything, however long', () => {
    const text = toPlainText({ title: 'Result', tone: 'info', code: { text: bigOutput } });
    expect(text.split('\n')).toHaveLength(4000 + 2);
    expect(text).toContain('line 3999');
  });

  it('marks each tone', () => {
    expect(toPlainText({ title: 'x', tone: 'success' })).toBe('[OK] x');
    expect(toPlainText({ title: 'x', tone: 'progress', summary: '████████░░ 80%' })).toBe('[IN PROGRESS] x\n████████░░ 80%');
  });
});

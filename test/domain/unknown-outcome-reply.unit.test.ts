import { describe, expect, it } from 'vitest';
import { describeWorkflow } from '../../actors/workflow-text.ts';
import { toBlockKit } from '../../adapters/slack/block-kit.ts';
import { fold } from '../../domain/decider.ts';
import { progressReply } from '../../domain/replies/progress-reply.ts';
import { toPlainText } from '../../domain/replies/plain-text.ts';
import type { ReplyDocument } from '../../domain/replies/reply-document.ts';
import {
  alreadyDecidedAnswer,
  COMPLETE_OUTCOME_ACTION,
  FAIL_OUTCOME_ACTION,
  outcomeActionValue,
  outcomeDeliveryId,
  parseOutcomeActionValue,
  RERUN_OUTCOME_ACTION,
  unknownOutcomeReply as outcomeReplyIn,
  type UnknownOutcomeInput,
} from '../../domain/replies/unknown-outcome-reply.ts';
import { resultReply as resultReplyIn, type ResultReplyInput } from '../../domain/replies/result-reply.ts';
import { taskTypeDescriptors } from '../../adapters/executors/registry.ts';

// Replies worded as the registered task types' descriptors say.
const unknownOutcomeReply = (input: UnknownOutcomeInput): ReplyDocument => outcomeReplyIn(input, taskTypeDescriptors);
const resultReply = (input: ResultReplyInput): ReplyDocument => resultReplyIn(input, taskTypeDescriptors);
import { workflowStatusReply } from '../../domain/replies/workflow-replies.ts';
import { workflowDecider, type Workflow, type WorkflowEvent } from '../../domain/workflow/index.ts';
import { event, fixturesFor, stepStarted, task, tree } from './workflow-fixtures.ts';

// The message a thread gets when a side-effecting task's outcome is unknown: what ran, which
// attempt, why it was not run again, the evidence, and three buttons while it waits; the
// decision and who took it once decided, buttons gone.

const waiting: UnknownOutcomeInput = {
  taskId: 'slack-C0GENERAL-1700000000_000100',
  taskType: 'sf-deploy',
  attempt: 1,
  workerId: 'salesforce-host-41-1',
  reason: 'worker went silent',
  evidence: { deployJobId: '0Af5g00000XyZ' },
  repository: 'acme',
  mode: 'deploy',
};

const allText = (doc: ReplyDocument): string =>
  [
    doc.title,
    doc.summary,
    doc.byline && `${doc.byline.text} ${doc.byline.user}`,
    ...(doc.fields ?? []).flatMap((f) => [f.label, f.value]),
    ...(doc.sections ?? []).flatMap((s) => [s.heading, ...s.lines]),
    doc.footer,
  ]
    .filter(Boolean)
    .join('\n');

describe('an unknown outcome, waiting for a decision', () => {
  const doc = unknownOutcomeReply(waiting);

  it('says what ran, which attempt, and why it was not run again by itself', () => {
    expect(doc.title).toBe('Outcome unknown: sf-deploy (attempt 1)');
    expect(doc.tone).toBe('warning');
    expect(doc.summary).toContain('Attempt 1 of sf-deploy (deploy) stopped without a known outcome: worker went silent (worker salesforce-host-41-1)');
    expect(doc.summary).toContain('changes something outside the product, so it was not run again by itself');
    expect(doc.fields).toEqual([
      { label: 'Task', value: 'sf-deploy (deploy)' },
      { label: 'Attempt', value: '1' },
      { label: 'Repository', value: 'acme' },
    ]);
  });

  it('shows the evidence the attempt recorded, or says there was none', () => {
    expect(doc.sections).toEqual([{ heading: 'Evidence recorded', lines: ['deployJobId: 0Af5g00000XyZ'] }]);
    const { evidence: _, ...without } = waiting;
    expect(unknownOutcomeReply(without).sections![0]!.lines[0]).toMatch(/^none/);
  });

  it('carries Re-run, Mark as done and Fail, each naming the task and attempt', () => {
    const value = outcomeActionValue(waiting.taskId, 1);
    expect(doc.actions).toEqual([
      { actionId: RERUN_OUTCOME_ACTION, label: 'Re-run', value, style: 'primary' },
      { actionId: COMPLETE_OUTCOME_ACTION, label: 'Mark as done', value },
      { actionId: FAIL_OUTCOME_ACTION, label: 'Fail', value, style: 'danger' },
    ]);
    expect(parseOutcomeActionValue(value)).toEqual({ taskId: waiting.taskId, attempt: 1 });
    expect(doc.byline).toBeUndefined();
  });

  it('renders in Slack as one message with the three buttons, and as plain text without them', () => {
    const message = toBlockKit(doc);
    const actions = message.blocks.filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(1);
    expect(actions[0]!.type === 'actions' && actions[0]!.elements.map((e) => e.text.text)).toEqual(['Re-run', 'Mark as done', 'Fail']);
    expect(message.overflow).toBeUndefined();
    const plain = toPlainText(doc);
    expect(plain).toContain('[WARNING] Outcome unknown: sf-deploy (attempt 1)');
    expect(plain).toContain('deployJobId: 0Af5g00000XyZ');
  });
});

describe('an unknown outcome, decided', () => {
  it('names the person who marked it as done, as a Slack mention, without buttons', () => {
    const doc = unknownOutcomeReply({ ...waiting, decision: { resolution: 'completed', resolvedBy: 'U0BOB', via: 'person' } });
    expect(doc.title).toBe('Outcome decided: sf-deploy (attempt 1)');
    expect(doc.tone).toBe('success');
    expect(doc.actions).toBeUndefined();
    expect(doc.byline).toEqual({ text: 'Marked as done by', user: 'U0BOB' });
    const message = toBlockKit(doc);
    expect(message.blocks.some((b) => b.type === 'section' && b.text?.text === 'Marked as done by <@U0BOB>')).toBe(true);
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(message.text).toContain('Marked as done by U0BOB');
    expect(toPlainText(doc)).toContain('Marked as done by U0BOB');
  });

  it.each([
    ['rerun', 'Re-run by', 'info'],
    ['failed', 'Failed by', 'failure'],
  ] as const)('says who decided %s', (resolution, text, tone) => {
    const doc = unknownOutcomeReply({ ...waiting, decision: { resolution, resolvedBy: 'U0BOB', via: 'person' } });
    expect(doc.byline).toEqual({ text, user: 'U0BOB' });
    expect(doc.tone).toBe(tone);
    expect(doc.actions).toBeUndefined();
  });

  it('says a re-run queued the next attempt', () => {
    expect(unknownOutcomeReply({ ...waiting, decision: { resolution: 'rerun', resolvedBy: 'U0BOB', via: 'person' } }).summary).toContain(
      'Attempt 2 is queued.',
    );
  });

  it('says what a check of the evidence found, naming sf for a deploy', () => {
    const doc = unknownOutcomeReply({ ...waiting, decision: { resolution: 'completed', resolvedBy: 'salesforce-host-41-2', via: 'check' } });
    expect(doc.summary).toContain('Checked with sf: the deploy succeeded.');
    expect(doc.byline).toBeUndefined();
    const other = unknownOutcomeReply({
      ...waiting,
      taskType: 'claude-code',
      mode: 'edit',
      decision: { resolution: 'failed', resolvedBy: 'claude-w1', via: 'check', reason: 'no commit found' },
    });
    expect(other.summary).toContain('Checked with claude-w1: it failed. Reason: no commit found');
  });

  it('never writes a name that is not a Slack user id as markup', () => {
    const message = toBlockKit(unknownOutcomeReply({ ...waiting, decision: { resolution: 'failed', resolvedBy: '<!channel>', via: 'person' } }));
    const texts = JSON.stringify(message.blocks);
    expect(texts).not.toContain('<!channel>');
    expect(texts).toContain('Failed by &lt;!channel&gt;');
  });

  it('closes without a decision when the task was cancelled while it waited', () => {
    const doc = unknownOutcomeReply({ ...waiting, endedUndecided: 'the task was cancelled by U0ALICE' });
    expect(doc.actions).toBeUndefined();
    expect(doc.tone).toBe('failure');
    expect(allText(doc)).toContain('Not decided: the task was cancelled by U0ALICE.');
  });
});

describe('what the buttons carry and answer', () => {
  it('rejects values that are not a task id and an attempt', () => {
    expect(parseOutcomeActionValue('t-1')).toBeUndefined();
    expect(parseOutcomeActionValue('t-1 0')).toBeUndefined();
    expect(parseOutcomeActionValue('t-1 x')).toBeUndefined();
    expect(parseOutcomeActionValue('t-1 2 extra')).toBeUndefined();
    expect(parseOutcomeActionValue('t-1 2')).toEqual({ taskId: 't-1', attempt: 2 });
  });

  it('gives each attempt its own message', () => {
    expect(outcomeDeliveryId('t-1', 1)).not.toBe(outcomeDeliveryId('t-1', 2));
  });

  it('answers a click on a decided message with who decided what', () => {
    expect(alreadyDecidedAnswer({ resolution: 'completed', resolvedBy: 'U0BOB', via: 'person' })).toBe('This was already decided by U0BOB: marked as done.');
    expect(alreadyDecidedAnswer(undefined)).toBe('This was already decided.');
  });
});

describe('the progress message of a task whose outcome is unknown', () => {
  it('says it waits for a decision, with no Cancel button and no ETA', () => {
    const doc = progressReply({
      taskId: 't-9',
      taskType: 'claude-code',
      status: 'outcomeUnknown',
      percent: 40,
      stage: 'editing',
      attempt: 2,
      etaText: 'about 1 min',
    });
    expect(doc.title).toBe('claude-code: outcome unknown, waiting for a decision');
    expect(doc.tone).toBe('warning');
    expect(doc.actions).toBeUndefined();
    expect(doc.summary).not.toContain('ETA');
    expect(doc.footer).toContain('Outcome unknown, waiting for a decision');
  });
});

describe('a workflow step whose outcome is unknown', () => {
  const definition = tree(task('edit', 'claude-code'), task('test'));
  const d = fixturesFor(definition);
  const workflow = (): Workflow => {
    const state = fold(workflowDecider, [
      d.started({ conversationId: 'C1' } as never),
      d.scheduled('edit'),
      stepStarted('edit'),
      event('StepOutcomeUnknown', { stepId: 'edit', attempt: 1, taskId: 'W1_edit_1' }),
    ] as WorkflowEvent[]);
    if (state.status === 'none') throw new Error('no workflow');
    return state;
  };

  it('shows as waiting for a decision in the status message, which still runs', () => {
    const doc = workflowStatusReply(workflow());
    expect(doc.sections![0]!.lines[0]).toBe('? edit — outcome unknown, waiting for a decision');
    expect(doc.summary).toContain('running · 0 of 2 steps done');
  });

  it('shows as waiting for a decision in /workflow status, with the task to decide', () => {
    expect(describeWorkflow(workflow())).toContain(
      '• edit: outcome unknown, waiting for a decision (Re-run, Mark as done or Fail in its thread) (attempt 1, task W1_edit_1)',
    );
  });
});

describe('the result reply of a task marked as done', () => {
  it('says it completed with no result, rather than showing null', () => {
    const doc = resultReply({ taskId: 't-9', taskType: 'claude-code', outcome: 'completed', result: null });
    expect(doc.summary).toBe('Completed with no result.');
    expect(doc.code).toBeUndefined();
  });
});

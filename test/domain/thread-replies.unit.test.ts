import { describe, expect, it } from 'vitest';
import { toBlockKit } from '../../adapters/slack/block-kit.ts';
import { fold } from '../../domain/decider.ts';
import { planDecider, type PlanEvent, type PlanState, type ProposedPlan } from '../../domain/plan/index.ts';
import { toPlainText } from '../../domain/replies/plain-text.ts';
import { planPreviewReply, REJECT_PLAN_ACTION, RUN_PLAN_ACTION } from '../../domain/replies/plan-preview-reply.ts';
import {
  APPROVE_GATE_ACTION,
  approvalGateReply,
  approvalReminderReply,
  gateActionValue,
  parseGateActionValue,
  workflowEndReply,
  workflowStatusReply,
} from '../../domain/replies/workflow-replies.ts';
import { workflowDecider, type Workflow, type WorkflowEvent } from '../../domain/workflow/index.ts';
import { reviewPlan, testsThenDeploy } from '../support/plan-fixtures.ts';
import { event, fixturesFor, minute, requester, stepCompleted, task, tree } from './workflow-fixtures.ts';

// What plans and workflows say in their thread (OR2, IF3): the preview with its buttons while it
// waits and without them once decided; the gate with Approve / Reject while open, the decision
// once not; a reminder that names the approvers; the closing reply.

const at = '2026-11-21T10:00:00.000Z';
const planEvent = (type: PlanEvent['type'], data: object): PlanEvent => ({ type, data: { planId: 'P1', at, ...data } }) as PlanEvent;
const proposed = (approvalRequired = true) =>
  planEvent('PlanProposed', {
    conversationId: 'C1',
    requestedBy: 'U_REQ',
    request: 'deploy acme, test everything first',
    revision: 1,
    plan: testsThenDeploy(),
    model: 'claude-opus-4-5',
    usage: { inputTokens: 1_000, outputTokens: 400 },
    costUsd: 0.015,
    approval: {
      required: approvalRequired,
      reasons: approvalRequired ? ['step deploy runs sf-deploy, which changes things outside (side effects)'] : [],
      requesterMayApprove: true,
    },
  });
const planAfter = (...events: PlanEvent[]): ProposedPlan => {
  const state: PlanState = fold(planDecider, events);
  if (state.status === 'none') throw new Error('no plan');
  return state;
};
const actionIds = (doc: { actions?: readonly { actionId: string }[] }) => (doc.actions ?? []).map((a) => a.actionId);

describe('the plan preview', () => {
  it('shows phases, estimates, the gate and why it waits, with "Run this plan" and Reject', () => {
    const doc = planPreviewReply(planAfter(proposed()));
    expect(actionIds(doc)).toEqual([RUN_PLAN_ACTION, REJECT_PLAN_ACTION]);
    const text = toPlainText(doc);
    expect(text).toContain('Estimated time:');
    expect(text).toContain('15 min');
    expect(text).toContain('$0.20');
    expect(text).toContain('Steps needing approval: go');
    expect(text).toContain('1. Test');
    expect(text).toContain('• green: if steps.tests.output.failed == 0:');
    expect(text).toContain('• deploy: sf-deploy');
    expect(text).toContain('Why it waits for approval');
    expect(text).toContain('type APPROVE');
  });

  it('shows parallel branches', () => {
    const review = { ...(proposed().data as object), plan: reviewPlan() };
    const text = toPlainText(planPreviewReply(planAfter(planEvent('PlanProposed', review))));
    expect(text).toContain('• checks: at the same time:');
    expect(text).toMatch(/branch 1:\n\s+• analyze: analyze-codebase/);
  });

  it('loses its buttons once approved, and says who approved it', () => {
    const doc = planPreviewReply(planAfter(proposed(), planEvent('PlanApproved', { revision: 1, approver: 'U_LEAD', via: 'button' })));
    expect(doc.actions).toBeUndefined();
    expect(doc.summary).toBe('Approved by U_LEAD: running it.');
    expect(doc.tone).toBe('success');
  });

  it('loses its buttons once rejected, and says nothing ran', () => {
    const doc = planPreviewReply(planAfter(proposed(), planEvent('PlanRejected', { revision: 1, rejectedBy: 'U_LEAD', reason: 'not today' })));
    expect(doc.actions).toBeUndefined();
    expect(doc.summary).toContain('Nothing ran.');
  });

  it('has no buttons when nothing in it needs approval', () => {
    const doc = planPreviewReply(planAfter(proposed(false)));
    expect(doc.actions).toBeUndefined();
    expect(doc.summary).toBe('Nothing in it needs approval: running it now.');
  });
});

const gate = {
  type: 'approval',
  id: 'approve-deploy',
  title: 'Deploy to prod?',
  approvers: ['U1', 'U2'],
  requesterMayApprove: false,
  reminderBeforeMs: 120_000,
};
const d = fixturesFor(tree(task('test'), gate, task('deploy', 'sf-deploy', { sideEffects: true })));
const requested = event('ApprovalRequested', {
  stepId: 'approve-deploy',
  visit: 1,
  title: 'Deploy to prod?',
  approvers: ['U1', 'U2'],
  quorum: 1,
  requesterMayApprove: false,
  requestedBy: requester,
  dueAt: minute(10),
  remindAt: minute(8),
});
const waiting: WorkflowEvent[] = [d.started(), d.scheduled('test'), stepCompleted('test'), requested];
const workflowAfter = (...events: WorkflowEvent[]): Workflow => {
  const state = fold(workflowDecider, events);
  if (state.status === 'none') throw new Error('no workflow');
  return state;
};

describe('an approval gate in the thread', () => {
  it('carries Approve / Reject naming the gate and visit while it waits, and who may decide', () => {
    const doc = approvalGateReply(workflowAfter(...waiting), 'approve-deploy');
    expect(actionIds(doc)).toEqual([APPROVE_GATE_ACTION, 'reject_gate']);
    expect(parseGateActionValue(doc.actions![0]!.value)).toEqual({ workflowId: 'W1', stepId: 'approve-deploy', visit: 1 });
    const text = toPlainText(doc);
    expect(text).toContain('Approvers: U1, U2');
    expect(text).toContain(`${requester} asked for this workflow and cannot approve it alone.`);
    expect(text).toContain(minute(10));
  });

  it('is redrawn without buttons once decided, naming who approved', () => {
    const granted = event('ApprovalGranted', { stepId: 'approve-deploy', visit: 1, approver: 'U2', grantedBy: ['U2'], quorum: 1, approved: true });
    const doc = approvalGateReply(workflowAfter(...waiting, granted, d.scheduled('deploy')), 'approve-deploy');
    expect(doc.actions).toBeUndefined();
    expect(doc.summary).toBe('Approved by U2.');
  });

  it('is redrawn without buttons when the workflow ends while it waits', () => {
    const cancelled = event('WorkflowCancelled', { reason: 'changed my mind', requestedBy: requester, tasksToCancel: [] } as never);
    const doc = approvalGateReply(workflowAfter(...waiting, cancelled), 'approve-deploy');
    expect(doc.actions).toBeUndefined();
    expect(doc.summary).toBe('Not decided: the workflow cancelled.');
  });

  it('a cost gate (AG5) names the spend and why while open, and reads as approved once granted', () => {
    const paid = fixturesFor(tree(task('review', 'claude-code', { title: 'Review the change' })));
    const reason = '$5.00 would exceed the monthly cap of $10.00';
    const asked = event('ApprovalRequested', {
      stepId: 'review',
      visit: 1,
      title: 'spend',
      approvers: ['U_FIN'],
      quorum: 1,
      requesterMayApprove: false,
      requestedBy: requester,
      dueAt: minute(10),
      cost: { attempt: 1, amountUsd: 5, reason },
    });
    const open = approvalGateReply(workflowAfter(paid.started(), paid.scheduled('review'), asked), 'review');
    expect(open.title).toBe('Approval needed: spend $5.00 over the budget cap on "Review the change"');
    expect(toPlainText(open)).toContain(`Why: ${reason}`);
    expect(actionIds(open)).toEqual([APPROVE_GATE_ACTION, 'reject_gate']);
    const granted = event('ApprovalGranted', { stepId: 'review', visit: 1, approver: 'U_FIN', grantedBy: ['U_FIN'], quorum: 1, approved: true });
    const { visit: _, workflowId: __, at: ___, ...toRun } = paid.scheduled('review').data;
    const decided = approvalGateReply(
      workflowAfter(paid.started(), paid.scheduled('review'), asked, granted, event('StepCostApproved', { ...toRun, approvedBy: ['U_FIN'] })),
      'review',
    );
    expect(decided).toMatchObject({ tone: 'success', summary: 'Approved by U_FIN.' });
    expect(decided.actions).toBeUndefined();
  });

  it('reads back only values of its own shape', () => {
    expect(parseGateActionValue(gateActionValue('W1', 'a-b', 2))).toEqual({ workflowId: 'W1', stepId: 'a-b', visit: 2 });
    for (const bad of ['', 'W1', 'W1 a', 'W1 a 0', 'W1 a x', 'W1 a 1 extra']) expect(parseGateActionValue(bad)).toBeUndefined();
  });
});

describe('the reminder', () => {
  it('mentions the approvers in Slack and names them in plain text', () => {
    const doc = approvalReminderReply(workflowAfter(...waiting), { stepId: 'approve-deploy', approvers: ['U01ALICE', 'U02BOB'], dueAt: minute(10) });
    expect(JSON.stringify(toBlockKit(doc).blocks)).toContain('<@U01ALICE> <@U02BOB>');
    expect(toPlainText(doc)).toContain('@U01ALICE @U02BOB');
    expect(doc.summary).toContain(minute(10));
  });

  it('never lets text that is not a user id through as raw mrkdwn', () => {
    const doc = approvalReminderReply(workflowAfter(...waiting), { stepId: 'approve-deploy', approvers: ['<!channel>', 'U01ALICE'], dueAt: minute(10) });
    const blocks = JSON.stringify(toBlockKit(doc).blocks);
    expect(blocks).not.toContain('<!channel>');
    expect(blocks).toContain('<@U01ALICE>');
  });
});

describe('the workflow status and closing messages', () => {
  it('lists every step with where it stands', () => {
    const doc = workflowStatusReply(workflowAfter(...waiting));
    expect(doc.summary).toBe('running · 1 of 3 steps done');
    expect(doc.sections![0]!.lines).toEqual(['✔ test — completed', '⏸ Deploy to prod? — awaiting approval', '○ deploy — not reached yet']);
  });

  it('marks a step a dry run recorded instead of running', () => {
    const dry = event('StepCompleted', {
      stepId: 'test',
      attempt: 1,
      taskId: 'W1_test_1',
      output: { dryRun: true, wouldRun: { taskType: 'run-tests', params: {} } },
    } as never);
    const doc = workflowStatusReply(workflowAfter(d.started(), d.scheduled('test'), dry));
    expect(doc.sections![0]!.lines[0]).toBe('✔ test — completed (dry run: recorded, not run)');
  });

  it('closes with how it ended and how to replay it', () => {
    const failed = event(
      'WorkflowFailed',
      { cause: 'ApprovalTimedOut', stepId: 'approve-deploy', reason: 'no decision on "Deploy to prod?" within 600000 ms', tasksToCancel: [] } as never,
      minute(10),
    );
    const doc = workflowEndReply(workflowAfter(...waiting, failed));
    expect(doc.title).toContain('Workflow failed');
    expect(doc.summary).toBe('no decision on "Deploy to prod?" within 600000 ms (step approve-deploy)');
    expect(doc.footer).toContain('orch replay workflow-W1');
    expect(doc.tone).toBe('failure');
  });
});

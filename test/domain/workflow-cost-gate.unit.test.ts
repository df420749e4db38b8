import { describe, expect, it } from 'vitest';
import { nextTimers } from '../../domain/workflow/timers.ts';
import { workflowDecider, type WorkflowEventData } from '../../domain/workflow/index.ts';
import { specFor } from '../support/decider-spec.ts';
import {
  command,
  event,
  fixturesFor,
  grant,
  minute,
  recordCompleted,
  reject,
  requester,
  stepCompleted,
  task,
  tree,
  workflowCompleted,
  workflowFailed,
} from './workflow-fixtures.ts';

// AG5: a step whose paid run would cross a budget cap waits for a cost gate instead of failing.
// The engine asks (RequestCostApproval); people decide with the same GrantApproval and
// RejectApproval as any gate; granted, the attempt is queued (StepCostApproved); rejected or
// timed out, the step fails with the reason, and with it the workflow.

const { given } = specFor(workflowDecider);

const review = tree(task('review', 'claude-code', { params: { repository: 'acme', mode: 'review', prompt: 'review it' } }), task('report', 'report'));
const d = fixturesFor(review);
const reason = '$5.00 would exceed the monthly cap of $10.00 ($8.00 spent, $0.00 reserved)';

const askCost = (extra: Partial<{ attempt: number; approvers: string[]; quorum: number; requesterMayApprove: boolean }> = {}) =>
  command('RequestCostApproval', {
    stepId: 'review',
    attempt: 1,
    amountUsd: 5,
    reason,
    approvers: ['U_FIN'],
    quorum: 1,
    requesterMayApprove: false,
    timeoutMs: 600_000,
    reminderBeforeMs: 120_000,
    ...extra,
  });

type Requested = Partial<Omit<WorkflowEventData<'ApprovalRequested'>, 'workflowId' | 'at'>>;
const costRequested = (overrides: Requested = {}) =>
  event('ApprovalRequested', {
    stepId: 'review',
    visit: 1,
    title: `Step review may cost up to $5.00, over the budget (${reason}): approve the spend?`,
    approvers: ['U_FIN'],
    quorum: 1,
    requesterMayApprove: false,
    requestedBy: requester,
    dueAt: minute(10),
    remindAt: minute(8),
    cost: { attempt: 1, amountUsd: 5, reason },
    ...overrides,
  });
const costApproved = (approvedBy: string[]) => {
  const { visit: _, ...scheduled } = d.scheduled('review').data;
  const { workflowId: __, at: ___, ...toRun } = scheduled;
  return event('StepCostApproved', { ...toRun, approvedBy });
};

describe('a paid step over a budget cap waits for a cost gate', () => {
  it('given a scheduled paid step, when the engine asks for cost approval, then a cost gate is requested on the step', () =>
    given(d.started(), d.scheduled('review')).when(askCost()).then(costRequested()));

  it('given the cost gate already requested for the attempt, when asked again (a replay), then nothing new', () =>
    given(d.started(), d.scheduled('review'), costRequested()).when(askCost()).thenNothing());

  it('given a scheduled step, when asked for an attempt that is not the current one, then it is refused', () =>
    given(d.started(), d.scheduled('review'))
      .when(askCost({ attempt: 2 }))
      .thenRejects('StepNotScheduled'));

  it('given a cost gate, when an approver grants it, then the attempt is queued in their name', () =>
    given(d.started(), d.scheduled('review'), costRequested())
      .when(grant('review', 'U_FIN'))
      .then(
        event('ApprovalGranted', { stepId: 'review', visit: 1, approver: 'U_FIN', grantedBy: ['U_FIN'], quorum: 1, approved: true }),
        costApproved(['U_FIN']),
      ));

  it('given a cost gate, when someone who is not an approver grants it, then it is refused', () =>
    given(d.started(), d.scheduled('review'), costRequested()).when(grant('review', 'U_ANY')).thenRejects('NotAnApprover'));

  it('given a cost gate that the requester may not approve alone, when the requester grants it, then it is refused', () =>
    given(d.started(), d.scheduled('review'), costRequested({ approvers: [] }))
      .when(grant('review', requester))
      .thenRejects('RequesterCannotApprove'));

  it('given a quorum of two, when one approver grants, then the step keeps waiting', () =>
    given(d.started(), d.scheduled('review'), costRequested({ approvers: ['U_FIN', 'U_CFO'], quorum: 2 }))
      .when(grant('review', 'U_FIN'))
      .then(event('ApprovalGranted', { stepId: 'review', visit: 1, approver: 'U_FIN', grantedBy: ['U_FIN'], quorum: 2, approved: false })));

  it('given a rejected cost gate, then the step fails with the reason and the workflow with it', () =>
    given(d.started(), d.scheduled('review'), costRequested())
      .when(reject('review', 'U_FIN', 'not this month'))
      .then(
        event('ApprovalRejected', { stepId: 'review', visit: 1, approver: 'U_FIN', reason: 'not this month' }),
        event('StepFailed', {
          stepId: 'review',
          attempt: 1,
          taskId: 'W1_review_1',
          error: { code: 'CostApprovalRejected', message: 'U_FIN rejected the cost of step "review": not this month' },
          retryable: false,
          final: true,
        }),
        workflowFailed({ cause: 'ApprovalRejected', stepId: 'review', reason: 'U_FIN rejected the cost of step "review": not this month' }),
      ));

  it('given a cost gate nobody decided, when it times out, then the step fails with the reason', () => {
    const message = `no decision on the cost of step "review" by ${minute(10)}`;
    given(d.started(), d.scheduled('review'), costRequested())
      .when(command('TimeOutApproval', { stepId: 'review' }, minute(10)))
      .then(
        event('ApprovalTimedOut', { stepId: 'review', visit: 1, dueAt: minute(10) }, minute(10)),
        event(
          'StepFailed',
          { stepId: 'review', attempt: 1, taskId: 'W1_review_1', error: { code: 'CostApprovalTimedOut', message }, retryable: false, final: true },
          minute(10),
        ),
        workflowFailed({ cause: 'ApprovalTimedOut', stepId: 'review', reason: message }, minute(10)),
      );
  });

  it('given a granted cost gate, when the paid run completes, then the workflow goes on as usual', () =>
    given(
      d.started(),
      d.scheduled('review'),
      costRequested(),
      event('ApprovalGranted', { stepId: 'review', visit: 1, approver: 'U_FIN', grantedBy: ['U_FIN'], quorum: 1, approved: true }),
      costApproved(['U_FIN']),
    )
      .when(recordCompleted('review'))
      .then(stepCompleted('review'), d.scheduled('report')));

  it('given a task step with no cost gate, when someone grants it, then it is refused as not a gate', () =>
    given(d.started(), d.scheduled('review')).when(grant('review', 'U_FIN')).thenRejects('NotAnApprovalStep'));

  it('given a cost gate, then its timeout and reminder are armed, and dropped once it is granted', () => {
    const started = d.started();
    let timers = nextTimers(undefined, started, 0);
    timers = nextTimers(timers, d.scheduled('review'), 1);
    timers = nextTimers(timers, costRequested(), 2);
    expect(timers?.timers.map((t) => t.kind).sort()).toEqual(['approval-reminder', 'approval-timeout', 'workflow-timeout']);
    timers = nextTimers(
      timers,
      event('ApprovalGranted', { stepId: 'review', visit: 1, approver: 'U_FIN', grantedBy: ['U_FIN'], quorum: 1, approved: true }),
      3,
    );
    timers = nextTimers(timers, costApproved(['U_FIN']), 4);
    expect(timers?.timers.map((t) => t.kind)).toEqual(['workflow-timeout']);
  });

  it('given the workflow completed, then nothing is left to approve', () =>
    given(d.started(), d.scheduled('review'), stepCompleted('review'), d.scheduled('report'), stepCompleted('report'), workflowCompleted())
      .when(askCost())
      .thenRejects('WorkflowAlreadyFinished'));
});

import { describe, it } from 'vitest';
import { setCapsCommand } from '../../domain/process/paid-runs.ts';
import type { CommandIntent } from '../../domain/process/process-manager.ts';
import { workflowStepRunner, type StepRunnerConfig } from '../../domain/process/workflow-step-runner.ts';
import { event, requester, stepFailed } from '../domain/workflow-fixtures.ts';
import { managerSpecFor } from '../support/manager-spec.ts';
import { accepted, answered, at, onTask, recorded, rejected, routes, taskIdOf, wf, workflowId } from './step-runner-fixtures.ts';

// Paid runs (AG5) as decisions of the step runner: reserve before queueing, a cost gate over the
// cap, commit what the run reported or its ceiling, release when the gate ends unapproved.

const caps = { monthlyUsd: 500, warningFraction: 0.8, criticalFraction: 0.95 };
const costGate = { kind: 'cost' as const, approvers: ['U-fin'], quorum: 1, requesterMayApprove: false, timeoutMs: 60_000 };
const ceilingUsd = (taskType: string) => ({ 'claude-code': 2, report: 0 })[taskType];
const config: StepRunnerConfig = { routeTask: routes, paidRuns: { ceilingUsd, caps }, costGate };
const { given } = managerSpecFor(workflowStepRunner(config));
const withoutGate = managerSpecFor(workflowStepRunner({ ...config, costGate: undefined }));
const withoutCaps = managerSpecFor(workflowStepRunner({ ...config, paidRuns: { ceilingUsd } }));

const started = recorded(wf.started());
const paidStep = (attempt = 1) =>
  recorded(
    event('StepScheduled', {
      stepId: 'code',
      attempt,
      taskId: taskIdOf('code', attempt),
      taskType: 'claude-code',
      params: { prompt: 'fix it' },
      dryRun: false,
      visit: 1,
    }),
  );
const scheduled = paidStep();
const code = taskIdOf('code');
const budgetId = at.slice(0, 7);
const capsIntent: CommandIntent = { kind: 'command', category: 'budget', id: budgetId, ...setCapsCommand(budgetId, caps) };
const reserve = (way: '' | 'ask-' | 'approved-', extra: object = {}): CommandIntent => ({
  kind: 'command',
  category: 'budget',
  id: budgetId,
  commandId: `reserve-${way}run-${code}`,
  type: 'ReserveCost',
  actor: requester,
  correlationId: workflowId,
  wantsReply: true,
  data: {
    reservationId: `run-${code}`,
    amountUsd: 2,
    purpose: `claude-code run ${code}`,
    workflowId,
    user: requester,
    ifOverCap: way === 'ask-' ? 'askApproval' : 'refuse',
    ...extra,
  },
});
const overCap = rejected('CapWouldBeExceeded', 'the monthly cap of $500.00 would be exceeded');

describe('paid runs: before queueing', () => {
  it("reserves the run's ceiling on the month's Budget, its caps set first, before anything is queued", () => {
    given(started).when(scheduled).then(capsIntent, reserve(''));
  });

  it('sets no caps when none are configured', () => {
    withoutCaps.given(started).when(scheduled).then(reserve(''));
  });

  it('a free task type reserves nothing', () => {
    given(started)
      .when(recorded(event('StepScheduled', { stepId: 'r', attempt: 1, taskId: taskIdOf('r'), taskType: 'report', params: {}, dryRun: false, visit: 1 })))
      .thenSends({ type: 'QueueTask' });
  });

  it('reserved (or reserved before, by a replay): the task is queued', () => {
    given(started, scheduled)
      .when(answered(reserve(''), accepted))
      .thenSends({ type: 'QueueTask', id: code, commandId: `queue-${code}` });
    given(started, scheduled)
      .when(answered(reserve(''), rejected('ReservationAlreadyExists')))
      .thenSends({ type: 'QueueTask', id: code });
  });

  it('over a cap with a cost gate: the Budget records that approval is needed, then the step asks the gate', () => {
    given(started, scheduled)
      .when(answered(reserve(''), overCap))
      .then(capsIntent, reserve('ask-'));
    given(started, scheduled, answered(reserve(''), overCap))
      .when(answered(reserve('ask-'), accepted))
      .then({
        kind: 'command',
        category: 'workflow',
        id: workflowId,
        commandId: `cost-approval-${code}`,
        type: 'RequestCostApproval',
        data: {
          stepId: 'code',
          attempt: 1,
          amountUsd: 2,
          reason: overCap.status === 'rejected' ? overCap.message : '',
          approvers: ['U-fin'],
          quorum: 1,
          requesterMayApprove: false,
          timeoutMs: 60_000,
        },
      });
  });

  it('asks the gate even when the Budget could not record that approval is needed: the step never waits unasked', () => {
    given(started, scheduled, answered(reserve(''), overCap))
      .when(answered(reserve('ask-'), rejected('BudgetClosed', 'closed')))
      .thenSends({ type: 'RequestCostApproval', commandId: `cost-approval-${code}` });
  });

  it('over a cap without a cost gate, or refused for another reason: the step fails as BudgetExceeded and nothing is queued', () => {
    withoutGate
      .given(started, scheduled)
      .when(answered(reserve(''), overCap))
      .then({
        kind: 'command',
        category: 'workflow',
        id: workflowId,
        commandId: `over-budget-${code}`,
        type: 'RecordStepFailed',
        data: {
          stepId: 'code',
          attempt: 1,
          error: {
            code: 'BudgetExceeded',
            message: 'claude-code may cost up to $2.00 and the budget does not allow it: CapWouldBeExceeded: the monthly cap of $500.00 would be exceeded',
          },
          retryable: false,
        },
      });
    given(started, scheduled)
      .when(answered(reserve(''), rejected('BudgetClosed', 'closed')))
      .thenSends({ type: 'RecordStepFailed', data: { error: { code: 'BudgetExceeded' } } } as never);
  });

  it('a granted cost gate reserves over the cap in the approvers’ names', () => {
    const approved = recorded(
      event('StepCostApproved', {
        stepId: 'code',
        attempt: 1,
        taskId: code,
        taskType: 'claude-code',
        params: { prompt: 'fix it' },
        dryRun: false,
        approvedBy: ['U-fin', 'U-cfo'],
      }),
    );
    given(started, scheduled)
      .when(approved)
      .then(capsIntent, reserve('approved-', { overCapApprovedBy: 'U-fin, U-cfo' }));
  });
});

describe('paid runs: after the run', () => {
  const commit = (actualUsd: number, month = budgetId): CommandIntent => ({
    kind: 'command',
    category: 'budget',
    id: month,
    commandId: `commit-run-${code}`,
    type: 'CommitCost',
    actor: 'orchestrator',
    data: { reservationId: `run-${code}`, actualUsd },
  });
  const paid = { taskType: 'claude-code' };

  it('commits what the run reported spending, before the step is recorded complete', () => {
    given(started, scheduled)
      .when(onTask('code', 'TaskCompleted', { attempt: 1, workerId: 'w1', result: { costUsd: 0.42 }, durationMs: 5 }, paid))
      .thenSends(commit(0.42), { type: 'RecordStepCompleted' });
  });

  it('charges the ceiling when the run reported nothing, failed or was cancelled: never silent spend', () => {
    given()
      .when(onTask('code', 'TaskCompleted', { attempt: 1, workerId: 'w1', result: { costUsd: -1 }, durationMs: 5 }, paid))
      .thenSends(commit(2), { type: 'RecordStepCompleted' });
    given()
      .when(onTask('code', 'TaskFailed', { attempt: 1, error: { code: 'Broke', message: 'x' }, retryable: false, final: true }, paid))
      .thenSends(commit(2), { type: 'RecordStepFailed' });
    given()
      .when(onTask('code', 'TaskCancelled', { reason: 'stop', requestedBy: 'U-x', wasRunning: true }, paid))
      .thenSends(commit(2), { type: 'RecordStepFailed' });
  });

  it('settles on the Budget of the month the run was queued in', () => {
    given()
      .when(onTask('code', 'TaskCompleted', { attempt: 1, workerId: 'w1', result: null, durationMs: 5 }, { ...paid, queuedAt: '2026-10-31T23:59:00.000Z' }))
      .thenSends(commit(2, '2026-10'), { type: 'RecordStepCompleted' });
  });

  it('a free run settles nothing', () => {
    given()
      .when(onTask('code', 'TaskCompleted', { attempt: 1, workerId: 'w1', result: null, durationMs: 5 }, { taskType: 'report' }))
      .thenSends({ type: 'RecordStepCompleted' });
  });

  it('a cost gate rejected or timed out releases what the Budget was asked to approve', () => {
    const release: CommandIntent = {
      kind: 'command',
      category: 'budget',
      id: budgetId,
      commandId: `release-run-${code}`,
      type: 'ReleaseCost',
      actor: 'orchestrator',
      data: { reservationId: `run-${code}`, reason: 'nobody approved' },
    };
    for (const reason of ['CostApprovalRejected', 'CostApprovalTimedOut']) {
      given(started, scheduled)
        .when(recorded(stepFailed('code', 1, { final: true, retryable: false, error: { code: reason, message: 'nobody approved' } })))
        .then(release);
    }
    given(started, scheduled)
      .when(recorded(stepFailed('code', 1, { final: true, retryable: false })))
      .thenNothing();
  });
});

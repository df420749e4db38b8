import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { parseWorkflowCommand, workflowDecider, workflowEventSchemas, type WorkflowCommand, type WorkflowEvent } from '../../domain/workflow/index.ts';
import { specFor } from '../support/decider-spec.ts';
import {
  at,
  boom,
  cancel,
  command,
  event,
  fixturesFor,
  grant,
  minute,
  recordCompleted,
  recordFailed,
  recordStarted,
  recordTimedOut,
  requester,
  stepCompleted,
  stepFailed,
  stepStarted,
  task,
  tree,
  workflowCompleted,
  workflowFailed,
  workflowId,
} from './workflow-fixtures.ts';

// WF5 and OR3: per-step retries with exponential backoff and jitter, non-retryable errors, step
// timeouts, the workflow's maximum execution time; and cancellation.

const { given } = specFor(workflowDecider);

const policy = { attempts: 3, backoffMs: 1_000, maxBackoffMs: 1_500, nonRetryable: ['NoTestsFound'] };
const retrying = tree(task('test', 'run-tests', { retry: policy, timeoutMs: 60_000 }), task('report', 'report'));
const r = fixturesFor(retrying);
const running = [r.started(), r.scheduled('test'), stepStarted('test', 1, { timesOutAt: minute(1) })];
const secondRunning = [...running, stepFailed('test', 1), r.retryScheduled('test', 2, 1_000), stepStarted('test', 2, { timesOutAt: minute(1) })];
const timedOutError = (attempt: number) => ({ code: 'StepTimedOut', message: `attempt ${attempt} of step "test" timed out after 60000 ms` });

describe('RecordStepFailed', () => {
  it('schedules the next attempt after a retryable failure, after the backoff', () =>
    given(...running)
      .when(recordFailed('test', 1))
      .then(stepFailed('test', 1), r.retryScheduled('test', 2, 1_000)));
  it('doubles the backoff per attempt, up to its cap', () =>
    given(...secondRunning)
      .when(recordFailed('test', 2))
      .then(stepFailed('test', 2), r.retryScheduled('test', 3, 1_500)));
  it('waits between half and all of the backoff, by the jitter the command brings', () => {
    given(...running)
      .when(recordFailed('test', 1, { jitter: 0 }))
      .then(stepFailed('test', 1), r.retryScheduled('test', 2, 500));
    given(...running)
      .when(recordFailed('test', 1, { jitter: 0.5 }))
      .then(stepFailed('test', 1), r.retryScheduled('test', 2, 750));
  });
  it('lets the retried attempt start', () =>
    given(...running, stepFailed('test', 1), r.retryScheduled('test', 2, 1_000))
      .when(recordStarted('test', 2))
      .then(stepStarted('test', 2, { timesOutAt: minute(1) })));
  it('fails the step and the workflow on an error the executor says is not retryable', () =>
    given(...running)
      .when(recordFailed('test', 1, { retryable: false }))
      .then(
        stepFailed('test', 1, { final: true, retryable: false }),
        workflowFailed({ cause: 'StepFailed', stepId: 'test', error: boom, reason: 'step "test" failed (a non-retryable error): exited with 1' }),
      ));
  it("fails at once on an error code the step's policy lists as non-retryable", () => {
    const noTests = { code: 'NoTestsFound', message: 'no tests' };
    given(...running)
      .when(recordFailed('test', 1, { error: noTests }))
      .then(
        stepFailed('test', 1, { final: true, error: noTests }),
        workflowFailed({ cause: 'StepFailed', stepId: 'test', error: noTests, reason: 'step "test" failed (a non-retryable error): no tests' }),
      );
  });
  it('fails once the attempts are used up', () =>
    given(...secondRunning, stepFailed('test', 2), r.retryScheduled('test', 3, 1_500), stepStarted('test', 3))
      .when(recordFailed('test', 3))
      .then(
        stepFailed('test', 3, { final: true }),
        workflowFailed({ cause: 'StepFailed', stepId: 'test', error: boom, reason: 'step "test" failed (attempt 3 of 3): exited with 1' }),
      ));
  it('ignores the same failure repeated', () =>
    given(...running, stepFailed('test', 1), r.retryScheduled('test', 2, 1_000))
      .when(recordFailed('test', 1))
      .thenNothing());
  it('refuses an outcome of the attempt a retry replaced', () =>
    given(...running, stepFailed('test', 1), r.retryScheduled('test', 2, 1_000))
      .when(recordCompleted('test', {}, 1))
      .thenRejects('StaleAttempt'));
  it('refuses a failure of a completed step', () =>
    given(...running, stepCompleted('test'), r.scheduled('report'))
      .when(recordFailed('test', 1))
      .thenRejects('StepAlreadyFinished'));

  it('fails the workflow from one branch, naming the other branches’ tasks to cancel', () => {
    const both = tree({ type: 'parallel', id: 'both', branches: [task('unit', 'run-tests', { retry: { ...policy, attempts: 1 } }), task('lint', 'lint')] });
    const b = fixturesFor(both);
    given(b.started(), b.scheduled('unit'), b.scheduled('lint'))
      .when(recordFailed('unit', 1))
      .then(
        stepFailed('unit', 1, { final: true }),
        workflowFailed({
          cause: 'StepFailed',
          stepId: 'unit',
          error: boom,
          reason: 'step "unit" failed (attempt 1 of 1): exited with 1',
          tasksToCancel: ['W1_lint_1'],
        }),
      );
  });

  it('counts the attempts of each visit of a loop afresh', () => {
    const again = fixturesFor(tree(task('a')));
    const loopHistory = [again.started(), again.scheduled('a', { attempt: 3, visit: 2 })];
    given(...loopHistory)
      .when(recordFailed('a', 3))
      .then(stepFailed('a', 3), again.retryScheduled('a', 4, 1_000));
  });
});

describe('RecordStepTimedOut', () => {
  it('retries a timed-out attempt like a failure another attempt may cure', () =>
    given(...running, stepFailed('test', 1, { error: boom }), r.retryScheduled('test', 2, 1_000), stepStarted('test', 2, { timesOutAt: minute(1) }))
      .when(recordTimedOut('test', 2))
      .then(stepFailed('test', 2, { error: timedOutError(2) }), r.retryScheduled('test', 3, 1_500)));
  it('fails the workflow when the last attempt times out', () =>
    given(...secondRunning, stepFailed('test', 2), r.retryScheduled('test', 3, 1_500), stepStarted('test', 3))
      .when(recordTimedOut('test', 3))
      .then(
        stepFailed('test', 3, { final: true, error: timedOutError(3) }),
        workflowFailed({
          cause: 'StepFailed',
          stepId: 'test',
          error: timedOutError(3),
          reason: `step "test" failed (attempt 3 of 3): ${timedOutError(3).message}`,
        }),
      ));
  it('ignores the same timeout fired twice', () =>
    given(...running, stepFailed('test', 1, { error: timedOutError(1) }), r.retryScheduled('test', 2, 1_000))
      .when(recordTimedOut('test', 1))
      .thenNothing());
  it('refuses a timeout of an approval gate', () => {
    const gated = fixturesFor(tree({ type: 'approval', id: 'ok' }, task('test')));
    given(gated.started()).when(recordTimedOut('ok', 1)).thenRejects('NotATaskStep');
  });
});

describe('CancelWorkflow', () => {
  it('cancels a running workflow, naming every task that may be queued or running', () =>
    given(...running, stepFailed('test', 1), r.retryScheduled('test', 2, 1_000))
      .when(cancel())
      .then(event('WorkflowCancelled', { reason: 'not needed any more', requestedBy: requester, tasksToCancel: ['W1_test_2'] })));
  it('ignores cancelling a cancelled workflow', () =>
    given(...running, event('WorkflowCancelled', { reason: 'x', requestedBy: requester, tasksToCancel: [] }))
      .when(cancel())
      .thenNothing());
  it('refuses cancelling a completed workflow', () =>
    given(...running, stepCompleted('test'), r.scheduled('report'), stepCompleted('report'), workflowCompleted())
      .when(cancel())
      .thenRejects('WorkflowAlreadyFinished'));
  it('refuses cancelling a workflow never started', () => given().when(cancel()).thenRejects('WorkflowNotFound'));
  it('refuses approving in a cancelled workflow', () => {
    const gated = fixturesFor(tree({ type: 'approval', id: 'ok' }, task('test')));
    const requested = event('ApprovalRequested', {
      stepId: 'ok',
      visit: 1,
      approvers: [],
      quorum: 1,
      requesterMayApprove: true,
      requestedBy: requester,
      dueAt: minute(10),
    });
    given(gated.started(), requested, event('WorkflowCancelled', { reason: 'x', requestedBy: requester, tasksToCancel: [] }))
      .when(grant('ok', 'U2'))
      .thenRejects('WorkflowAlreadyFinished');
  });
});

describe('TimeOutWorkflow', () => {
  const timeOut = (when: string) => command('TimeOutWorkflow', {}, when);
  const timedOut = event('WorkflowTimedOut', { maxExecutionMs: 3_600_000, tasksToCancel: ['W1_test_1'] }, minute(60));

  it('times the workflow out at its maximum execution time', () =>
    given(...running)
      .when(timeOut(minute(60)))
      .then(timedOut));
  it('refuses a timer fired early', () =>
    given(...running)
      .when(timeOut(minute(59)))
      .thenRejects('TimerNotDue'));
  it('ignores the timer fired twice', () =>
    given(...running, timedOut)
      .when(timeOut(minute(61)))
      .thenNothing());
  it('refuses timing out a workflow that already ended', () =>
    given(...running, stepFailed('test', 1, { final: true }), workflowFailed({ cause: 'StepFailed', reason: 'x' }))
      .when(timeOut(minute(60)))
      .thenRejects('WorkflowAlreadyFinished'));
});

describe('events and commands on the wire', () => {
  it('emits only events that match their published schemas', () => {
    const commands: WorkflowCommand[] = [
      r.startWorkflow({ inputs: { repository: 'acme' } }),
      recordStarted('test', 1, 'worker-1'),
      recordFailed('test', 1, { jitter: 0.25 }),
      recordStarted('test', 2),
      recordTimedOut('test', 2),
      recordStarted('test', 3),
      recordCompleted('test', { failed: 0 }, 3),
      recordCompleted('report', { url: 'x' }),
    ];
    let current = workflowDecider.initialState();
    const emitted: WorkflowEvent[] = [];
    for (const c of commands) {
      const result = workflowDecider.decide(c, current);
      if (isLeft(result)) expect.fail(`${c.type} was rejected: ${result.left.message}`);
      emitted.push(...result.right);
      current = result.right.reduce(workflowDecider.evolve, current);
    }
    for (const e of emitted) expect(workflowEventSchemas[e.type].safeParse(e.data).success, e.type).toBe(true);
    expect(emitted.map((e) => e.type)).toEqual([
      'WorkflowStarted',
      'StepScheduled',
      'StepStarted',
      'StepFailed',
      'StepRetryScheduled',
      'StepStarted',
      'StepFailed',
      'StepRetryScheduled',
      'StepStarted',
      'StepCompleted',
      'StepScheduled',
      'StepCompleted',
      'WorkflowCompleted',
    ]);
    expect(current).toMatchObject({ status: 'completed', steps: { test: { status: 'completed', attempt: 3, output: { failed: 0 } } } });
  });

  it('fills in the defaults of StartWorkflow', () => {
    const result = parseWorkflowCommand({ type: 'StartWorkflow', workflowId, at, definition: retrying, requestedBy: 'U1' });
    expect(isRight(result) && result.right).toMatchObject({ inputs: {}, maxExecutionMs: 3_600_000, dryRun: false });
  });

  it('refuses what cannot be right, naming each problem', () => {
    const result = parseWorkflowCommand({
      type: 'RecordStepFailed',
      workflowId: 'w'.repeat(121),
      at,
      stepId: 'test',
      attempt: 0,
      error: boom,
      retryable: true,
      jitter: 2,
    });
    expect(isLeft(result) && result.left.issues).toEqual([
      'workflowId: must be at most 120 characters',
      expect.stringMatching(/^attempt: Too small/),
      expect.stringMatching(/^jitter: Too big/),
    ]);
    expect(isLeft(parseWorkflowCommand({ type: 'StartWorkflow', workflowId, at, definition: { name: 'x' }, requestedBy: 'U1' }))).toBe(true);
  });
});

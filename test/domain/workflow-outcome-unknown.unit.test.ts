import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import { activeTaskIds, parseWorkflowCommand, workflowDecider, workflowEventSchemas, type Workflow, type WorkflowEvent } from '../../domain/workflow/index.ts';
import { nextTimers, type WorkflowTimers } from '../../domain/workflow/timers.ts';
import { specFor } from '../support/decider-spec.ts';
import {
  at,
  cancel,
  command,
  event,
  fixturesFor,
  minute,
  recordCompleted,
  recordFailed,
  recordStarted,
  recordTimedOut,
  stepCompleted,
  stepFailed,
  stepStarted,
  task,
  tree,
  workflowFailed,
  workflowId,
} from './workflow-fixtures.ts';

// A step whose task may have had side effects and ended without a known outcome waits: no
// timeout and no retry runs it again; the task's resolution comes back as the step's outcome.

const { given } = specFor(workflowDecider);

const deploying = tree(
  task('deploy', 'sf-deploy', { retry: { attempts: 3, backoffMs: 1_000, maxBackoffMs: 1_000 }, timeoutMs: 60_000 }),
  task('report', 'report'),
);
const d = fixturesFor(deploying);
const taskId = `${workflowId}_deploy_1`;
const running = [d.started(), d.scheduled('deploy'), stepStarted('deploy', 1, { timesOutAt: minute(1) })];
const outcomeUnknown = (attempt = 1) => event('StepOutcomeUnknown', { stepId: 'deploy', attempt, taskId: `${workflowId}_deploy_${attempt}` });
const recordOutcomeUnknown = (attempt = 1, id = taskId) => command('RecordStepOutcomeUnknown', { stepId: 'deploy', attempt, taskId: id });

describe('RecordStepOutcomeUnknown', () => {
  it('records that the running step waits for its outcome', () =>
    given(...running)
      .when(recordOutcomeUnknown())
      .then(outcomeUnknown()));
  it('records it for a step whose task never reported its start', () =>
    given(d.started(), d.scheduled('deploy')).when(recordOutcomeUnknown()).then(outcomeUnknown()));
  it('ignores the same report repeated', () =>
    given(...running, outcomeUnknown())
      .when(recordOutcomeUnknown())
      .thenNothing());
  it('refuses a report about an older attempt', () =>
    given(...running, stepFailed('deploy', 1), d.retryScheduled('deploy', 2, 1_000))
      .when(recordOutcomeUnknown(1))
      .thenRejects('StaleAttempt'));
  it('refuses a report about a completed step', () =>
    given(...running, stepCompleted('deploy'), d.scheduled('report'))
      .when(recordOutcomeUnknown())
      .thenRejects('StepAlreadyFinished'));
  it('refuses a report about a step that is not a task', () =>
    given(...running)
      .when(command('RecordStepOutcomeUnknown', { stepId: 'nope', attempt: 1, taskId }))
      .thenRejects('UnknownStep'));
  it('refuses a report for a finished workflow', () =>
    given(...running, event('WorkflowCancelled', { reason: 'x', requestedBy: 'U1', tasksToCancel: [taskId] }))
      .when(recordOutcomeUnknown())
      .thenRejects('WorkflowAlreadyFinished'));
});

describe('after the outcome became unknown', () => {
  const waiting = [...running, outcomeUnknown()];

  it('moves on when the task is resolved as completed', () =>
    given(...waiting)
      .when(recordCompleted('deploy', { id: '0Af' }))
      .then(stepCompleted('deploy', { id: '0Af' }), d.scheduled('report')));
  it('records the start of a re-run, with a new timeout', () =>
    given(...waiting)
      .when(recordStarted('deploy', 1, 'w2'))
      .then(stepStarted('deploy', 1, { workerId: 'w2', timesOutAt: minute(1) })));
  it('fails the step as usual when the task is resolved as failed (not retryable)', () => {
    const error = { code: 'OutcomeUnknown', message: 'marked as failed' };
    given(...waiting)
      .when(recordFailed('deploy', 1, { retryable: false, error }))
      .then(
        stepFailed('deploy', 1, { final: true, retryable: false, error }),
        workflowFailed({ cause: 'StepFailed', stepId: 'deploy', error, reason: 'step "deploy" failed (a non-retryable error): marked as failed' }),
      );
  });
  it('still times out the step when the timeout was already fired (the engine cancels the task first)', () =>
    given(...waiting)
      .when(recordTimedOut('deploy', 1, minute(2)))
      .then(
        stepFailed('deploy', 1, { error: { code: 'StepTimedOut', message: 'attempt 1 of step "deploy" timed out after 60000 ms' } }, minute(2)),
        d.retryScheduled('deploy', 2, 1_000, minute(2)),
      ));
  it('keeps the step active: cancelling the workflow names its task to cancel', () =>
    given(...waiting)
      .when(cancel())
      .then(event('WorkflowCancelled', { reason: 'not needed any more', requestedBy: 'U-req', tasksToCancel: [taskId] })));

  it('shows the step as outcomeUnknown, without a timeout', () => {
    const state = fold(workflowDecider, waiting) as Workflow;
    expect(state.steps.deploy).toMatchObject({ status: 'outcomeUnknown', attempt: 1 });
    expect(state.steps.deploy?.timesOutAt).toBeUndefined();
    expect(activeTaskIds(state)).toEqual([taskId]);
  });
});

describe('timers of a step whose outcome is unknown', () => {
  const timersAfter = (events: readonly WorkflowEvent[]): WorkflowTimers | undefined =>
    events.reduce<WorkflowTimers | undefined>((t, e, i) => nextTimers(t, e, i), undefined);

  it('drops the step timeout, so nothing re-runs the step, and keeps the workflow timeout', () => {
    expect(timersAfter(running)?.timers.map((t) => t.kind)).toEqual(['workflow-timeout', 'step-timeout']);
    expect(timersAfter([...running, outcomeUnknown()])?.timers).toEqual([{ kind: 'workflow-timeout', workflowId, dueAt: minute(60) }]);
  });

  it('arms a timeout again when a re-run starts', () => {
    const rerun = stepStarted('deploy', 1, { workerId: 'w2', timesOutAt: minute(5) });
    expect(timersAfter([...running, outcomeUnknown(), rerun])?.timers).toContainEqual({
      kind: 'step-timeout',
      workflowId,
      stepId: 'deploy',
      attempt: 1,
      taskId,
      dueAt: minute(5),
    });
  });
});

describe('parsing RecordStepOutcomeUnknown', () => {
  it('accepts it from the engine, and its event matches the published schema', () => {
    const parsed = parseWorkflowCommand({ type: 'RecordStepOutcomeUnknown', workflowId, at, stepId: 'deploy', attempt: 1, taskId });
    expect(isRight(parsed)).toBe(true);
    const decision = workflowDecider.decide(recordOutcomeUnknown(), fold(workflowDecider, running));
    if (isLeft(decision)) expect.fail(decision.left.message);
    for (const e of decision.right) expect(workflowEventSchemas[e.type].safeParse(e.data).success, e.type).toBe(true);
  });

  it('refuses a task id that cannot be a subject token', () => {
    const parsed = parseWorkflowCommand({ type: 'RecordStepOutcomeUnknown', workflowId, at, stepId: 'deploy', attempt: 1, taskId: 'W1.deploy' });
    expect(isLeft(parsed) && parsed.left.issues).toEqual([expect.stringMatching(/^taskId: /)]);
  });
});

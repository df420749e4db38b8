import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import {
  isFinished,
  parseTaskCommand,
  taskDecider,
  taskEventSchemas,
  type TaskCommand,
  type TaskCommandOf,
  type TaskEvent,
  type TaskEventData,
  type TaskEventOf,
} from '../../domain/task/index.ts';
import { specFor } from '../support/decider-spec.ts';

// At most once for side effects: a task whose executor may not run twice (a production deploy,
// code edits) never runs again on its own after an attempt ended without a known outcome.

const { given } = specFor(taskDecider);

// ── fixtures ────────────────────────────────────────────────────────────────
const taskId = 'T1';
const at = '2026-11-21T10:00:00.000Z';
const oneMinuteLater = '2026-11-21T10:01:00.000Z';
const workerFor = (attempt: number) => `worker-${attempt}`;
const deployJob = { deployJobId: '0Af5g00000ABCDE' };

const event = <K extends TaskEvent['type']>(type: K, data: Omit<TaskEventData<K>, 'taskId' | 'at'>): TaskEventOf<K> =>
  ({ type, data: { taskId, ...data, at } }) as TaskEventOf<K>;
const command = <K extends TaskCommand['type']>(type: K, fields: Omit<TaskCommandOf<K>, 'type' | 'taskId' | 'at'>): TaskCommandOf<K> =>
  ({ type, taskId, at, ...fields }) as TaskCommandOf<K>;

const taskQueued = (maxAttempts = 3) =>
  event('TaskQueued', {
    taskType: 'sf-deploy',
    pool: 'salesforce',
    priority: 'normal',
    payload: { mode: 'deploy' },
    maxAttempts,
    timeoutMs: 60_000,
    requestedBy: 'U123',
  });
const assigned = (attempt: number) => event('TaskAssigned', { attempt, workerId: workerFor(attempt), timesOutAt: oneMinuteLater });
const abandoned = (attempt: number) => event('TaskAttemptAbandoned', { attempt, workerId: workerFor(attempt), reason: 'worker went silent' });
const evidenceRecorded = (attempt: number, evidence: Record<string, string> = deployJob) => event('TaskAttemptEvidenceRecorded', { attempt, evidence });
const silentReason = (attempt: number) => `worker ${workerFor(attempt)} went silent during attempt ${attempt}; running the task again could repeat what it did`;
const outcomeUnknown = (attempt: number, evidence?: Record<string, string>, reason = silentReason(attempt)) =>
  event('TaskOutcomeUnknown', { attempt, workerId: workerFor(attempt), reason, ...(evidence && { evidence }) });
const timedOut = (attempt: number) => event('TaskTimedOut', { attempt, workerId: workerFor(attempt), timeoutMs: 60_000 });
const resolved = (
  attempt: number,
  resolution: 'rerun' | 'completed' | 'failed',
  extra: { via?: 'person' | 'check'; resolvedBy?: string; reason?: string } = {},
) =>
  event('TaskOutcomeResolved', {
    attempt,
    resolution,
    resolvedBy: extra.resolvedBy ?? 'U456',
    via: extra.via ?? 'person',
    ...(extra.reason !== undefined && { reason: extra.reason }),
  });
const retryScheduled = (nextAttempt: number, delayMs = 0, dueAt = at) => event('TaskRetryScheduled', { nextAttempt, dueAt, delayMs });
const completed = (attempt: number, result: unknown = null, durationMs = 0) =>
  event('TaskCompleted', { attempt, workerId: workerFor(attempt), result, durationMs });
const cancelled = () => event('TaskCancelled', { reason: 'no longer needed', requestedBy: 'U123', wasRunning: false });

const assignTask = (attempt: number, rerunSafe: boolean) => command('AssignTask', { attempt, workerId: workerFor(attempt), rerunSafe });
const timeOutTask = (attempt: number, rerunSafe: boolean) => command('TimeOutTask', { attempt, rerunSafe });
const recordEvidence = (attempt: number, evidence: Record<string, string> = deployJob) => command('RecordAttemptEvidence', { attempt, evidence });
const resolve = (
  resolution: 'rerun' | 'completed' | 'failed',
  extra: Partial<Omit<TaskCommandOf<'ResolveTaskOutcome'>, 'type' | 'taskId' | 'at' | 'resolution'>> = {},
) => command('ResolveTaskOutcome', { resolution, resolvedBy: 'U456', via: 'person', ...extra });
const cancelTask = () => command('CancelTask', { reason: 'no longer needed', requestedBy: 'U123' });

/** A deploy whose first worker went silent after it started the deploy job. */
const silentAfterStartingTheDeploy = [taskQueued(), assigned(1), evidenceRecorded(1), abandoned(1), outcomeUnknown(1, deployJob)];

// ── rules ───────────────────────────────────────────────────────────────────
describe('RecordAttemptEvidence', () => {
  it('records what the running attempt started outside', () => given(taskQueued(), assigned(1)).when(recordEvidence(1)).then(evidenceRecorded(1)));
  it('ignores the same evidence recorded again (a retried command)', () =>
    given(taskQueued(), assigned(1), evidenceRecorded(1)).when(recordEvidence(1)).thenNothing());
  it('records a new value for a key', () =>
    given(taskQueued(), assigned(1), evidenceRecorded(1))
      .when(recordEvidence(1, { deployJobId: '0Af-other' }))
      .then(evidenceRecorded(1, { deployJobId: '0Af-other' })));
  it('refuses evidence from an attempt that is no longer running', () =>
    given(taskQueued(), assigned(1), abandoned(1), assigned(2)).when(recordEvidence(1)).thenRejects('StaleAttempt'));
  it('refuses evidence before a worker took the task', () => given(taskQueued()).when(recordEvidence(1)).thenRejects('TaskNotStarted'));
  it('refuses evidence for a finished task', () => given(taskQueued(), assigned(1), completed(1)).when(recordEvidence(1)).thenRejects('TaskAlreadyFinished'));
});

describe('AssignTask after a silent worker', () => {
  it('abandons and reassigns a rerun-safe task as before', () =>
    given(taskQueued(), assigned(1))
      .when(assignTask(2, true))
      .then(abandoned(1), event('TaskAssigned', { attempt: 2, workerId: workerFor(2), timesOutAt: oneMinuteLater })));
  it('leaves an unsafe task with an unknown outcome, carrying the evidence, instead of running it again', () =>
    given(taskQueued(), assigned(1), evidenceRecorded(1)).when(assignTask(2, false)).then(abandoned(1), outcomeUnknown(1, deployJob)));
  it('leaves an unsafe task with an unknown outcome even without evidence', () =>
    given(taskQueued(), assigned(1)).when(assignTask(2, false)).then(abandoned(1), outcomeUnknown(1)));
  it('does not exhaust the attempts of an unsafe task: its outcome is unknown, not failed', () =>
    given(taskQueued(1), assigned(1)).when(assignTask(2, false)).then(abandoned(1), outcomeUnknown(1)));
  it('assigns an unsafe task that no worker is running', () =>
    given(taskQueued())
      .when(assignTask(1, false))
      .then(event('TaskAssigned', { attempt: 1, workerId: workerFor(1), timesOutAt: oneMinuteLater })));
  it('refuses any further delivery while the outcome is unknown', () =>
    given(...silentAfterStartingTheDeploy)
      .when(assignTask(3, false))
      .thenRejects('OutcomeUnknown'));
  it('refuses a rerun-safe claim too while the outcome is unknown', () =>
    given(...silentAfterStartingTheDeploy)
      .when(assignTask(3, true))
      .thenRejects('OutcomeUnknown'));
});

describe('TimeOutTask of an unsafe task', () => {
  it('records the timeout and leaves the outcome unknown instead of scheduling a retry', () =>
    given(taskQueued(), assigned(1), evidenceRecorded(1))
      .when(timeOutTask(1, false))
      .then(timedOut(1), outcomeUnknown(1, deployJob, 'attempt 1 timed out after 60000 ms and was stopped; what it started outside may still have happened')));
  it('still retries a rerun-safe task', () =>
    given(taskQueued(), assigned(1))
      .when(timeOutTask(1, true))
      .then(timedOut(1), retryScheduled(2, 1_000, '2026-11-21T10:00:01.000Z')));
  it('ignores the same timeout fired twice', () => given(taskQueued(), assigned(1), timedOut(1), outcomeUnknown(1)).when(timeOutTask(1, false)).thenNothing());
});

describe('ResolveTaskOutcome', () => {
  it('runs the task again when a person asks for it, at once', () =>
    given(...silentAfterStartingTheDeploy)
      .when(resolve('rerun'))
      .then(resolved(1, 'rerun'), retryScheduled(2)));
  it('allows a re-run past maxAttempts, and assigns it', () => {
    const history = [taskQueued(1), assigned(1), abandoned(1), outcomeUnknown(1), resolved(1, 'rerun'), retryScheduled(2)];
    given(...history)
      .when(assignTask(2, false))
      .then(event('TaskAssigned', { attempt: 2, workerId: workerFor(2), timesOutAt: oneMinuteLater }));
  });
  it('completes the task with the result a check found', () =>
    given(...silentAfterStartingTheDeploy)
      .when(resolve('completed', { via: 'check', resolvedBy: 'worker:w-2', result: { status: 'Succeeded' } }))
      .then(resolved(1, 'completed', { via: 'check', resolvedBy: 'worker:w-2' }), completed(1, { status: 'Succeeded' })));
  it('completes with a null result when none is given', () =>
    given(...silentAfterStartingTheDeploy)
      .when(resolve('completed'))
      .then(resolved(1, 'completed'), completed(1, null)));
  it('fails the task for good, with the reason given', () =>
    given(...silentAfterStartingTheDeploy)
      .when(resolve('failed', { reason: 'deploy 0Af… failed: 2 components' }))
      .then(
        resolved(1, 'failed', { reason: 'deploy 0Af… failed: 2 components' }),
        event('TaskFailed', { attempt: 1, error: { code: 'OutcomeUnknown', message: 'deploy 0Af… failed: 2 components' }, retryable: false, final: true }),
      ));
  it('fails the task for good with a default reason', () =>
    given(...silentAfterStartingTheDeploy)
      .when(resolve('failed'))
      .then(
        resolved(1, 'failed'),
        event('TaskFailed', { attempt: 1, error: { code: 'OutcomeUnknown', message: 'marked as failed' }, retryable: false, final: true }),
      ));
  it('resolves the unknown outcome of a timed-out attempt', () =>
    given(taskQueued(), assigned(1), timedOut(1), outcomeUnknown(1)).when(resolve('rerun')).then(resolved(1, 'rerun'), retryScheduled(2)));
  it('ignores the same resolution repeated (a second click)', () =>
    given(...silentAfterStartingTheDeploy, resolved(1, 'completed'), completed(1))
      .when(resolve('completed'))
      .thenNothing());
  it('ignores a repeated re-run while it runs', () =>
    given(...silentAfterStartingTheDeploy, resolved(1, 'rerun'), retryScheduled(2), assigned(2))
      .when(resolve('rerun'))
      .thenNothing());
  it('refuses a different resolution once resolved', () =>
    given(...silentAfterStartingTheDeploy, resolved(1, 'completed'), completed(1))
      .when(resolve('failed'))
      .thenRejects('OutcomeAlreadyKnown'));
  it('refuses to resolve a task whose outcome is known', () => given(taskQueued(), assigned(1)).when(resolve('rerun')).thenRejects('OutcomeAlreadyKnown'));
  it('refuses to resolve a completed task', () =>
    given(taskQueued(), assigned(1), completed(1, { ok: true }, 5))
      .when(resolve('completed'))
      .thenRejects('OutcomeAlreadyKnown'));
  it('refuses to resolve a task that was never queued', () => given().when(resolve('rerun')).thenRejects('TaskNotFound'));
});

describe('the silent worker reports after all', () => {
  const lateReason = 'the worker of the attempt reported its outcome after all';
  it("resolves the unknown outcome with the attempt's completion", () =>
    given(...silentAfterStartingTheDeploy)
      .when(command('CompleteTask', { attempt: 1, result: { status: 'Succeeded' }, durationMs: 9_000 }))
      .then(resolved(1, 'completed', { via: 'check', resolvedBy: 'worker:worker-1', reason: lateReason }), completed(1, { status: 'Succeeded' }, 9_000)));
  it('resolves it with its failure, for good (never retried on its own)', () =>
    given(...silentAfterStartingTheDeploy)
      .when(command('FailTask', { attempt: 1, error: { code: 'SalesforceUnreachable', message: 'socket hang up' }, retryable: true }))
      .then(
        resolved(1, 'failed', { via: 'check', resolvedBy: 'worker:worker-1', reason: lateReason }),
        event('TaskFailed', { attempt: 1, error: { code: 'SalesforceUnreachable', message: 'socket hang up' }, retryable: false, final: true }),
      ));
  it('tells it to go on rather than stop when it reports progress', () =>
    given(...silentAfterStartingTheDeploy)
      .when(command('ReportProgress', { attempt: 1, stage: 'run', percent: 50 }))
      .thenRejects('OutcomeUnknown'));
  it('records more evidence from it, for whoever checks', () => {
    const more = { deployJobId: '0Af5g00000ABCDE', testRunId: '707000000000001' };
    given(...silentAfterStartingTheDeploy)
      .when(recordEvidence(1, more))
      .then(evidenceRecorded(1, more));
    expect(fold(taskDecider, [...silentAfterStartingTheDeploy, evidenceRecorded(1, more)])).toMatchObject({ outcomeUnknown: { attempt: 1, evidence: more } });
  });
  it('is too late once someone resolved it', () =>
    given(...silentAfterStartingTheDeploy, resolved(1, 'rerun'), retryScheduled(2))
      .when(command('CompleteTask', { attempt: 1, result: null, durationMs: 1 }))
      .thenRejects('StaleAttempt'));
});

describe('CancelTask of an unknown outcome', () => {
  it('cancels it as a task nobody runs', () =>
    given(...silentAfterStartingTheDeploy)
      .when(cancelTask())
      .then(cancelled()));
  it('refuses a resolution after the cancellation', () =>
    given(...silentAfterStartingTheDeploy, cancelled())
      .when(resolve('rerun'))
      .thenRejects('OutcomeAlreadyKnown'));
});

// ── state ───────────────────────────────────────────────────────────────────
describe('task state with an unknown outcome', () => {
  it('is open but run by nobody, and keeps the evidence on the attempt', () => {
    const state = fold(taskDecider, silentAfterStartingTheDeploy);
    expect(isFinished(state)).toBe(false);
    expect(state).toMatchObject({
      status: 'outcomeUnknown',
      attempt: 1,
      attempts: [{ attempt: 1, outcome: 'abandoned', evidence: deployJob }],
      outcomeUnknown: { attempt: 1, workerId: 'worker-1', evidence: deployJob },
    });
  });

  it('is running again after a re-run, and completed after a resolution', () => {
    expect(fold(taskDecider, [...silentAfterStartingTheDeploy, resolved(1, 'rerun'), retryScheduled(2), assigned(2)])).toMatchObject({
      status: 'running',
      attempt: 2,
    });
    const done = fold(taskDecider, [...silentAfterStartingTheDeploy, resolved(1, 'completed'), completed(1)]);
    expect(done).toMatchObject({ status: 'completed', resolved: { attempt: 1, resolution: 'completed' } });
    expect(done).not.toHaveProperty('outcomeUnknown', expect.anything());
  });

  it('emits only events that match their published schemas', () => {
    const commands: TaskCommand[] = [
      command('QueueTask', {
        taskType: 'sf-deploy',
        pool: 'salesforce',
        priority: 'normal',
        payload: {},
        maxAttempts: 1,
        timeoutMs: 60_000,
        requestedBy: 'U1',
      }),
      assignTask(1, false),
      recordEvidence(1),
      assignTask(2, false),
      resolve('rerun', { reason: 'checked by hand: nothing deployed' }),
      assignTask(2, false),
      timeOutTask(2, false),
      resolve('completed', { via: 'check', resolvedBy: 'worker:w', result: { id: 'x' } }),
    ];
    let current = taskDecider.initialState();
    const emitted: TaskEvent[] = [];
    for (const c of commands) {
      const result = taskDecider.decide(c, current);
      if (isLeft(result)) expect.fail(`${c.type} was rejected: ${result.left.message}`);
      emitted.push(...result.right);
      current = result.right.reduce(taskDecider.evolve, current);
    }
    expect(emitted.map((e) => e.type)).toEqual([
      'TaskQueued',
      'TaskAssigned',
      'TaskAttemptEvidenceRecorded',
      'TaskAttemptAbandoned',
      'TaskOutcomeUnknown',
      'TaskOutcomeResolved',
      'TaskRetryScheduled',
      'TaskAssigned',
      'TaskTimedOut',
      'TaskOutcomeUnknown',
      'TaskOutcomeResolved',
      'TaskCompleted',
    ]);
    for (const e of emitted) expect(taskEventSchemas[e.type].safeParse(e.data).success, e.type).toBe(true);
    expect(current).toMatchObject({ status: 'completed', attempt: 2 });
  });
});

// ── boundary ────────────────────────────────────────────────────────────────
describe('parsing the new commands', () => {
  it('treats AssignTask and TimeOutTask without rerunSafe as safe to re-run (old callers)', () => {
    const assign = parseTaskCommand({ type: 'AssignTask', taskId, at, workerId: 'w1', attempt: 1 });
    expect(isRight(assign) && assign.right).toMatchObject({ rerunSafe: true });
    const timeout = parseTaskCommand({ type: 'TimeOutTask', taskId, at, attempt: 1 });
    expect(isRight(timeout) && timeout.right).toMatchObject({ rerunSafe: true });
  });

  it('refuses a resolution it does not know, or from nobody', () => {
    const result = parseTaskCommand({ type: 'ResolveTaskOutcome', taskId, at, resolution: 'retry', resolvedBy: '', via: 'person' });
    expect(isLeft(result) && result.left.issues).toEqual([expect.stringMatching(/^resolution: /), expect.stringMatching(/^resolvedBy: /)]);
  });

  it('refuses evidence that is not a map of strings', () => {
    const result = parseTaskCommand({ type: 'RecordAttemptEvidence', taskId, at, attempt: 1, evidence: { deployJobId: 42 } });
    expect(isLeft(result) && result.left.issues).toEqual([expect.stringMatching(/^evidence\.deployJobId: /)]);
  });
});

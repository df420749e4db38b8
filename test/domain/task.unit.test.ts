import { isLeft, isRight, type Either } from 'fp-ts/lib/Either.js';
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
  type TaskState,
} from '../../domain/task/index.ts';
import { specFor } from '../support/decider-spec.ts';

const { given } = specFor(taskDecider);

// ── fixtures ────────────────────────────────────────────────────────────────
const taskId = 'T1';
const at = '2026-11-21T10:00:00.000Z';
const oneSecondLater = '2026-11-21T10:00:01.000Z';
const oneMinuteLater = '2026-11-21T10:01:00.000Z';
const workerFor = (attempt: number) => `worker-${attempt}`;

const event = <K extends TaskEvent['type']>(type: K, data: Omit<TaskEventData<K>, 'taskId' | 'at'>): TaskEventOf<K> =>
  ({ type, data: { taskId, ...data, at } }) as TaskEventOf<K>;
const command = <K extends TaskCommand['type']>(type: K, fields: Omit<TaskCommandOf<K>, 'type' | 'taskId' | 'at'>): TaskCommandOf<K> =>
  ({ type, taskId, at, ...fields }) as TaskCommandOf<K>;

const queueFields = {
  taskType: 'analyze-codebase',
  pool: 'local-ops',
  priority: 'normal',
  payload: { repo: 'acme' },
  maxAttempts: 3,
  timeoutMs: 60_000,
  replyTo: { kind: 'slack', channel: 'C1', threadTs: '1732183200.000100' },
  conversationId: 'C1-1732183200_000100',
  requestedBy: 'U123',
} as const;

const taskQueued = (overrides: Partial<TaskEventData<'TaskQueued'>> = {}) => event('TaskQueued', { ...queueFields, ...overrides });
const assigned = (attempt: number, workerId = workerFor(attempt)) => event('TaskAssigned', { attempt, workerId, timesOutAt: oneMinuteLater });
const abandoned = (attempt: number) => event('TaskAttemptAbandoned', { attempt, workerId: workerFor(attempt), reason: 'worker went silent' });
const progressed = (attempt: number, percent: number, stage = 'scan') => event('TaskProgressed', { attempt, stage, percent });
const completed = (attempt: number) => event('TaskCompleted', { attempt, workerId: workerFor(attempt), result: { files: 42 }, durationMs: 1_500 });
const boom = { code: 'ExitCode', message: 'npm test exited with 1' };
const failed = (attempt: number, { retryable = true, final = false, error = boom } = {}) => event('TaskFailed', { attempt, error, retryable, final });
const retryScheduled = (nextAttempt: number, delayMs: number, dueAt: string) => event('TaskRetryScheduled', { nextAttempt, dueAt, delayMs });
const timedOut = (attempt: number) => event('TaskTimedOut', { attempt, workerId: workerFor(attempt), timeoutMs: 60_000 });
const cancelled = (running?: number) =>
  event('TaskCancelled', {
    reason: 'no longer needed',
    requestedBy: 'U123',
    wasRunning: running !== undefined,
    ...(running !== undefined && { attempt: running, workerId: workerFor(running) }),
  });

const queueTask = () => command('QueueTask', queueFields);
const assignTask = (attempt: number, workerId = workerFor(attempt), rerunSafe = true) => command('AssignTask', { attempt, workerId, rerunSafe });
const reportProgress = (attempt: number, percent: number, stage = 'scan') => command('ReportProgress', { attempt, stage, percent });
const completeTask = (attempt: number) => command('CompleteTask', { attempt, result: { files: 42 }, durationMs: 1_500 });
const failTask = (attempt: number, { retryable = true, retryDelayMs }: { retryable?: boolean; retryDelayMs?: number } = {}) =>
  command('FailTask', { attempt, error: boom, retryable, ...(retryDelayMs !== undefined && { retryDelayMs }) });
const timeOutTask = (attempt: number, rerunSafe = true) => command('TimeOutTask', { attempt, rerunSafe });
const cancelTask = () => command('CancelTask', { reason: 'no longer needed', requestedBy: 'U123' });

// ── rules ───────────────────────────────────────────────────────────────────
describe('QueueTask', () => {
  it('queues a new task', () => given().when(queueTask()).then(taskQueued()));
  it('refuses a task id that was already queued', () => given(taskQueued()).when(queueTask()).thenRejects('TaskAlreadyExists'));
});

describe('AssignTask', () => {
  it('assigns a queued task to the worker that took it, with its timeout due', () => given(taskQueued()).when(assignTask(1)).then(assigned(1)));
  it('ignores the same assignment repeated', () => given(taskQueued(), assigned(1)).when(assignTask(1)).thenNothing());
  it('refuses a second worker claiming the running attempt', () =>
    given(taskQueued(), assigned(1)).when(assignTask(1, 'worker-9')).thenRejects('AttemptAssignedToAnotherWorker'));
  it('abandons a silent worker when the queue redelivers', () =>
    given(taskQueued(), assigned(1), progressed(1, 30)).when(assignTask(2)).then(abandoned(1), assigned(2)));
  it('fails the task for good when a redelivery exceeds maxAttempts', () =>
    given(taskQueued({ maxAttempts: 2 }), assigned(1), abandoned(1), assigned(2))
      .when(assignTask(3))
      .then(
        abandoned(2),
        failed(3, { retryable: false, final: true, error: { code: 'AttemptsExhausted', message: 'delivery 3 exceeds the 2 attempts allowed' } }),
      ));
  it('assigns the scheduled retry', () =>
    given(taskQueued(), assigned(1), failed(1), retryScheduled(2, 1000, oneSecondLater))
      .when(assignTask(2))
      .then(assigned(2)));
  it('refuses an older attempt', () => given(taskQueued(), assigned(1), abandoned(1), assigned(2)).when(assignTask(1)).thenRejects('StaleAttempt'));
  it('refuses the failed attempt once its retry is scheduled', () =>
    given(taskQueued(), assigned(1), failed(1), retryScheduled(2, 1000, oneSecondLater))
      .when(assignTask(1))
      .thenRejects('StaleAttempt'));
  it('refuses a finished task', () => given(taskQueued(), assigned(1), completed(1)).when(assignTask(2)).thenRejects('TaskAlreadyFinished'));
  it('refuses a cancelled task', () => given(taskQueued(), cancelled()).when(assignTask(1)).thenRejects('TaskCancelled'));
  it('refuses a task that was never queued', () => given().when(assignTask(1)).thenRejects('TaskNotFound'));
});

describe('ReportProgress', () => {
  it('records progress of the running attempt', () => given(taskQueued(), assigned(1)).when(reportProgress(1, 40)).then(progressed(1, 40)));
  it('keeps details and counters', () =>
    given(taskQueued(), assigned(1))
      .when(command('ReportProgress', { attempt: 1, stage: 'scan', percent: 40, details: 'src/', counters: { files: 12 } }))
      .then(event('TaskProgressed', { attempt: 1, stage: 'scan', percent: 40, details: 'src/', counters: { files: 12 } })));
  it('allows the same percent in a new stage', () =>
    given(taskQueued(), assigned(1), progressed(1, 40))
      .when(reportProgress(1, 40, 'count'))
      .then(progressed(1, 40, 'count')));
  it('refuses progress that goes backwards', () =>
    given(taskQueued(), assigned(1), progressed(1, 40)).when(reportProgress(1, 30)).thenRejects('ProgressWentBackwards'));
  it('starts again from nothing in a new attempt', () =>
    given(taskQueued(), assigned(1), progressed(1, 80), abandoned(1), assigned(2)).when(reportProgress(2, 10)).then(progressed(2, 10)));
  it('refuses progress from an abandoned attempt', () =>
    given(taskQueued(), assigned(1), abandoned(1), assigned(2)).when(reportProgress(1, 90)).thenRejects('StaleAttempt'));
  it('refuses progress before a worker took the task', () => given(taskQueued()).when(reportProgress(1, 10)).thenRejects('TaskNotStarted'));
  it('refuses progress on a finished task', () =>
    given(taskQueued(), assigned(1), completed(1)).when(reportProgress(1, 100)).thenRejects('TaskAlreadyFinished'));
  it('tells a worker still running a cancelled task', () =>
    given(taskQueued(), assigned(1), cancelled(1)).when(reportProgress(1, 50)).thenRejects('TaskCancelled'));
  it('refuses progress on an unknown task', () => given().when(reportProgress(1, 10)).thenRejects('TaskNotFound'));
});

describe('CompleteTask', () => {
  it('completes the running attempt', () => given(taskQueued(), assigned(1), progressed(1, 90)).when(completeTask(1)).then(completed(1)));
  it('ignores the same completion repeated', () => given(taskQueued(), assigned(1), completed(1)).when(completeTask(1)).thenNothing());
  it('refuses a completion from another attempt of a completed task', () =>
    given(taskQueued(), assigned(1), abandoned(1), assigned(2), completed(2)).when(completeTask(1)).thenRejects('TaskAlreadyFinished'));
  it('refuses a completion from an abandoned attempt', () =>
    given(taskQueued(), assigned(1), abandoned(1), assigned(2)).when(completeTask(1)).thenRejects('StaleAttempt'));
  it('refuses a completion before a worker took the task', () => given(taskQueued()).when(completeTask(1)).thenRejects('TaskNotStarted'));
  it('refuses a completion of a cancelled task', () => given(taskQueued(), assigned(1), cancelled(1)).when(completeTask(1)).thenRejects('TaskCancelled'));
});

describe('FailTask', () => {
  it('schedules the next attempt after a retryable failure, one second later by default', () =>
    given(taskQueued(), assigned(1))
      .when(failTask(1))
      .then(failed(1), retryScheduled(2, 1_000, oneSecondLater)));
  it('doubles the default delay with each attempt', () =>
    given(taskQueued(), assigned(1), failed(1), retryScheduled(2, 1_000, oneSecondLater), assigned(2))
      .when(failTask(2))
      .then(failed(2), retryScheduled(3, 2_000, '2026-11-21T10:00:02.000Z')));
  it("uses the caller's delay (backoff with jitter)", () =>
    given(taskQueued(), assigned(1))
      .when(failTask(1, { retryDelayMs: 1_337 }))
      .then(failed(1), retryScheduled(2, 1_337, '2026-11-21T10:00:01.337Z')));
  it('fails for good when the error is not retryable', () =>
    given(taskQueued(), assigned(1))
      .when(failTask(1, { retryable: false }))
      .then(failed(1, { retryable: false, final: true })));
  it('fails for good when the last attempt fails', () =>
    given(taskQueued({ maxAttempts: 1 }), assigned(1))
      .when(failTask(1))
      .then(failed(1, { retryable: true, final: true })));
  it('ignores the same failure repeated', () =>
    given(taskQueued(), assigned(1), failed(1), retryScheduled(2, 1000, oneSecondLater))
      .when(failTask(1))
      .thenNothing());
  it('refuses a failure from an older attempt', () =>
    given(taskQueued(), assigned(1), abandoned(1), assigned(2)).when(failTask(1)).thenRejects('StaleAttempt'));
  it('refuses a failure of a completed task', () => given(taskQueued(), assigned(1), completed(1)).when(failTask(1)).thenRejects('TaskAlreadyFinished'));
});

describe('TimeOutTask', () => {
  it('retries a timed-out attempt like a retryable failure', () =>
    given(taskQueued(), assigned(1))
      .when(timeOutTask(1))
      .then(timedOut(1), retryScheduled(2, 1_000, oneSecondLater)));
  it('fails for good when the last attempt times out', () =>
    given(taskQueued({ maxAttempts: 1 }), assigned(1))
      .when(timeOutTask(1))
      .then(
        timedOut(1),
        failed(1, { retryable: true, final: true, error: { code: 'TimedOut', message: 'attempt 1 of 1 timed out after 60000 ms; no attempts left' } }),
      ));
  it('ignores the same timeout fired twice', () =>
    given(taskQueued(), assigned(1), timedOut(1), retryScheduled(2, 1000, oneSecondLater))
      .when(timeOutTask(1))
      .thenNothing());
  it('refuses a timeout of an attempt that already completed', () =>
    given(taskQueued(), assigned(1), completed(1)).when(timeOutTask(1)).thenRejects('TaskAlreadyFinished'));
  it('refuses a timeout of a superseded attempt', () =>
    given(taskQueued(), assigned(1), abandoned(1), assigned(2)).when(timeOutTask(1)).thenRejects('StaleAttempt'));
});

describe('CancelTask', () => {
  it('cancels a running task, naming the attempt and worker to stop', () => given(taskQueued(), assigned(1)).when(cancelTask()).then(cancelled(1)));
  it('cancels a queued task', () => given(taskQueued()).when(cancelTask()).then(cancelled()));
  it('cancels a task waiting for its retry', () =>
    given(taskQueued(), assigned(1), failed(1), retryScheduled(2, 1000, oneSecondLater))
      .when(cancelTask())
      .then(cancelled()));
  it('ignores cancelling a cancelled task', () => given(taskQueued(), cancelled()).when(cancelTask()).thenNothing());
  it('refuses cancelling a completed task', () => given(taskQueued(), assigned(1), completed(1)).when(cancelTask()).thenRejects('TaskAlreadyFinished'));
  it('refuses cancelling a task that failed for good', () =>
    given(taskQueued(), assigned(1), failed(1, { retryable: false, final: true }))
      .when(cancelTask())
      .thenRejects('TaskAlreadyFinished'));
  it('refuses cancelling an unknown task', () => given().when(cancelTask()).thenRejects('TaskNotFound'));
});

// ── state ───────────────────────────────────────────────────────────────────
describe('task state', () => {
  const state = (...events: TaskEvent[]): TaskState => fold(taskDecider, events);

  it('folds a realistic history: a silent worker, a timeout, a failure and a success', () => {
    const history = [
      taskQueued(),
      assigned(1),
      progressed(1, 30),
      abandoned(1),
      assigned(2),
      progressed(2, 50),
      timedOut(2),
      retryScheduled(3, 2_000, '2026-11-21T10:00:02.000Z'),
      assigned(3),
      progressed(3, 100, 'report'),
      completed(3),
    ];
    expect(state(...history)).toEqual({
      status: 'completed',
      taskId,
      taskType: 'analyze-codebase',
      pool: 'local-ops',
      priority: 'normal',
      maxAttempts: 3,
      timeoutMs: 60_000,
      requestedBy: 'U123',
      payload: { repo: 'acme' },
      queuedAt: at,
      replyTo: queueFields.replyTo,
      conversationId: queueFields.conversationId,
      attempt: 3,
      attempts: [
        { attempt: 1, workerId: 'worker-1', assignedAt: at, timesOutAt: oneMinuteLater, outcome: 'abandoned', progress: { stage: 'scan', percent: 30, at } },
        { attempt: 2, workerId: 'worker-2', assignedAt: at, timesOutAt: oneMinuteLater, outcome: 'timedOut', progress: { stage: 'scan', percent: 50, at } },
        { attempt: 3, workerId: 'worker-3', assignedAt: at, timesOutAt: oneMinuteLater, outcome: 'completed', progress: { stage: 'report', percent: 100, at } },
      ],
      finishedAt: at,
    });
  });

  it('waits for the retry between attempts', () => {
    expect(state(taskQueued(), assigned(1), failed(1), retryScheduled(2, 1_000, oneSecondLater))).toMatchObject({
      status: 'retryScheduled',
      attempt: 1,
      retry: { nextAttempt: 2, dueAt: oneSecondLater },
    });
  });

  it('records why a task failed for good or was cancelled', () => {
    expect(state(taskQueued(), assigned(1), failed(1, { retryable: false, final: true }))).toMatchObject({ status: 'failed', error: boom });
    expect(state(taskQueued(), assigned(1), cancelled(1))).toMatchObject({
      status: 'cancelled',
      cancellation: { reason: 'no longer needed', requestedBy: 'U123' },
      attempts: [{ attempt: 1, outcome: 'cancelled' }],
    });
  });

  it('is finished once completed, failed for good or cancelled', () => {
    expect(isFinished(state())).toBe(false);
    expect(isFinished(state(taskQueued()))).toBe(false);
    expect(isFinished(state(taskQueued(), assigned(1)))).toBe(false);
    expect(isFinished(state(taskQueued(), assigned(1), failed(1), retryScheduled(2, 1_000, oneSecondLater)))).toBe(false);
    expect(isFinished(state(taskQueued(), assigned(1), completed(1)))).toBe(true);
    expect(isFinished(state(taskQueued(), assigned(1), failed(1, { final: true })))).toBe(true);
    expect(isFinished(state(taskQueued(), cancelled()))).toBe(true);
  });

  it('emits only events that match their published schemas', () => {
    const commands: TaskCommand[] = [
      queueTask(),
      assignTask(1),
      reportProgress(1, 20),
      assignTask(2),
      command('ReportProgress', { attempt: 2, stage: 'scan', percent: 40, details: 'src/', counters: { files: 3 } }),
      timeOutTask(2),
      assignTask(3),
      failTask(3),
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
      'TaskProgressed',
      'TaskAttemptAbandoned',
      'TaskAssigned',
      'TaskProgressed',
      'TaskTimedOut',
      'TaskRetryScheduled',
      'TaskAssigned',
      'TaskFailed',
    ]);
    for (const e of emitted) expect(taskEventSchemas[e.type].safeParse(e.data).success, e.type).toBe(true);
    expect(current).toMatchObject({ status: 'failed', attempt: 3, error: boom });
  });
});

// ── boundary ────────────────────────────────────────────────────────────────
describe('parseTaskCommand', () => {
  const problems = (result: Either<{ message: string; issues: readonly string[] }, unknown>): readonly string[] =>
    isLeft(result) ? result.left.issues : expect.fail('expected the command to be refused');

  it('accepts a command from outside and fills in the defaults', () => {
    const result = parseTaskCommand({
      type: 'QueueTask',
      taskId,
      at,
      taskType: 'git-status',
      pool: 'local-ops',
      payload: {},
      timeoutMs: 30_000,
      requestedBy: 'U1',
    });
    expect(isRight(result) && result.right).toMatchObject({ type: 'QueueTask', taskId, priority: 'normal', maxAttempts: 3 });
  });

  it('refuses an unknown command type, naming the known ones', () => {
    const result = parseTaskCommand({ type: 'DeleteTask', taskId, at });
    expect(isLeft(result) && result.left.code).toBe('InvalidCommand');
    expect(problems(result)).toEqual([expect.stringMatching(/^type: unknown command type "DeleteTask"; expected one of QueueTask, AssignTask, .*CancelTask$/)]);
  });

  it('refuses something that is not a command object', () => {
    expect(problems(parseTaskCommand('QueueTask'))).toEqual(['command: must be an object with a "type"']);
    expect(problems(parseTaskCommand(null))).toHaveLength(1);
  });

  it('refuses an id that cannot be a subject token', () => {
    expect(problems(parseTaskCommand({ type: 'CancelTask', taskId: 'task.1', at, reason: 'x', requestedBy: 'U1' }))).toEqual([
      'taskId: must be 1-200 characters with no ".", "*", ">" or white space',
    ]);
  });

  it('names every problem at once, with the field it is in', () => {
    const result = parseTaskCommand({ type: 'ReportProgress', taskId, at: 'yesterday', attempt: 0, stage: 'scan', percent: 150 });
    expect(problems(result)).toEqual([
      expect.stringMatching(/^at: must be an ISO-8601 date-time/),
      expect.stringMatching(/^attempt: Too small/),
      expect.stringMatching(/^percent: Too big: expected number to be <=100$/),
    ]);
    expect(isLeft(result) && result.left.message).toMatch(/^invalid command: at: .*; attempt: .*; percent: /);
  });

  it('checks nested fields and limits', () => {
    const base = { type: 'QueueTask', taskId, at, taskType: 'deploy', pool: 'salesforce', payload: {}, timeoutMs: 1_000, requestedBy: 'U1' };
    expect(problems(parseTaskCommand({ ...base, maxAttempts: 11 }))).toEqual([expect.stringMatching(/^maxAttempts: Too big/)]);
    expect(problems(parseTaskCommand({ ...base, priority: 'urgent' }))).toEqual([expect.stringMatching(/^priority: /)]);
    expect(problems(parseTaskCommand({ ...base, replyTo: { kind: 'webhook', url: 'javascript:alert(1)' } }))).toEqual(['replyTo.url: must be an http(s) URL']);
    expect(problems(parseTaskCommand({ ...base, replyTo: { kind: 'nats', subject: 'orch.results.>' } }))).toEqual([
      expect.stringMatching(/^replyTo.subject: /),
    ]);
  });
});

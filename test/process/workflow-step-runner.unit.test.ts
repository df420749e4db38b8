import { describe, expect, it } from 'vitest';
import { runManager, type CommandIntent } from '../../domain/process/process-manager.ts';
import { STEP_TIMEOUT, workflowStepRunner, type StepRunnerConfig, type StepRunnerInput } from '../../domain/process/workflow-step-runner.ts';
import { event, minute, requester, stepStarted, workflowCompleted, workflowFailed } from '../domain/workflow-fixtures.ts';
import { managerSpecFor } from '../support/manager-spec.ts';
import { accepted, answered, due, onTask, recorded, rejected, routes, taskIdOf, wf, workflowId } from './step-runner-fixtures.ts';

// The workflow step runner as a specification: scheduled steps become tasks (or fail before they
// run), task outcomes become step results, endings cancel what still runs, and timers fire the
// commands they stand for.

const config: StepRunnerConfig = {
  routeTask: routes,
  rerunSafe: (taskType) => taskType !== 'sf-deploy',
  classify: (taskType) => (taskType === 'sf-deploy' ? 'deploy' : 'read-only'),
};
const runner = workflowStepRunner(config);
const { given } = managerSpecFor(runner);

const started = recorded(wf.started({ conversationId: 'conv-1' }));
const buildScheduled = recorded(wf.scheduled('build'));
const build = taskIdOf('build');

const queueBuild: CommandIntent = {
  kind: 'command',
  category: 'task',
  id: build,
  commandId: `queue-${build}`,
  type: 'QueueTask',
  wantsReply: true,
  data: {
    taskType: 'run-tests',
    pool: 'local',
    payload: { repository: 'acme' },
    timeoutMs: 60_000,
    maxAttempts: 1,
    workflowId,
    stepId: 'build',
    requestedBy: requester,
    conversationId: 'conv-1',
  },
};
/** Part of an intent, for `thenSends` (which compares with toMatchObject). */
const like = (partial: object) => partial as never;
const toWorkflow = (commandId: string, type: string, data: object) =>
  ({ kind: 'command', category: 'workflow', id: workflowId, commandId, type, data }) as CommandIntent;

describe('the workflow step runner: scheduled steps', () => {
  it('queues a scheduled step as a task of one attempt, on its route, for the requester and the conversation', () => {
    given(started).when(buildScheduled).then(queueBuild);
  });

  it("takes the step's own pool and timeout over the route's", () => {
    const custom = recorded(
      event('StepScheduled', {
        stepId: 'build',
        attempt: 1,
        taskId: build,
        taskType: 'run-tests',
        pool: 'big',
        timeoutMs: 5_000,
        params: {},
        dryRun: false,
        visit: 1,
      }),
    );
    given(started)
      .when(custom)
      .thenSends(like({ type: 'QueueTask', data: { pool: 'big', timeoutMs: 5_000 } }));
  });

  it('records a dry run as completed with what it would have run, and queues nothing', () => {
    given(started)
      .when(recorded(wf.scheduled('deploy', { dryRun: true })))
      .then(
        toWorkflow(`dry-run-${taskIdOf('deploy')}`, 'RecordStepCompleted', {
          stepId: 'deploy',
          attempt: 1,
          output: { dryRun: true, wouldRun: { taskType: 'sf-deploy', params: { repository: 'acme' } } },
        }),
      );
  });

  it('given StepScheduled of an unknown task type, then RecordStepFailed(UnknownTaskType)', () => {
    given(started)
      .when(recorded(wf.scheduled('ghost')))
      .then(
        toWorkflow(`no-route-${taskIdOf('ghost')}`, 'RecordStepFailed', {
          stepId: 'ghost',
          attempt: 1,
          error: { code: 'UnknownTaskType', message: 'no worker pool runs analyze-codebase tasks here' },
          retryable: false,
        }),
      );
  });

  it('fails a step that says it has no side effects while its executor changes things (UndeclaredSideEffect)', () => {
    const understated = recorded(
      event('StepScheduled', {
        stepId: 'deploy',
        attempt: 1,
        taskId: taskIdOf('deploy'),
        taskType: 'sf-deploy',
        params: {},
        dryRun: false,
        sideEffects: false,
        visit: 1,
      }),
    );
    given(started)
      .when(understated)
      .thenSends(
        like({
          commandId: `undeclared-side-effect-${taskIdOf('deploy')}`,
          type: 'RecordStepFailed',
          data: { error: { code: 'UndeclaredSideEffect' }, retryable: false },
        }),
      );
  });

  it('runs a side-effecting step declared as such (its gate guarded it)', () => {
    given(started)
      .when(recorded(wf.scheduled('deploy')))
      .thenSends({ type: 'QueueTask', id: taskIdOf('deploy') });
  });

  it("fails the step with the door's reason when the task is refused at the door", () => {
    given(started, buildScheduled)
      .when(answered(queueBuild, rejected('OutsideWorkspace', 'paths must stay inside the workspace')))
      .then(
        toWorkflow(`not-queued-${build}`, 'RecordStepFailed', {
          stepId: 'build',
          attempt: 1,
          error: { code: 'OutsideWorkspace', message: 'paths must stay inside the workspace' },
          retryable: false,
        }),
      );
  });

  it('an invalid task is the step failing as InvalidTask; a task already queued is fine', () => {
    given(started, buildScheduled)
      .when(answered(queueBuild, { status: 'invalid', errors: ['payload: too big'] }))
      .thenSends(like({ type: 'RecordStepFailed', data: { error: { code: 'InvalidTask', message: 'payload: too big' } } }));
    given(started, buildScheduled)
      .when(answered(queueBuild, rejected('TaskAlreadyExists')))
      .thenNothing();
    given(started, buildScheduled).when(answered(queueBuild, accepted)).thenNothing();
  });

  it('queues without a conversation when the workflow was not started from one', () => {
    const plain = recorded(wf.started());
    const scheduled = recorded(wf.scheduled('build'));
    const [queued] = runManager(runner, [plain, scheduled]).intents;
    expect(queued).toMatchObject({ type: 'QueueTask', data: { requestedBy: requester } });
    expect(queued?.kind === 'command' && 'conversationId' in queued.data).toBe(false);
  });

  it('ignores the steps of a workflow not running here (it ended before the checkpoint)', () => {
    given()
      .when(recorded(wf.scheduled('build')))
      .thenNothing();
    expect(
      runner.finished(
        given()
          .when(recorded(wf.scheduled('build')))
          .state(),
      ),
    ).toBe(true);
  });

  it('a replayed start of a workflow it already runs changes nothing', () => {
    given(started, buildScheduled).when(recorded(wf.started())).thenNothing();
  });
});

describe('the workflow step runner: task outcomes become step results', () => {
  it('an assigned task is the step started, on its worker', () => {
    given(started, buildScheduled)
      .when(onTask('build', 'TaskAssigned', { attempt: 1, workerId: 'w1', timesOutAt: minute(5) }))
      .then(toWorkflow(`step-started-${build}`, 'RecordStepStarted', { stepId: 'build', attempt: 1, workerId: 'w1' }));
  });

  it('a later attempt of the task (a re-run after an unknown outcome) is a new start', () => {
    given()
      .when(onTask('build', 'TaskAssigned', { attempt: 2, workerId: 'w2', timesOutAt: minute(5) }))
      .thenSends({ commandId: `step-started-${build}-2`, data: { attempt: 1, workerId: 'w2' } });
  });

  it('a completed task completes the step with its result', () => {
    given(started, buildScheduled)
      .when(onTask('build', 'TaskCompleted', { attempt: 1, workerId: 'w1', result: { n: 3 }, durationMs: 10 }))
      .then(toWorkflow(`step-completed-${build}`, 'RecordStepCompleted', { stepId: 'build', attempt: 1, output: { n: 3 } }));
    given()
      .when(onTask('build', 'TaskCompleted', { attempt: 1, workerId: 'w1', result: undefined, durationMs: 10 }))
      .thenSends({ data: { output: null } });
  });

  it('given TaskFailed{AttemptsExhausted}, then the step retries (RecordStepFailed retryable: true), with the drawn jitter', () => {
    given(started, buildScheduled)
      .when(
        onTask(
          'build',
          'TaskFailed',
          { attempt: 1, error: { code: 'AttemptsExhausted', message: 'the worker went silent' }, retryable: false, final: true },
          { jitter: 0.75 },
        ),
      )
      .then(
        toWorkflow(`step-failed-${build}`, 'RecordStepFailed', {
          stepId: 'build',
          attempt: 1,
          error: { code: 'AttemptsExhausted', message: 'the worker went silent' },
          retryable: true,
          jitter: 0.75,
        }),
      );
  });

  it("a task's final failure fails the step as retryable as the task said", () => {
    given()
      .when(onTask('build', 'TaskFailed', { attempt: 1, error: { code: 'ExitCode', message: '1' }, retryable: false, final: true }))
      .thenSends({ data: { retryable: false } });
    given()
      .when(onTask('build', 'TaskFailed', { attempt: 1, error: { code: 'Flaky', message: '1' }, retryable: true, final: true }))
      .thenSends({ data: { retryable: true } });
  });

  it('a failure that is not final is not the step failing', () => {
    given(started, buildScheduled)
      .when(onTask('build', 'TaskFailed', { attempt: 1, error: { code: 'Flaky', message: '1' }, retryable: true, final: false }))
      .thenNothing();
  });

  it("a task cancelled by the step's timeout is the step timed out; cancelled by anyone else, the step failed", () => {
    given()
      .when(onTask('build', 'TaskCancelled', { reason: 'too slow', requestedBy: STEP_TIMEOUT, wasRunning: true }, { jitter: 0.5 }))
      .then(toWorkflow(`step-timed-out-${build}`, 'RecordStepTimedOut', { stepId: 'build', attempt: 1, jitter: 0.5 }));
    given()
      .when(onTask('build', 'TaskCancelled', { reason: 'not needed', requestedBy: 'U-x', wasRunning: true }))
      .then(
        toWorkflow(`step-cancelled-${build}`, 'RecordStepFailed', {
          stepId: 'build',
          attempt: 1,
          error: { code: 'TaskCancelled', message: 'not needed' },
          retryable: false,
        }),
      );
  });

  it('an unknown outcome is the step waiting for people, once per such event', () => {
    given()
      .when(onTask('build', 'TaskOutcomeUnknown', { attempt: 1, workerId: 'w1', reason: 'killed' }, { rev: 7 }))
      .then(toWorkflow(`step-outcome-unknown-${build}-7`, 'RecordStepOutcomeUnknown', { stepId: 'build', attempt: 1, taskId: build }));
  });

  it('other task events are not step outcomes', () => {
    given()
      .when(onTask('build', 'TaskProgressed', { attempt: 1, stage: 'run', percent: 50 }))
      .thenNothing();
  });
});

describe('the workflow step runner: paid runs not budgeted here', () => {
  it('a cost gate ending unapproved releases nothing when no prices are configured', () => {
    given(started, buildScheduled)
      .when(
        recorded(
          event('StepFailed', {
            stepId: 'build',
            attempt: 1,
            taskId: build,
            error: { code: 'CostApprovalRejected', message: 'no' },
            retryable: false,
            final: true,
          }),
        ),
      )
      .thenNothing();
  });
});

describe('the workflow step runner: endings', () => {
  it('cancels every task the ended workflow leaves running, and forgets the workflow', () => {
    const failed = recorded(workflowFailed({ error: { code: 'StepFailed', message: 'build failed' }, tasksToCancel: ['T-a', 'T-b'] } as never));
    given(started, buildScheduled)
      .when(failed)
      .then(
        ...['T-a', 'T-b'].map((id): CommandIntent => ({
          kind: 'command',
          category: 'task',
          id,
          commandId: `cancel-${id}`,
          type: 'CancelTask',
          data: { reason: `workflow ${workflowId} ended (WorkflowFailed)` },
        })),
      );
    const after = given(started, buildScheduled).when(failed).state();
    expect(runner.finished(after)).toBe(true);
    expect(runner.timers(after)).toEqual([]);
  });

  it('cancels them even for a workflow not followed here (the model saw it end)', () => {
    given()
      .when(recorded(workflowFailed({ error: { code: 'X', message: 'x' }, tasksToCancel: ['T-c'] } as never)))
      .thenSends({ id: 'T-c', commandId: 'cancel-T-c', type: 'CancelTask' });
  });

  it('a completed workflow leaves nothing to cancel', () => {
    given(started).when(recorded(workflowCompleted())).thenNothing();
  });
});

describe('the workflow step runner: timers', () => {
  const timersAfter = (...inputs: StepRunnerInput[]) => runner.timers(runManager(runner, inputs).state);

  it('a started workflow waits on its maximum time; firing it times the workflow out', () => {
    const timers = timersAfter(started);
    expect(timers).toEqual([{ name: 'workflow-timeout', dueAt: minute(60), payload: { kind: 'workflow-timeout', workflowId, dueAt: minute(60) } }]);
    given(started)
      .when(due(timers[0]!.payload))
      .then(toWorkflow(`timeout-${workflowId}`, 'TimeOutWorkflow', {}));
  });

  it("a retry coming due queues the step's next attempt as a new task", () => {
    const retry = recorded(wf.retryScheduled('build', 2, 30_000));
    const timer = runner.timers(runManager(runner, [started, buildScheduled, retry]).state).find((t) => t.payload.kind === 'retry')!;
    expect(timer.dueAt).toBe(minute(0, 30));
    given(started, buildScheduled, retry)
      .when(due(timer.payload))
      .thenSends({ type: 'QueueTask', id: taskIdOf('build', 2), commandId: `queue-${taskIdOf('build', 2)}` });
  });

  it('an approval coming due times the gate out; its reminder reminds the approvers, each once per visit', () => {
    given(started)
      .when(due({ kind: 'approval-timeout', workflowId, stepId: 'gate', visit: 2, dueAt: minute(9) }))
      .then(toWorkflow(`approval-timeout-${workflowId}-gate-2`, 'TimeOutApproval', { stepId: 'gate', visit: 2 }));
    given(started)
      .when(due({ kind: 'approval-reminder', workflowId, stepId: 'gate', visit: 2, dueAt: minute(8) }))
      .then(toWorkflow(`remind-${workflowId}-gate-2`, 'RemindApprovers', { stepId: 'gate', visit: 2 }));
  });

  const stepTimeout = (stepId: string) => ({ kind: 'step-timeout' as const, workflowId, stepId, attempt: 1, taskId: taskIdOf(stepId), dueAt: minute(5) });
  const cancelFor = (stepId: string): CommandIntent => ({
    kind: 'command',
    category: 'task',
    id: taskIdOf(stepId),
    commandId: `step-timeout-${taskIdOf(stepId)}`,
    type: 'CancelTask',
    actor: STEP_TIMEOUT,
    data: { reason: `attempt 1 of step "${stepId}" of workflow ${workflowId} timed out` },
  });

  it("a step's timeout stops its task through the task aggregate, as the step timeout", () => {
    const startedStep = recorded(stepStarted('build', 1, { timesOutAt: minute(5) }));
    expect(timersAfter(started, buildScheduled, startedStep).map((t) => t.name)).toContain('step-timeout:build:1');
    given(started, buildScheduled, onTask('build', 'TaskAssigned', { attempt: 1, workerId: 'w1', timesOutAt: minute(5) }), startedStep)
      .when(due(stepTimeout('build')))
      .then(cancelFor('build'));
  });

  const deployScheduled = recorded(wf.scheduled('deploy'));
  const deployAssigned = onTask('deploy', 'TaskAssigned', { attempt: 1, workerId: 'w1', timesOutAt: minute(5) }, { taskType: 'sf-deploy' });

  it('a retry coming due for a workflow not running here queues nothing', () => {
    given()
      .when(
        due({
          kind: 'retry',
          workflowId,
          stepId: 'build',
          attempt: 2,
          dueAt: minute(1),
          task: { taskId: taskIdOf('build', 2), taskType: 'run-tests', params: {}, dryRun: false },
        }),
      )
      .thenNothing();
  });

  it('times out the attempt that is running: a re-run after an unknown outcome is attempt 2 of the task', () => {
    const rerun = onTask('deploy', 'TaskAssigned', { attempt: 2, workerId: 'w2', timesOutAt: minute(9) }, { taskType: 'sf-deploy' });
    given(started, deployScheduled, deployAssigned, rerun)
      .when(due(stepTimeout('deploy')))
      .thenSends(like({ type: 'TimeOutTask', commandId: `step-timeout-${taskIdOf('deploy')}-2`, data: { attempt: 2, rerunSafe: false } }));
  });

  it('a step that may not run again times its running attempt out with the outcome unknown, instead of cancelling it', () => {
    given(started, deployScheduled, deployAssigned)
      .when(due(stepTimeout('deploy')))
      .then({
        kind: 'command',
        category: 'task',
        id: taskIdOf('deploy'),
        commandId: `step-timeout-${taskIdOf('deploy')}-1`,
        type: 'TimeOutTask',
        data: { attempt: 1, rerunSafe: false },
      });
  });

  it('…but a task of such a step that is not running any more is cancelled as usual', () => {
    const timedOut = onTask('deploy', 'TaskTimedOut', { attempt: 1, workerId: 'w1', timeoutMs: 1 }, { taskType: 'sf-deploy' });
    given(started, deployScheduled, deployAssigned, timedOut)
      .when(due(stepTimeout('deploy')))
      .then(cancelFor('deploy'));
  });

  it('after a restart (its attempt not seen), asks the task to time out attempt 1, and cancels it when that is not the one running', () => {
    const deployStarted = recorded(stepStarted('deploy', 1, { timesOutAt: minute(5) }));
    given(started, deployScheduled, deployStarted)
      .when(due(stepTimeout('deploy')))
      .thenSends({ type: 'TimeOutTask', data: { attempt: 1, rerunSafe: false }, wantsReply: true });
    const asked = runner.decide(due(stepTimeout('deploy')), runManager(runner, [started, deployScheduled, deployStarted]).state)[0]!;
    given(started, deployScheduled, deployStarted)
      .when(answered(asked, rejected('AttemptNotInProgress')))
      .then(cancelFor('deploy'));
    given(started, deployScheduled, deployStarted).when(answered(asked, accepted)).thenNothing();
  });
});

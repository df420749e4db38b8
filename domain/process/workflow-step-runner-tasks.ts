import { match } from 'ts-pattern';
import { settleIntent } from './paid-runs.ts';
import type { CommandIntent } from './process-manager.ts';
import {
  rerunSafeOf,
  STEP_TIMEOUT,
  type Step,
  type StepRunnerConfig,
  type StepRunnerEvent,
  type StepRunnerState,
  type TaskInfo,
} from './workflow-step-runner-types.ts';

// How a task's events come back to the workflow as its step's outcomes, and what settles a paid
// run's cost. The step a task runs comes with the event (from the task's TaskQueued), so a task
// of a workflow that is not running here (it ended, and its tasks were cancelled) still reports.

type TaskInput = Extract<StepRunnerEvent, { source: 'task' }>;

export function onTaskEvent(config: StepRunnerConfig, { taskId, revision, step, event, jitter }: TaskInput, state: StepRunnerState): Step {
  const { workflowId, stepId, attempt } = step;
  const toWorkflow = (commandId: string, command: Pick<Extract<CommandIntent, { category: 'workflow' }>, 'type' | 'data'>): CommandIntent =>
    ({ kind: 'command', category: 'workflow', id: workflowId, commandId, ...command }) as CommandIntent;
  const settle = (result: unknown): CommandIntent[] => {
    const intent = settleIntent(config.paidRuns, { taskId, taskType: step.taskType, queuedAt: step.queuedAt }, result);
    return intent ? [intent] : [];
  };
  const info = (update: Partial<TaskInfo>): StepRunnerState => ({
    ...state,
    tasks: { ...state.tasks, [taskId]: { rerunSafe: rerunSafeOf(config, step.taskType, step.payload), ...state.tasks[taskId], ...update } },
  });
  const ended = (): StepRunnerState => {
    const { [taskId]: _, ...tasks } = state.tasks;
    return { ...state, tasks };
  };
  return (
    match(event)
      .returnType<Step>()
      .with({ type: 'TaskAssigned' }, ({ data }) => {
        // A task runs a step once (maxAttempts 1); a later attempt of it is a re-run someone asked for after an unknown outcome.
        const rerun = data.attempt > 1 ? `-${data.attempt}` : '';
        return {
          intents: [toWorkflow(`step-started-${taskId}${rerun}`, { type: 'RecordStepStarted', data: { stepId, attempt, workerId: data.workerId } })],
          state: info({ running: true, attempt: data.attempt }),
        };
      })
      // The step waits for someone to resolve the task (its timeout no longer applies); the resolution comes back as the events here.
      .with({ type: 'TaskOutcomeUnknown' }, () => ({
        intents: [toWorkflow(`step-outcome-unknown-${taskId}-${revision}`, { type: 'RecordStepOutcomeUnknown', data: { stepId, attempt, taskId } })],
        state: info({ running: false }),
      }))
      .with({ type: 'TaskCompleted' }, ({ data }) => ({
        intents: [
          ...settle(data.result),
          toWorkflow(`step-completed-${taskId}`, { type: 'RecordStepCompleted', data: { stepId, attempt, output: data.result ?? null } }),
        ],
        state: ended(),
      }))
      .with({ type: 'TaskFailed' }, ({ data }) => {
        if (!data.final) return { intents: [], state: info({ running: false }) };
        // The queue delivered the task again because its worker went silent (a crash, a lost
        // connection): not the step's fault, so the workflow's retry policy may run it again.
        const retryable = data.retryable || data.error.code === 'AttemptsExhausted';
        return {
          intents: [
            ...settle(undefined),
            toWorkflow(`step-failed-${taskId}`, { type: 'RecordStepFailed', data: { stepId, attempt, error: data.error, retryable, jitter } }),
          ],
          state: ended(),
        };
      })
      .with({ type: 'TaskCancelled' }, ({ data }) => {
        const outcome =
          data.requestedBy === STEP_TIMEOUT
            ? toWorkflow(`step-timed-out-${taskId}`, { type: 'RecordStepTimedOut', data: { stepId, attempt, jitter } })
            : toWorkflow(`step-cancelled-${taskId}`, {
                type: 'RecordStepFailed',
                data: { stepId, attempt, error: { code: 'TaskCancelled', message: data.reason }, retryable: false },
              });
        return { intents: [...settle(undefined), outcome], state: ended() };
      })
      .with({ type: 'TaskTimedOut' }, { type: 'TaskAttemptAbandoned' }, () => ({ intents: [], state: info({ running: false }) }))
      .otherwise(() => ({ intents: [], state }))
  );
}

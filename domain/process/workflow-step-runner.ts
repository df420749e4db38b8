import { match } from 'ts-pattern';
import { timerKey, nextTimers, type WorkflowTimer, type WorkflowTimers } from '../workflow/timers.ts';
import { releaseIntent } from './paid-runs.ts';
import type { CommandIntent, TimedProcessManager } from './process-manager.ts';
import { afterReply, runStep } from './workflow-step-runner-steps.ts';
import { onTaskEvent } from './workflow-step-runner-tasks.ts';
import {
  cancelForTimeout,
  type Step,
  type StepRunnerConfig,
  type StepRunnerEvent,
  type StepRunnerInput,
  type StepRunnerState,
  type TaskInfo,
} from './workflow-step-runner-types.ts';

export * from './workflow-step-runner-types.ts';

// The workflow step runner: the process manager between the Workflow aggregate and the tasks that
// run its steps, one key per workflow. A scheduled step becomes a queued task
// (`${workflowId}_${stepId}_${attempt}`, one attempt per task: the workflow owns retries); the
// task's events come back as step outcomes; the timers the workflow waits on (its maximum time,
// retries, approval timeouts and reminders, step timeouts) are the fold of domain/workflow/timers.ts,
// which the `workflow-timers` read model also stores, so the host's agenda after a restart is the
// model's. Every command has an id derived from what caused it and the deciders ignore what was
// already decided, so replaying the log, or firing a timer twice, sends nothing twice that matters.
// Deployment facts (routes, side-effect classes, whether a rerun is safe, prices, the cost gate)
// arrive as configuration.

const ENDINGS: readonly string[] = ['WorkflowCompleted', 'WorkflowFailed', 'WorkflowCancelled', 'WorkflowTimedOut'];
/** How a step ends whose cost gate was not granted: what the Budget was asked to approve is released. */
const COST_GATE_ENDINGS: readonly string[] = ['CostApprovalRejected', 'CostApprovalTimedOut'];

export const initialStepRunnerState = (): StepRunnerState => ({ ended: false, pending: {}, tasks: {} });

/** The state of a workflow the `workflow-timers` model holds as running (brought up to the end of its stream). */
export const runningWorkflowState = (workflow: WorkflowTimers, tasks: Readonly<Record<string, TaskInfo>> = {}): StepRunnerState => ({
  ...initialStepRunnerState(),
  workflow,
  tasks,
});

/** Decision and next state together, so decide and evolve cannot disagree about which way a step went. */
export function stepRunnerStep(config: StepRunnerConfig, input: StepRunnerInput, state: StepRunnerState): Step {
  return match(input)
    .returnType<Step>()
    .with({ kind: 'event', event: { source: 'workflow' } }, ({ event, at }) => onWorkflowEvent(config, event, state, at))
    .with({ kind: 'event', event: { source: 'task' } }, ({ event }) => onTaskEvent(config, event, state))
    .with({ kind: 'due' }, ({ timer, at }) => onTimer(config, timer.payload, state, at))
    .with({ kind: 'reply' }, ({ intent, reply, at }) => (intent.kind === 'command' ? afterReply(config, intent, reply, state, at) : { intents: [], state }))
    .exhaustive();
}

function onWorkflowEvent(
  config: StepRunnerConfig,
  { workflowId, revision, event }: Extract<StepRunnerEvent, { source: 'workflow' }>,
  state: StepRunnerState,
  at: string,
): Step {
  const before = state.workflow;
  if (event.type === 'WorkflowStarted' && before) return { intents: [], state }; // restored from the model, or a replay
  if (ENDINGS.includes(event.type)) {
    // Sent even for a workflow not followed here (the model had seen it end): the ids make repeats harmless.
    const tasksToCancel = 'tasksToCancel' in event.data ? event.data.tasksToCancel : [];
    const intents = tasksToCancel.map((taskId): CommandIntent => ({
      kind: 'command',
      category: 'task',
      id: taskId,
      commandId: `cancel-${taskId}`,
      type: 'CancelTask',
      data: { reason: `workflow ${workflowId} ended (${event.type})` },
    }));
    return { intents, state: { ...initialStepRunnerState(), ended: true } };
  }
  // Not running here: it ended before the checkpoint (a running one is in the model or started after it).
  if (event.type !== 'WorkflowStarted' && !before) return { intents: [], state };
  const workflow = nextTimers(before, event, revision);
  const next = { ...state, ...(workflow && { workflow }) };
  return match(event)
    .returnType<Step>()
    .with({ type: 'StepScheduled' }, ({ data }) => runStep(config, workflowId, data, next, at))
    .with({ type: 'StepCostApproved' }, ({ data }) => runStep(config, workflowId, { ...data, overCapApprovedBy: data.approvedBy }, next, at))
    .with({ type: 'StepFailed' }, ({ data }) =>
      config.paidRuns && COST_GATE_ENDINGS.includes(data.error.code)
        ? { intents: [releaseIntent(data.taskId, data.error.message, at)], state: next }
        : { intents: [], state: next },
    )
    .otherwise(() => ({ intents: [], state: next }));
}

function onTimer(config: StepRunnerConfig, timer: WorkflowTimer, state: StepRunnerState, at: string): Step {
  const { workflowId } = timer;
  const send = (intent: CommandIntent): Step => ({ intents: [intent], state });
  return (
    match(timer)
      .returnType<Step>()
      .with({ kind: 'workflow-timeout' }, () =>
        send({ kind: 'command', category: 'workflow', id: workflowId, commandId: `timeout-${workflowId}`, type: 'TimeOutWorkflow', data: {} }),
      )
      .with({ kind: 'retry' }, (t) => runStep(config, workflowId, { stepId: t.stepId, attempt: t.attempt, ...t.task }, state, at))
      .with({ kind: 'approval-timeout' }, (t) =>
        send({
          kind: 'command',
          category: 'workflow',
          id: workflowId,
          commandId: `approval-timeout-${workflowId}-${t.stepId}-${t.visit}`,
          type: 'TimeOutApproval',
          data: { stepId: t.stepId, visit: t.visit },
        }),
      )
      // The gate records that its approvers were reminded (ApprovalReminderDue), once per request; the notices go from there.
      .with({ kind: 'approval-reminder' }, (t) =>
        send({
          kind: 'command',
          category: 'workflow',
          id: workflowId,
          commandId: `remind-${workflowId}-${t.stepId}-${t.visit}`,
          type: 'RemindApprovers',
          data: { stepId: t.stepId, visit: t.visit },
        }),
      )
      .with({ kind: 'step-timeout' }, (t) => {
        const task = state.tasks[t.taskId];
        if (task && !task.rerunSafe) {
          // Stopping a deploy half-way and retrying the step could deploy twice: a running attempt
          // times out with its outcome unknown instead, and the step waits for people to decide.
          if (task.running === true && task.attempt !== undefined) return send(timeOutTask(t.taskId, task.attempt, false));
          // Its attempt not seen since a restart: the task aggregate says whether attempt 1 is running; if not, it is cancelled as below.
          if (task.running === undefined) return send(timeOutTask(t.taskId, 1, true));
        }
        return send(cancelForTimeout(t));
      })
      .exhaustive()
  );
}

const timeOutTask = (taskId: string, attempt: number, wantsReply: boolean): CommandIntent => ({
  kind: 'command',
  category: 'task',
  id: taskId,
  commandId: `step-timeout-${taskId}-${attempt}`,
  type: 'TimeOutTask',
  data: { attempt, rerunSafe: false },
  ...(wantsReply && { wantsReply }),
});

export const workflowStepRunner = (config: StepRunnerConfig): TimedProcessManager<StepRunnerInput, StepRunnerState, WorkflowTimer> => ({
  name: 'workflow-engine',
  initialState: initialStepRunnerState,
  decide: (input, state) => stepRunnerStep(config, input, state).intents,
  step: (input, state) => stepRunnerStep(config, input, state),
  evolve: (state, input) => stepRunnerStep(config, input, state).state,
  timers: (state) => (state.workflow?.timers ?? []).map((timer) => ({ name: timerKey(timer), dueAt: timer.dueAt, payload: timer })),
  // Nothing is waited on for a workflow that ended or is not running here (its tasks' late events need no state).
  finished: (state) => state.ended || (state.workflow === undefined && Object.keys(state.pending).length === 0),
});

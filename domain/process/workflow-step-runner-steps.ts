import { DEFAULT_APPROVAL_TIMEOUT_MS } from '../workflow/step-fields.ts';
import { isPaid, reservationOutcome, reserveIntents, type ReservationWay } from './paid-runs.ts';
import type { CommandAnswer, CommandIntent } from './process-manager.ts';
import {
  cancelForTimeout,
  rerunSafeOf,
  type PendingRun,
  type Step,
  type StepRunnerConfig,
  type StepRunnerState,
  type StepToRun,
} from './workflow-step-runner-types.ts';

// How the step runner runs one attempt of a task step: recorded without running (a dry run),
// failed before it runs (understated side effects, no pool, over budget, refused at the door),
// held for a cost gate, or queued as a task. A paid run's reservation and the queueing each wait
// for their answer (a `reply` input), so the step is pending between them.

const recordStepFailed = (workflowId: string, prefix: string, step: StepToRun, error: { code: string; message: string }): CommandIntent => ({
  kind: 'command',
  category: 'workflow',
  id: workflowId,
  commandId: `${prefix}-${step.taskId}`,
  type: 'RecordStepFailed',
  data: { stepId: step.stepId, attempt: step.attempt, error, retryable: false },
});

const withPending = (state: StepRunnerState, taskId: string, pending: PendingRun | undefined): StepRunnerState => {
  const { [taskId]: _, ...rest } = state.pending;
  return { ...state, pending: pending ? { ...rest, [taskId]: pending } : rest };
};

/** A task step's attempt, scheduled or come due as a retry or approved over the budget. */
export function runStep(config: StepRunnerConfig, workflowId: string, step: StepToRun, state: StepRunnerState, at: string): Step {
  const workflow = state.workflow;
  if (!workflow) return { intents: [], state };
  if (step.dryRun) {
    const output = { dryRun: true, wouldRun: { taskType: step.taskType, params: step.params } };
    const intent: CommandIntent = {
      kind: 'command',
      category: 'workflow',
      id: workflowId,
      commandId: `dry-run-${step.taskId}`,
      type: 'RecordStepCompleted',
      data: { stepId: step.stepId, attempt: step.attempt, output },
    };
    return { intents: [intent], state };
  }
  if (step.sideEffects === false && config.classify && config.classify(step.taskType, step.params) !== 'read-only') {
    // The definition said no side effects, so nothing gated it; its executor would change things.
    const message = `step "${step.stepId}" runs ${step.taskType} with parameters that change things, but its definition says it has no side effects, so no approval gate guards it`;
    return { intents: [recordStepFailed(workflowId, 'undeclared-side-effect', step, { code: 'UndeclaredSideEffect', message })], state };
  }
  if (!config.routeTask(step.taskType)) {
    return {
      intents: [recordStepFailed(workflowId, 'no-route', step, { code: 'UnknownTaskType', message: `no worker pool runs ${step.taskType} tasks here` })],
      state,
    };
  }
  if (config.paidRuns && isPaid(config.paidRuns, step.taskType)) {
    // Over a cap the step waits for a cost gate (AG5); granted, it comes back here with the approvers' names.
    const way: ReservationWay = {
      ifOverCap: 'refuse',
      ...(step.overCapApprovedBy ? { overCapApprovedBy: step.overCapApprovedBy.join(', ').slice(0, 200) } : {}),
    };
    const run = { workflowId, taskId: step.taskId, taskType: step.taskType, user: workflow.requestedBy };
    return {
      intents: reserveIntents(config.paidRuns, run, at, way),
      state: withPending(state, step.taskId, { workflowId, step, phase: 'reserving', reservedAt: at }),
    };
  }
  return queue(config, workflowId, step, state);
}

function queue(config: StepRunnerConfig, workflowId: string, step: StepToRun, state: StepRunnerState): Step {
  const route = config.routeTask(step.taskType);
  const workflow = state.workflow;
  if (!route || !workflow) return { intents: [], state: withPending(state, step.taskId, undefined) };
  const intent: CommandIntent = {
    kind: 'command',
    category: 'task',
    id: step.taskId,
    commandId: `queue-${step.taskId}`,
    type: 'QueueTask',
    wantsReply: true,
    data: {
      taskType: step.taskType,
      pool: step.pool ?? route.pool,
      payload: step.params,
      timeoutMs: step.timeoutMs ?? route.timeoutMs,
      maxAttempts: 1,
      workflowId,
      stepId: step.stepId,
      requestedBy: workflow.requestedBy,
      ...(workflow.conversationId ? { conversationId: workflow.conversationId } : {}),
    },
  };
  // Known from here on whether the task may run again, for its step's timeout.
  const known = { ...state, tasks: { ...state.tasks, [step.taskId]: { rerunSafe: rerunSafeOf(config, step.taskType, step.params) } } };
  return { intents: [intent], state: withPending(known, step.taskId, { workflowId, step, phase: 'queueing' }) };
}

/** The answer to a reservation or a queueing decides the pending step's next move. */
export function afterReply(config: StepRunnerConfig, intent: CommandIntent, answer: CommandAnswer, state: StepRunnerState, at: string): Step {
  if (intent.type === 'QueueTask') return afterQueueing(intent.id, answer, state);
  if (intent.type === 'ReserveCost') return afterReservation(config, intent.data.reservationId.replace(/^run-/, ''), answer, state, at);
  if (intent.type === 'TimeOutTask' && answer.status === 'rejected') {
    // Attempt 1 is not running (it ended, or is not the one running): the step's timeout goes through the task as for any step.
    const timer = state.workflow?.timers.find((t) => t.kind === 'step-timeout' && t.taskId === intent.id);
    return { intents: timer?.kind === 'step-timeout' ? [cancelForTimeout(timer)] : [], state };
  }
  return { intents: [], state };
}

function afterQueueing(taskId: string, answer: CommandAnswer, state: StepRunnerState): Step {
  const pending = state.pending[taskId];
  const rest = withPending(state, taskId, undefined);
  if (!pending) return { intents: [], state: rest };
  // Refused at the door (an unknown pool, parameters outside the workspace…): the step fails with
  // that reason rather than waiting for a task that was never queued. A task already there is fine.
  if ((answer.status === 'rejected' && answer.code !== 'TaskAlreadyExists') || answer.status === 'invalid') {
    const error =
      answer.status === 'rejected'
        ? { code: answer.code, message: answer.message }
        : { code: 'InvalidTask', message: answer.errors.join('; ').slice(0, 1_000) };
    return { intents: [recordStepFailed(pending.workflowId, 'not-queued', pending.step, error)], state: rest };
  }
  return { intents: [], state: rest };
}

function afterReservation(config: StepRunnerConfig, taskId: string, answer: CommandAnswer, state: StepRunnerState, at: string): Step {
  const pending = state.pending[taskId];
  const paid = config.paidRuns;
  if (!pending || !paid || !state.workflow) return { intents: [], state: withPending(state, taskId, undefined) };
  const { workflowId, step } = pending;
  if (pending.phase === 'asking') {
    // CostApprovalRequired recorded (or not: the gate is asked for either way, as before).
    const gate = config.costGate!;
    const intent: CommandIntent = {
      kind: 'command',
      category: 'workflow',
      id: workflowId,
      commandId: `cost-approval-${step.taskId}`,
      type: 'RequestCostApproval',
      data: {
        stepId: step.stepId,
        attempt: step.attempt,
        amountUsd: pending.amountUsd ?? 0,
        reason: (pending.reason ?? '').slice(0, 1_000),
        approvers: [...gate.approvers],
        quorum: gate.quorum,
        requesterMayApprove: gate.requesterMayApprove,
        timeoutMs: gate.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
        ...(gate.reminderBeforeMs !== undefined ? { reminderBeforeMs: gate.reminderBeforeMs } : {}),
      },
    };
    return { intents: [intent], state: withPending(state, taskId, undefined) };
  }
  const outcome = reservationOutcome(paid, step.taskType, answer, config.costGate !== undefined);
  if (outcome.status === 'reserved') return queue(config, workflowId, step, state);
  if (outcome.status === 'askApproval') {
    const run = { workflowId, taskId: step.taskId, taskType: step.taskType, user: state.workflow.requestedBy };
    const ask = reserveIntents(paid, run, pending.reservedAt ?? at, { ifOverCap: 'askApproval' });
    return { intents: ask, state: withPending(state, taskId, { ...pending, phase: 'asking', reason: outcome.reason, amountUsd: outcome.amountUsd }) };
  }
  // Refused: the step fails with the reason; it is not queued, so nothing is spent.
  return {
    intents: [recordStepFailed(workflowId, 'over-budget', step, { code: 'BudgetExceeded', message: outcome.reason })],
    state: withPending(state, taskId, undefined),
  };
}

import type { Decision } from './decision.ts';
import { flatMap, left, right } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { match } from 'ts-pattern';
import { grantApproval, rejectApproval, remindApprovers, timeOutApproval } from './approvals.ts';
import { requestCostApproval } from './cost-gate.ts';
import type { WorkflowCommand, WorkflowCommandOf } from './commands.ts';
import { workflowEventOf } from './events.ts';
import { startedWorkflow } from './evolve.ts';
import { ungatedSideEffects } from './gates.ts';
import { existingWorkflow } from './guards.ts';
import { invalidDefinition, timerNotDue, ungatedSideEffectRejected, workflowAlreadyFinished, workflowAlreadyStarted } from './rejections.ts';
import { addMilliseconds } from './retry.ts';
import { activeTaskIds, isFinished, type WorkflowState } from './state.ts';
import { recordStepCompleted, recordStepFailed, recordStepOutcomeUnknown, recordStepStarted, recordStepTimedOut } from './step-outcomes.ts';
import { checkCompiled } from './validate-definition.ts';
import { enter, startWalk } from './walk.ts';

const nothing: Decision = right([]);

export const decide = (command: WorkflowCommand, state: WorkflowState): Decision =>
  match(command)
    .with({ type: 'StartWorkflow' }, (c) => startWorkflow(c, state))
    .with({ type: 'RecordStepStarted' }, (c) => recordStepStarted(c, state))
    .with({ type: 'RecordStepCompleted' }, (c) => recordStepCompleted(c, state))
    .with({ type: 'RecordStepFailed' }, (c) => recordStepFailed(c, state))
    .with({ type: 'RecordStepTimedOut' }, (c) => recordStepTimedOut(c, state))
    .with({ type: 'RecordStepOutcomeUnknown' }, (c) => recordStepOutcomeUnknown(c, state))
    .with({ type: 'GrantApproval' }, (c) => grantApproval(c, state))
    .with({ type: 'RejectApproval' }, (c) => rejectApproval(c, state))
    .with({ type: 'TimeOutApproval' }, (c) => timeOutApproval(c, state))
    .with({ type: 'RequestCostApproval' }, (c) => requestCostApproval(c, state))
    .with({ type: 'RemindApprovers' }, (c) => remindApprovers(c, state))
    .with({ type: 'CancelWorkflow' }, (c) => cancelWorkflow(c, state))
    .with({ type: 'TimeOutWorkflow' }, (c) => timeOutWorkflow(c, state))
    .exhaustive();

/**
 * Starts the workflow and walks to the first places it has to wait. The definition is checked
 * again (task types aside): a definition that slipped past registration fails here, not halfway.
 */
const startWorkflow = ({ type: _, ...c }: WorkflowCommandOf<'StartWorkflow'>, state: WorkflowState): Decision => {
  if (state.status !== 'none') return left(workflowAlreadyStarted(state));
  const errors = checkCompiled(c.definition);
  if (errors.length > 0) return left(invalidDefinition(errors));
  const ungated = ungatedSideEffects(c.definition.machine);
  if (ungated.length > 0) return left(ungatedSideEffectRejected(ungated.map((step) => step.id)));
  const started = workflowEventOf('WorkflowStarted', {
    workflowId: c.workflowId,
    definition: c.definition,
    inputs: c.inputs,
    requestedBy: c.requestedBy,
    maxExecutionMs: c.maxExecutionMs,
    timesOutAt: addMilliseconds(c.at, c.maxExecutionMs),
    dryRun: c.dryRun,
    ...(c.source !== undefined && { source: c.source }),
    ...(c.conversationId !== undefined && { conversationId: c.conversationId }),
    at: c.at,
  });
  const walk = startWalk(startedWorkflow(started.data), c.at);
  walk.events.push(started);
  enter(walk, c.definition.machine.start);
  return right(walk.events);
};

const cancelWorkflow = ({ workflowId, reason, requestedBy, at }: WorkflowCommandOf<'CancelWorkflow'>, state: WorkflowState): Decision =>
  pipe(
    existingWorkflow(state, workflowId),
    flatMap((workflow) => {
      if (workflow.status === 'cancelled') return nothing;
      if (isFinished(workflow)) return left(workflowAlreadyFinished(workflow));
      return right([workflowEventOf('WorkflowCancelled', { workflowId, reason, requestedBy, tasksToCancel: activeTaskIds(workflow), at })]);
    }),
  );

/** Fired by the scheduler at `timesOutAt` (WF5: maximum execution time, an hour unless started otherwise). */
const timeOutWorkflow = ({ workflowId, at }: WorkflowCommandOf<'TimeOutWorkflow'>, state: WorkflowState): Decision =>
  pipe(
    existingWorkflow(state, workflowId),
    flatMap((workflow) => {
      if (workflow.status === 'timedOut') return nothing;
      if (isFinished(workflow)) return left(workflowAlreadyFinished(workflow));
      if (Date.parse(at) < Date.parse(workflow.timesOutAt)) return left(timerNotDue(`the timeout of workflow ${workflowId}`, workflow.timesOutAt, at));
      return right([workflowEventOf('WorkflowTimedOut', { workflowId, maxExecutionMs: workflow.maxExecutionMs, tasksToCancel: activeTaskIds(workflow), at })]);
    }),
  );

import { flatMap, isLeft, map, right, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { Rejection } from '../decider.ts';
import type { TaskError } from '../task/fields.ts';
import type { WorkflowCommandOf } from './commands.ts';
import type { Decision } from './decision.ts';
import type { TaskNode } from './compiled.ts';
import { workflowEventOf } from './events.ts';
import { attemptEnded, currentAttempt, existingWorkflow, stillRunning, taskStep } from './guards.ts';
import { addMilliseconds, mayRetry, retryDelayMs } from './retry.ts';
import { taskIdFor, type StepRun, type Workflow, type WorkflowState } from './state.ts';
import { emit, failWorkflow, leave, startWalk, taskToRun } from './walk.ts';

// What the tasks behind task steps report, turned into commands by the process manager. A step
// never runs again once completed: the same completion twice changes nothing, and a completion
// moves the workflow on exactly once (WF4).

interface StepInProgress {
  readonly workflow: Workflow;
  readonly node: TaskNode;
  readonly run: StepRun;
}

type Found = Either<Rejection, StepInProgress | 'repeated'>;

/** The workflow and task step exist; a command already recorded (`repeated`) is let through to change nothing; otherwise the attempt must be current. */
function stepInProgress(state: WorkflowState, c: { workflowId: string; stepId: string; attempt: number }, repeated: (w: Workflow) => boolean): Found {
  return pipe(
    existingWorkflow(state, c.workflowId),
    flatMap((workflow): Found => {
      const node = taskStep(workflow, c.stepId);
      if (isLeft(node)) return node;
      if (repeated(workflow)) return right('repeated');
      return pipe(
        stillRunning(workflow),
        flatMap(() => currentAttempt(workflow, c.stepId, c.attempt)),
        map((run) => ({ workflow, node: node.right, run })),
      );
    }),
  );
}

export const recordStepStarted = (c: WorkflowCommandOf<'RecordStepStarted'>, state: WorkflowState): Decision =>
  pipe(
    stepInProgress(state, c, (w) => w.steps[c.stepId]?.attempt === c.attempt && w.steps[c.stepId]?.status === 'running'),
    map((found) => {
      if (found === 'repeated') return [];
      const { node, run } = found;
      return [
        workflowEventOf('StepStarted', {
          workflowId: c.workflowId,
          stepId: c.stepId,
          attempt: c.attempt,
          taskId: run.taskId ?? taskIdFor(c.workflowId, c.stepId, c.attempt),
          ...(c.workerId !== undefined && { workerId: c.workerId }),
          ...(node.timeoutMs !== undefined && { timesOutAt: addMilliseconds(c.at, node.timeoutMs) }),
          at: c.at,
        }),
      ];
    }),
  );

/** Records the output, then schedules what comes next: the next step, every parallel branch, the branch a condition picks, or a gate. */
export const recordStepCompleted = (c: WorkflowCommandOf<'RecordStepCompleted'>, state: WorkflowState): Decision =>
  pipe(
    stepInProgress(state, c, (w) => attemptEnded(w, c.stepId, c.attempt, 'completed')),
    map((found) => {
      if (found === 'repeated') return [];
      const walk = startWalk(found.workflow, c.at);
      const taskId = found.run.taskId ?? taskIdFor(c.workflowId, c.stepId, c.attempt);
      emit(walk, workflowEventOf('StepCompleted', { workflowId: c.workflowId, stepId: c.stepId, attempt: c.attempt, taskId, output: c.output, at: c.at }));
      leave(walk, c.stepId);
      return walk.events;
    }),
  );

/** The step waits: its timeout no longer applies and nothing retries it; the task's resolution (re-run, completed, failed) comes back as the usual outcomes. */
export const recordStepOutcomeUnknown = (c: WorkflowCommandOf<'RecordStepOutcomeUnknown'>, state: WorkflowState): Decision =>
  pipe(
    stepInProgress(state, c, (w) => w.steps[c.stepId]?.attempt === c.attempt && w.steps[c.stepId]?.status === 'outcomeUnknown'),
    map((found) =>
      found === 'repeated'
        ? []
        : [
            workflowEventOf('StepOutcomeUnknown', {
              workflowId: c.workflowId,
              stepId: c.stepId,
              attempt: c.attempt,
              taskId: found.run.taskId ?? c.taskId,
              at: c.at,
            }),
          ],
    ),
  );

export const recordStepFailed = (c: WorkflowCommandOf<'RecordStepFailed'>, state: WorkflowState): Decision => stepFailed(c, c.error, c.retryable, state);

/** A timed-out attempt is a failure another attempt may cure. */
export const recordStepTimedOut = (c: WorkflowCommandOf<'RecordStepTimedOut'>, state: WorkflowState): Decision =>
  pipe(
    existingWorkflow(state, c.workflowId),
    flatMap((workflow) => taskStep(workflow, c.stepId)),
    flatMap((node) => {
      const limit = node.timeoutMs === undefined ? '' : ` after ${node.timeoutMs} ms`;
      return stepFailed(c, { code: 'StepTimedOut', message: `attempt ${c.attempt} of step "${c.stepId}" timed out${limit}` }, true, state);
    }),
  );

interface FailureReport {
  readonly workflowId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly jitter?: number | undefined;
  readonly at: string;
}

/** Retried with backoff while the policy allows; otherwise the step, and with it the workflow, fails (WF5, OR3). */
const stepFailed = (c: FailureReport, error: TaskError, retryable: boolean, state: WorkflowState): Decision =>
  pipe(
    stepInProgress(state, c, (w) => attemptEnded(w, c.stepId, c.attempt, 'failed')),
    map((found) => {
      if (found === 'repeated') return [];
      const { workflow, node, run } = found;
      const ordinal = c.attempt - run.firstAttempt + 1;
      const retry = mayRetry(node.retry, ordinal, retryable, error.code);
      const walk = startWalk(workflow, c.at);
      const taskId = run.taskId ?? taskIdFor(c.workflowId, c.stepId, c.attempt);
      emit(
        walk,
        workflowEventOf('StepFailed', { workflowId: c.workflowId, stepId: c.stepId, attempt: c.attempt, taskId, error, retryable, final: !retry, at: c.at }),
      );
      if (retry) {
        const delayMs = retryDelayMs(node.retry, ordinal, c.jitter);
        const next = c.attempt + 1;
        emit(
          walk,
          workflowEventOf('StepRetryScheduled', {
            workflowId: c.workflowId,
            stepId: c.stepId,
            attempt: next,
            taskId: taskIdFor(c.workflowId, c.stepId, next),
            ...taskToRun(node, run.params ?? node.params, workflow.dryRun),
            dueAt: addMilliseconds(c.at, delayMs),
            delayMs,
            at: c.at,
          }),
        );
      } else {
        const why = !retryable || node.retry.nonRetryable.includes(error.code) ? 'a non-retryable error' : `attempt ${ordinal} of ${node.retry.attempts}`;
        failWorkflow(walk, { cause: 'StepFailed', stepId: c.stepId, error, reason: `step "${c.stepId}" failed (${why}): ${error.message}` });
      }
      return walk.events;
    }),
  );

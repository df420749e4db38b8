import type { CommandAnswer, Intent } from '../../domain/process/process-manager.ts';
import type { StepRunnerConfig, StepRunnerInput } from '../../domain/process/workflow-step-runner.ts';
import type { TaskEvent, TaskEventData, TaskEventType } from '../../domain/task/events.ts';
import type { WorkflowEvent } from '../../domain/workflow/events.ts';
import type { WorkflowTimer } from '../../domain/workflow/timers.ts';
import { at, fixturesFor, task, tree, workflowId } from '../domain/workflow-fixtures.ts';

// Inputs for the step runner's specifications: workflow events at increasing revisions, task
// events with the step they run, timers come due, and the answers to the runner's own commands.

export { at, workflowId };

export const routes: StepRunnerConfig['routeTask'] = (taskType) =>
  ['run-tests', 'lint', 'sf-deploy', 'claude-code', 'report'].includes(taskType) ? { pool: 'local', timeoutMs: 60_000 } : undefined;

export const definition = tree(
  task('build'),
  { type: 'approval', id: 'gate' },
  task('deploy', 'sf-deploy', { sideEffects: true }),
  task('ghost', 'analyze-codebase'),
);
export const wf = fixturesFor(definition);

let revision = 0;
/** A workflow event, at the next revision of its stream. */
export const recorded = (event: WorkflowEvent, rev = revision++): StepRunnerInput => ({
  kind: 'event',
  event: { source: 'workflow', workflowId, revision: rev, event },
  at,
});

export const taskIdOf = (stepId: string, attempt = 1) => `${workflowId}_${stepId}_${attempt}`;

/** A task event of the task running `stepId`'s attempt. */
export const onTask = <K extends TaskEventType>(
  stepId: string,
  type: K,
  data: Omit<TaskEventData<K>, 'taskId' | 'at'>,
  { attempt = 1, taskType = 'run-tests', payload = { repository: 'acme' }, rev = 5, jitter = 0.25, queuedAt = at } = {},
): StepRunnerInput => {
  const taskId = taskIdOf(stepId, attempt);
  return {
    kind: 'event',
    event: {
      source: 'task',
      taskId,
      revision: rev,
      jitter,
      step: { workflowId, stepId, attempt, taskType, payload, queuedAt },
      event: { type, data: { taskId, at, ...data } } as unknown as TaskEvent,
    },
    at,
  };
};

export const due = (timer: WorkflowTimer, when = at): StepRunnerInput => ({
  kind: 'due',
  timer: { name: timer.kind, dueAt: timer.dueAt, payload: timer },
  at: when,
});

export const answered = (intent: Intent, reply: CommandAnswer, when = at): StepRunnerInput => ({ kind: 'reply', intent, reply, at: when });
export const accepted: CommandAnswer = { status: 'accepted', events: 1 };
export const rejected = (code: string, message = `${code} said the host`): CommandAnswer => ({ status: 'rejected', code, message });

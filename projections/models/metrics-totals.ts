import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { eventTypeEntry } from '../../domain/events/catalog.ts';
import { opensStream, taskEventIn, workflowEventIn } from '../../domain/events/typed-events.ts';
import type { PlanEvent } from '../../domain/plan/events.ts';
import type { TaskEvent } from '../../domain/task/events.ts';
import type { WorkflowEvent } from '../../domain/workflow/events.ts';
import type { Change, ProjectionDefinition, ReadModelView } from '../runtime/projection.ts';
import { observed, QUEUE_WAIT_BOUNDS, secondsBetween, TASK_DURATION_BOUNDS, WORKFLOW_DURATION_BOUNDS, type StoredHistogram } from './metrics-histogram.ts';

// Read model behind the event-derived Prometheus metrics (infra/metrics): totals that must
// survive a restart of any process, so they are folded from the log, never kept in memory.
//
// Keys:
//   `tasks`            → TaskTotals: finished tasks by [type, pool, outcome], run-time and
//                        queue-wait histograms by [type, pool]
//   `workflows`        → WorkflowTotals: finished workflows by [template, outcome], durations by template,
//                        approval gates waiting for a decision
//   `models`           → ModelTotals: planner tokens by [model, kind] and cost by model
//   `task.<taskId>`    → OpenTask while the task is open (deleted when it ends)
//   `workflow.<id>`    → OpenWorkflow while the workflow runs (deleted when it ends)
// Label tuples are stored as JSON arrays (`labelKey`), which no label value can make ambiguous.

export type Counts = Readonly<Record<string, number>>;
export type Histograms = Readonly<Record<string, StoredHistogram>>;

export interface TaskTotals {
  readonly finished: Counts;
  readonly duration: Histograms;
  readonly queueWait: Histograms;
}
export interface WorkflowTotals {
  readonly finished: Counts;
  readonly duration: Histograms;
  readonly approvalsPending: number;
}
export interface ModelTotals {
  readonly tokens: Counts;
  readonly costUsd: Counts;
}
interface OpenTask {
  readonly taskType: string;
  readonly pool: string;
  /** When the task last became ready to take (queued, or due for a retry); cleared once taken. */
  readonly waitingSince?: string;
  readonly runningSince?: string;
}
interface OpenWorkflow {
  readonly template: string;
  readonly startedAt: string;
  /** `<stepId>.<visit>` of each approval gate waiting for a decision. */
  readonly pendingApprovals: readonly string[];
}

export const TASKS_KEY = 'tasks';
export const WORKFLOWS_KEY = 'workflows';
export const MODELS_KEY = 'models';
const openTaskKey = (taskId: string) => `task.${taskId}`;
const openWorkflowKey = (workflowId: string) => `workflow.${workflowId}`;

export const labelKey = (...values: readonly string[]): string => JSON.stringify(values);
export const labelsOf = (key: string): string[] => {
  const parsed: unknown = JSON.parse(key);
  return Array.isArray(parsed) ? parsed.map(String) : [];
};

export const metricsTotals: ProjectionDefinition = {
  name: 'metrics-totals',
  version: 1,
  description:
    'Totals behind /metrics: finished tasks and workflows by outcome with duration and queue-wait histograms, pending approvals, planner tokens and cost.',
  async apply(recorded, view) {
    const task = taskEventIn(recorded);
    if (task) return taskChanges(task.id, task.event, opensStream(recorded), view);
    const workflow = workflowEventIn(recorded);
    if (workflow) return workflowChanges(workflow.id, workflow.event, view);
    const plan = planEventIn(recorded);
    return plan ? modelChanges(plan, view) : [];
  },
};

// ---- tasks --------------------------------------------------------------------------------

const emptyTasks = (): TaskTotals => ({ finished: {}, duration: {}, queueWait: {} });

async function taskChanges(taskId: string, event: TaskEvent, opens: boolean, view: ReadModelView): Promise<readonly Change[]> {
  const key = openTaskKey(taskId);
  if (event.type === 'TaskQueued') {
    if (!opens) return [];
    return [{ key, doc: { taskType: event.data.taskType, pool: event.data.pool, waitingSince: event.data.at } satisfies OpenTask }];
  }
  const open = (await view.get(key)) as OpenTask | undefined;
  if (!open) return [];
  const labels = labelKey(open.taskType, open.pool);
  switch (event.type) {
    case 'TaskAssigned': {
      const { waitingSince: since, ...rest } = open;
      const wait = since === undefined ? undefined : secondsBetween(since, event.data.at);
      const changes: Change[] = [{ key, doc: { ...rest, runningSince: event.data.at } satisfies OpenTask }];
      if (wait === undefined) return changes;
      const totals = await tasksOf(view);
      return [...changes, { key: TASKS_KEY, doc: { ...totals, queueWait: withObservation(totals.queueWait, labels, QUEUE_WAIT_BOUNDS, wait) } }];
    }
    case 'TaskRetryScheduled':
      return [{ key, doc: { taskType: open.taskType, pool: open.pool, waitingSince: event.data.dueAt } satisfies OpenTask }];
    case 'TaskCompleted':
      return finishTask(key, open, 'completed', event.data.durationMs / 1000, view);
    case 'TaskFailed':
      return event.data.final ? finishTask(key, open, 'failed', runSeconds(open, event.data.at), view) : [];
    case 'TaskCancelled':
      return finishTask(key, open, 'cancelled', runSeconds(open, event.data.at), view);
    default:
      return [];
  }
}

const runSeconds = (open: OpenTask, at: string): number | undefined => (open.runningSince === undefined ? undefined : secondsBetween(open.runningSince, at));

async function finishTask(
  key: string,
  open: OpenTask,
  outcome: 'completed' | 'failed' | 'cancelled',
  seconds: number | undefined,
  view: ReadModelView,
): Promise<readonly Change[]> {
  const totals = await tasksOf(view);
  const labels = labelKey(open.taskType, open.pool);
  const duration =
    seconds !== undefined && Number.isFinite(seconds) && seconds >= 0
      ? withObservation(totals.duration, labels, TASK_DURATION_BOUNDS, seconds)
      : totals.duration;
  return [
    { key, doc: undefined },
    { key: TASKS_KEY, doc: { ...totals, finished: bumped(totals.finished, labelKey(open.taskType, open.pool, outcome)), duration } satisfies TaskTotals },
  ];
}

const tasksOf = async (view: ReadModelView): Promise<TaskTotals> => ((await view.get(TASKS_KEY)) as TaskTotals | undefined) ?? emptyTasks();

// ---- workflows ----------------------------------------------------------------------------

const emptyWorkflows = (): WorkflowTotals => ({ finished: {}, duration: {}, approvalsPending: 0 });

async function workflowChanges(workflowId: string, event: WorkflowEvent, view: ReadModelView): Promise<readonly Change[]> {
  const key = openWorkflowKey(workflowId);
  if (event.type === 'WorkflowStarted') {
    if (await view.get(key)) return [];
    return [{ key, doc: { template: event.data.definition.name, startedAt: event.data.at, pendingApprovals: [] } satisfies OpenWorkflow }];
  }
  const open = (await view.get(key)) as OpenWorkflow | undefined;
  if (!open) return [];
  const gate = 'stepId' in event.data && 'visit' in event.data ? `${event.data.stepId}.${event.data.visit}` : undefined;
  switch (event.type) {
    case 'ApprovalRequested':
      return gate === undefined || open.pendingApprovals.includes(gate) ? [] : withPending(key, open, [...open.pendingApprovals, gate], +1, view);
    case 'ApprovalGranted':
      return event.data.approved ? settled(key, open, gate, view) : [];
    case 'ApprovalRejected':
    case 'ApprovalTimedOut':
      return settled(key, open, gate, view);
    case 'WorkflowCompleted':
      return finishWorkflow(key, open, 'completed', event.data.at, view);
    case 'WorkflowFailed':
      return finishWorkflow(key, open, 'failed', event.data.at, view);
    case 'WorkflowCancelled':
      return finishWorkflow(key, open, 'cancelled', event.data.at, view);
    case 'WorkflowTimedOut':
      return finishWorkflow(key, open, 'timed_out', event.data.at, view);
    default:
      return [];
  }
}

const settled = (key: string, open: OpenWorkflow, gate: string | undefined, view: ReadModelView): Promise<readonly Change[]> | readonly Change[] =>
  gate !== undefined && open.pendingApprovals.includes(gate)
    ? withPending(
        key,
        open,
        open.pendingApprovals.filter((g) => g !== gate),
        -1,
        view,
      )
    : [];

async function withPending(key: string, open: OpenWorkflow, pendingApprovals: readonly string[], by: number, view: ReadModelView): Promise<readonly Change[]> {
  const totals = await workflowsOf(view);
  return [
    { key, doc: { ...open, pendingApprovals } satisfies OpenWorkflow },
    { key: WORKFLOWS_KEY, doc: { ...totals, approvalsPending: Math.max(0, totals.approvalsPending + by) } satisfies WorkflowTotals },
  ];
}

async function finishWorkflow(key: string, open: OpenWorkflow, outcome: string, at: string, view: ReadModelView): Promise<readonly Change[]> {
  const totals = await workflowsOf(view);
  const seconds = secondsBetween(open.startedAt, at);
  const template = labelKey(open.template);
  return [
    { key, doc: undefined },
    {
      key: WORKFLOWS_KEY,
      doc: {
        finished: bumped(totals.finished, labelKey(open.template, outcome)),
        duration: seconds === undefined ? totals.duration : withObservation(totals.duration, template, WORKFLOW_DURATION_BOUNDS, seconds),
        // Gates still open when the workflow ends will never be decided.
        approvalsPending: Math.max(0, totals.approvalsPending - open.pendingApprovals.length),
      } satisfies WorkflowTotals,
    },
  ];
}

const workflowsOf = async (view: ReadModelView): Promise<WorkflowTotals> => ((await view.get(WORKFLOWS_KEY)) as WorkflowTotals | undefined) ?? emptyWorkflows();

// ---- planner tokens and cost ----------------------------------------------------------------

type PlanSpend = Extract<PlanEvent, { type: 'PlanProposed' | 'PlanAmended' }>;

/** Plan events that carry model spend, read through the event catalog like every other reader. */
function planEventIn(recorded: RecordedEvent): PlanSpend | undefined {
  if (recorded.type !== 'PlanProposed' && recorded.type !== 'PlanAmended') return undefined;
  const entry = eventTypeEntry(recorded.type);
  const parsed = entry?.schema.safeParse(recorded.data);
  return parsed?.success ? ({ type: recorded.type, data: parsed.data } as PlanSpend) : undefined;
}

async function modelChanges(plan: PlanSpend, view: ReadModelView): Promise<readonly Change[]> {
  const totals = ((await view.get(MODELS_KEY)) as ModelTotals | undefined) ?? { tokens: {}, costUsd: {} };
  const { model, usage, costUsd } = plan.data;
  const tokens = bumped(bumped(totals.tokens, labelKey(model, 'input'), usage.inputTokens), labelKey(model, 'output'), usage.outputTokens);
  return [{ key: MODELS_KEY, doc: { tokens, costUsd: bumped(totals.costUsd, labelKey(model), costUsd) } satisfies ModelTotals }];
}

// ---- helpers --------------------------------------------------------------------------------

const bumped = (counts: Counts, key: string, by = 1): Counts => ({ ...counts, [key]: (counts[key] ?? 0) + by });

const withObservation = (histograms: Histograms, key: string, bounds: readonly number[], seconds: number): Histograms => ({
  ...histograms,
  [key]: observed(histograms[key], bounds, seconds),
});

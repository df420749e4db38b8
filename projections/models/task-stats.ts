import type { TaskEvent, TaskEventData } from '../../domain/task/events.ts';
import { isValidId } from '../../domain/streams.ts';
import type { Change, ProjectionDefinition, ReadModelView } from '../runtime/projection.ts';
import { opensStream, TASK_CATEGORY, taskEventIn } from '../../domain/events/typed-events.ts';
import { isTerminal, statusAfter, TASK_STATUSES, type RecordedTaskStatus } from './task-status.ts';

// Read model: how many tasks are in each status, overall and per task type, and how long the
// finished ones took. Each task is counted in exactly one status; a transition moves it from
// one count to the next, which needs the task's current status, kept in a per-task index.
//
// Keys:
//   `totals`             → TaskTotals
//   `type.<taskType>`    → TaskTypeStats
//   `task.<taskId>`      → TaskIndex, while the task is open; deleted once it finishes, since
//                          nothing follows a finished task in its stream.
// A task type that is not a valid id could not be a key, so such a task is not counted.
//
// Durations: for completed tasks, the run time the worker recorded; failed and cancelled tasks
// record none, so theirs is the time from queued to the end. Averages are totalMs / count.

export type StatusCounts = Readonly<Record<RecordedTaskStatus, number>>;

export type TaskTotals = { readonly byStatus: StatusCounts; readonly count: number };

/** `minMs` and `maxMs` appear with the first duration. */
export type DurationStats = { readonly count: number; readonly totalMs: number; readonly minMs?: number; readonly maxMs?: number };

export type TaskTypeStats = {
  readonly taskType: string;
  readonly byStatus: StatusCounts;
  readonly count: number;
  readonly completed: DurationStats;
  readonly failed: DurationStats;
  readonly cancelled: DurationStats;
};

export type TaskIndex = { readonly taskType: string; readonly status: RecordedTaskStatus; readonly queuedAt: string };

export const TOTALS_KEY = 'totals';
export const typeKey = (taskType: string): string => `type.${taskType}`;
export const taskIndexKey = (taskId: string): string => `task.${taskId}`;

export const taskStats: ProjectionDefinition = {
  name: 'task-stats',
  version: 1,
  description: 'Task counts by status, overall and per task type, with durations of finished tasks.',
  category: TASK_CATEGORY,
  async apply(recorded, view) {
    const typed = taskEventIn(recorded);
    if (typed === undefined) return [];
    if (typed.event.type !== 'TaskQueued') return moved(typed.id, typed.event, view);
    return opensStream(recorded) ? counted(typed.id, typed.event.data, view) : [];
  },
};

async function counted(taskId: string, data: TaskEventData<'TaskQueued'>, view: ReadModelView): Promise<readonly Change[]> {
  if (!isValidId(data.taskType)) return [];
  const totals = ((await view.get(TOTALS_KEY)) as TaskTotals | undefined) ?? emptyTotals();
  const type = ((await view.get(typeKey(data.taskType))) as TaskTypeStats | undefined) ?? emptyType(data.taskType);
  return [
    { key: taskIndexKey(taskId), doc: { taskType: data.taskType, status: 'queued', queuedAt: data.at } satisfies TaskIndex },
    { key: TOTALS_KEY, doc: { byStatus: bump(totals.byStatus, 'queued', 1), count: totals.count + 1 } satisfies TaskTotals },
    { key: typeKey(data.taskType), doc: { ...type, byStatus: bump(type.byStatus, 'queued', 1), count: type.count + 1 } satisfies TaskTypeStats },
  ];
}

async function moved(taskId: string, event: TaskEvent, view: ReadModelView): Promise<readonly Change[]> {
  const to = statusAfter(event);
  const task = (await view.get(taskIndexKey(taskId))) as TaskIndex | undefined;
  if (to === undefined || task === undefined || task.status === to) return [];
  const totals = ((await view.get(TOTALS_KEY)) as TaskTotals | undefined) ?? emptyTotals();
  const type = ((await view.get(typeKey(task.taskType))) as TaskTypeStats | undefined) ?? emptyType(task.taskType);
  const typeMoved: TaskTypeStats = { ...type, byStatus: move(type.byStatus, task.status, to) };
  const finished = isTerminal(to);
  return [
    { key: TOTALS_KEY, doc: { ...totals, byStatus: move(totals.byStatus, task.status, to) } },
    { key: typeKey(task.taskType), doc: finished ? withDuration(typeMoved, to, durationMs(task, event)) : typeMoved },
    { key: taskIndexKey(taskId), doc: finished ? undefined : { ...task, status: to } },
  ];
}

function durationMs(task: TaskIndex, event: TaskEvent): number | undefined {
  const ms = event.type === 'TaskCompleted' ? event.data.durationMs : Date.parse(event.data.at) - Date.parse(task.queuedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** A duration that cannot be read (unparseable or out-of-order times) is left out of the sums, not guessed. */
function withDuration(stats: TaskTypeStats, status: RecordedTaskStatus, ms: number | undefined): TaskTypeStats {
  if (ms === undefined || (status !== 'completed' && status !== 'failed' && status !== 'cancelled')) return stats;
  const d = stats[status];
  return {
    ...stats,
    [status]: { count: d.count + 1, totalMs: d.totalMs + ms, minMs: Math.min(d.minMs ?? ms, ms), maxMs: Math.max(d.maxMs ?? ms, ms) },
  };
}

const zeroCounts = (): StatusCounts => Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<RecordedTaskStatus, number>;
const noDurations = (): DurationStats => ({ count: 0, totalMs: 0 });
const emptyTotals = (): TaskTotals => ({ byStatus: zeroCounts(), count: 0 });
const emptyType = (taskType: string): TaskTypeStats => ({
  taskType,
  byStatus: zeroCounts(),
  count: 0,
  completed: noDurations(),
  failed: noDurations(),
  cancelled: noDurations(),
});

const bump = (counts: StatusCounts, status: RecordedTaskStatus, by: number): StatusCounts => ({ ...counts, [status]: Math.max(0, (counts[status] ?? 0) + by) });

/** Floored at zero so a count damaged elsewhere never goes negative. */
const move = (counts: StatusCounts, from: RecordedTaskStatus, to: RecordedTaskStatus): StatusCounts => bump(bump(counts, from, -1), to, 1);

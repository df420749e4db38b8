import { nextPendingRetry, type PendingRetry } from '../../domain/process/task-dispatch.ts';
import { TASK_CATEGORY, taskEventIn } from '../../domain/events/typed-events.ts';
import type { ProjectionDefinition } from '../runtime/projection.ts';

// Read model: every task retry waiting for its due time, from which the dispatcher rebuilds its
// part of the durable agenda at start (beside `workflow-timers`, the workflow engine's part). The
// fold is domain/process/task-dispatch.ts's `nextPendingRetry`, which the dispatcher also runs
// over the rest of a task's stream when the model is behind it.
//
// Keys:
//   `<taskId>` → PendingRetry, from TaskRetryScheduled until that attempt is assigned or the task ends (then deleted).

export const taskRetryTimers: ProjectionDefinition = {
  name: 'task-retry-timers',
  version: 1,
  description: 'Per task waiting for a retry: the attempt and its due time, for the dispatcher to arm after a restart.',
  category: TASK_CATEGORY,
  async apply(recorded, view) {
    const typed = taskEventIn(recorded);
    if (typed === undefined) return [];
    const before = (await view.get(typed.id)) as PendingRetry | undefined;
    const after = nextPendingRetry(before, typed.id, typed.event, Number(recorded.revision));
    if (after === before || (after === undefined && before === undefined)) return [];
    return [{ key: typed.id, doc: after }];
  },
};

/** What the dispatcher reads the pending retries through. */
export interface TaskRetryTimersSource {
  get(key: string): Promise<Record<string, unknown> | undefined>;
  all(): Promise<Map<string, Record<string, unknown>>>;
}

export const taskRetryAgenda = (model: TaskRetryTimersSource) => ({
  async pending(): Promise<PendingRetry[]> {
    return [...(await model.all()).values()] as PendingRetry[];
  },
  async get(taskId: string): Promise<PendingRetry | undefined> {
    return (await model.get(taskId)) as PendingRetry | undefined;
  },
});

export type TaskRetryAgenda = ReturnType<typeof taskRetryAgenda>;

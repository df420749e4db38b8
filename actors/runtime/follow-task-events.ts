import { TASK_CATEGORY, taskEventIn } from '../../domain/events/typed-events.ts';
import type { TaskEvent } from '../../domain/task/events.ts';
import type { FollowedCategory } from './process-manager-host.ts';

/** The task category as a manager keyed by task id follows it, under its own checkpoint. */
export const followTaskEvents = (checkpoint: string): FollowedCategory<TaskEvent> => ({
  category: TASK_CATEGORY,
  checkpoint,
  read: (recorded) => {
    const typed = taskEventIn(recorded);
    return typed && { key: typed.id, event: typed.event };
  },
});

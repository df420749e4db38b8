import { nextTimers, type WorkflowTimers } from '../../domain/workflow/timers.ts';
import type { ProjectionDefinition } from '../runtime/projection.ts';
import { WORKFLOW_CATEGORY, workflowEventIn } from '../../domain/events/typed-events.ts';

// Read model: every running workflow's pending timers (retries, approval timeouts and reminders,
// step timeouts, the workflow's maximum time), from which the workflow engine rebuilds its
// agenda at start. The fold is domain/workflow/timers.ts, which the engine also runs on the
// events it follows.
//
// Keys:
//   `<workflowId>` → WorkflowTimers, from WorkflowStarted until the workflow ends (then deleted).
// Each document records the stream revision it reflects, so a reader that finds the model
// behind reads the rest of that workflow's stream and folds it in (see actors/workflow-engine.ts).

export const workflowTimers: ProjectionDefinition = {
  name: 'workflow-timers',
  version: 1,
  description: 'Per running workflow: the timers it waits on, with their due times, for the workflow engine to arm after a restart.',
  category: WORKFLOW_CATEGORY,
  async apply(recorded, view) {
    const typed = workflowEventIn(recorded);
    if (typed === undefined) return [];
    const before = (await view.get(typed.id)) as WorkflowTimers | undefined;
    const after = nextTimers(before, typed.event, Number(recorded.revision));
    return after === before ? [] : [{ key: typed.id, doc: after }];
  },
};

/** What the workflow engine reads the agenda through (its `TimerAgenda`). */
export interface WorkflowTimersSource {
  get(key: string): Promise<Record<string, unknown> | undefined>;
  all(): Promise<Map<string, Record<string, unknown>>>;
}

export const workflowTimersAgenda = (model: WorkflowTimersSource) => ({
  async running(): Promise<WorkflowTimers[]> {
    return [...(await model.all()).values()] as WorkflowTimers[];
  },
  async holding(workflowIds: readonly string[]): Promise<Set<string>> {
    const found = await Promise.all(workflowIds.map(async (id) => ((await model.get(id)) ? id : undefined)));
    return new Set(found.filter((id) => id !== undefined));
  },
});

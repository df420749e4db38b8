import type { TaskEvent, TaskEventData } from '../../domain/task/events.ts';
import { isValidId } from '../../domain/streams.ts';
import type { Change, ProjectionDefinition, ReadModelView } from '../runtime/projection.ts';
import { opensStream, TASK_CATEGORY, taskEventIn } from '../../domain/events/typed-events.ts';
import { isTerminal, statusAfter, type RecordedTaskStatus } from './task-status.ts';

// Read model: the tasks each conversation started, for "what is running in this thread" and
// for resolving "those issues" (CM2). Built from task events alone: only TaskQueued names the
// conversation, so the model keeps its own index from task to conversation.
//
// Keys:
//   `<conversationId>`   → ConversationTasks
//   `task.<taskId>`      → TaskIndex, while the task is open; deleted once it finishes, since
//                          nothing follows a finished task in its stream.
// Ids never contain `.` (they are stream-name ids), so the two kinds of key cannot collide.
// A conversation id that is not a valid id could break that, so such a task is not listed.

export interface ConversationTask {
  readonly taskId: string;
  readonly taskType: string;
  readonly status: RecordedTaskStatus;
  readonly queuedAt: string;
  readonly finishedAt?: string;
}

export type ConversationTasks = {
  readonly conversationId: string;
  /** In the order they were queued. */
  readonly tasks: readonly ConversationTask[];
};

export type TaskIndex = { readonly conversationId: string };

export const taskIndexKey = (taskId: string): string => `task.${taskId}`;

export const conversationTasks: ProjectionDefinition = {
  name: 'conversation-tasks',
  version: 1,
  description: 'Per conversation: the tasks it started, with their status.',
  category: TASK_CATEGORY,
  async apply(recorded, view) {
    const typed = taskEventIn(recorded);
    if (typed === undefined) return [];
    if (typed.event.type !== 'TaskQueued') return statusChanged(typed.id, typed.event, view);
    return opensStream(recorded) ? listed(typed.id, typed.event.data, view) : [];
  },
};

async function listed(taskId: string, data: TaskEventData<'TaskQueued'>, view: ReadModelView): Promise<readonly Change[]> {
  const { conversationId } = data;
  if (conversationId === undefined || !isValidId(conversationId)) return [];
  const before = (await view.get(conversationId)) as ConversationTasks | undefined;
  const entry: ConversationTask = { taskId, taskType: data.taskType, status: 'queued', queuedAt: data.at };
  const tasks = [...(before?.tasks ?? []).filter((t) => t.taskId !== taskId), entry];
  return [
    { key: taskIndexKey(taskId), doc: { conversationId } satisfies TaskIndex },
    { key: conversationId, doc: { conversationId, tasks } satisfies ConversationTasks },
  ];
}

async function statusChanged(taskId: string, event: TaskEvent, view: ReadModelView): Promise<readonly Change[]> {
  const status = statusAfter(event);
  const index = (await view.get(taskIndexKey(taskId))) as TaskIndex | undefined;
  if (status === undefined || index === undefined) return [];
  const before = (await view.get(index.conversationId)) as ConversationTasks | undefined;
  const current = before?.tasks.find((t) => t.taskId === taskId);
  if (before === undefined || current === undefined || current.status === status) return [];
  const finished = isTerminal(status);
  const updated: ConversationTask = { ...current, status, ...(finished && { finishedAt: event.data.at }) };
  return [
    { key: index.conversationId, doc: { ...before, tasks: before.tasks.map((t) => (t.taskId === taskId ? updated : t)) } },
    ...(finished ? [{ key: taskIndexKey(taskId), doc: undefined }] : []),
  ];
}

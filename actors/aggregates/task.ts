import { parseTaskCommand, taskDecider, type TaskCommand, type TaskEvent, type TaskState } from '../../domain/task/index.ts';
import type { AggregateDefinition } from '../runtime/aggregate-definition.ts';
import { commandCatalog } from '../../domain/commands/catalog.ts';
import { parseWithId } from './parse-with-id.ts';

export const taskAggregate: AggregateDefinition<TaskCommand, TaskEvent, TaskState> = {
  category: 'task',
  decider: taskDecider,
  creates: ['QueueTask'],
  schemaVersion: 1,
  // The state is plain JSON, so the default encoding serves.
  // 2: the state keeps the payload, and attempts record their unknown outcome and its decision.
  snapshot: { version: 2 },
  // Who decides or cancels is who sent it, never a field of the payload.
  parseCommand: parseWithId(commandCatalog.task.idField, parseTaskCommand, commandCatalog.task.actorFields),
};

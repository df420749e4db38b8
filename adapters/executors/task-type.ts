import type { Executor } from '../../domain/ports/executor.ts';
import type { TaskTypeDescriptor } from '../../domain/task-types/descriptor.ts';

/**
 * One task type as registered: how a worker runs it (the executor) and what the rest of the
 * product knows about it (its descriptor: chat phrasing, reply format, estimate, cost setting).
 */
export type TaskTypeExecutor<Params = unknown, Result = unknown> = Executor<Params, Result> & TaskTypeDescriptor;

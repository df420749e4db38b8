import type { Decider } from '../decider.ts';
import type { TaskCommand } from './commands.ts';
import { decide } from './decide.ts';
import type { TaskEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState, type TaskState } from './state.ts';

export const taskDecider: Decider<TaskCommand, TaskEvent, TaskState> = { decide, evolve, initialState };

export { evidenceSchema, parseTaskCommand, taskCommandSchemas, type TaskCommand, type TaskCommandOf, type TaskCommandType } from './commands.ts';
export { taskEventSchemas, taskEventOf, type TaskEvent, type TaskEventData, type TaskEventOf, type TaskEventType } from './events.ts';
export { prioritySchema, replyTargetSchema, taskErrorSchema, type Priority, type ReplyTarget, type TaskError } from './fields.ts';
export type { TaskRejection, TaskRejectionCode } from './rejections.ts';
export { defaultRetryDelayMs } from './retry.ts';
export { initialState, isFinished, type Attempt, type AttemptOutcome, type OutcomeResolution, type Task, type TaskState, type TaskStatus } from './state.ts';
export type { InvalidCommand } from '../validation.ts';

import { match } from 'ts-pattern';
import type { TaskError } from '../task/fields.ts';
import { descriptorOf, type TaskTypeDescriptor } from '../task-types/descriptor.ts';
import { formatDuration, isDuration, prettyJson } from './format.ts';
import type { ReplyAction, ReplyDocument } from './reply-document.ts';

// The reply a task's end gets: in its type's reply format (the descriptor's `reply`) for the
// results we know how to read, a generic document with the raw JSON for any other (an unknown
// type, or a result of an unexpected shape: showing it as returned beats guessing), the error
// for a failure, the reason for a cancellation.

/** The registered task types' reply formats (adapters/executors/registry.ts). */
export type ReplyFormats = readonly Pick<TaskTypeDescriptor, 'taskType' | 'reply'>[];

export type TaskOutcome = 'completed' | 'failed' | 'cancelled';

export interface ResultReplyInput {
  readonly taskId: string;
  readonly taskType: string;
  readonly outcome: TaskOutcome;
  readonly result?: unknown;
  readonly error?: TaskError;
  readonly reason?: string;
  readonly durationMs?: number;
  readonly repository?: string;
}

export const RERUN_ACTION_ID = 'rerun_task';

function repositoryOf(input: ResultReplyInput): string | undefined {
  if (input.repository) return input.repository;
  const result = input.result;
  if (typeof result === 'object' && result !== null && 'repository' in result && typeof result.repository === 'string') return result.repository;
  return undefined;
}

function footer(input: ResultReplyInput): string {
  const repository = repositoryOf(input);
  return [repository, `task ${input.taskId}`, isDuration(input.durationMs) ? `took ${formatDuration(input.durationMs)}` : undefined]
    .filter((part): part is string => Boolean(part))
    .join(' · ');
}

function genericReply(input: ResultReplyInput, known: boolean): ReplyDocument {
  const note = known ? `The result did not have the shape a ${input.taskType} result has, so it is shown as returned.` : undefined;
  // null: nothing came back, as when a person marked a task whose outcome was unknown as done.
  if (input.result === undefined || input.result === null)
    return { title: `${input.taskType} completed`, tone: 'success', summary: note ?? 'Completed with no result.' };
  return {
    title: `${input.taskType} completed`,
    tone: known ? 'warning' : 'success',
    ...(note ? { summary: note } : {}),
    code: { title: 'Result', text: prettyJson(input.result) },
  };
}

function completedReply(input: ResultReplyInput, formats: ReplyFormats): ReplyDocument {
  const render = descriptorOf(formats, input.taskType)?.reply;
  const document = render?.(input.result) ?? genericReply(input, render !== undefined);
  const rerun: ReplyAction = { actionId: RERUN_ACTION_ID, label: 'Re-run', value: input.taskId };
  return { ...document, actions: [...(document.actions ?? []), rerun] };
}

function failedReply(input: ResultReplyInput): ReplyDocument {
  return {
    title: `${input.taskType} failed`,
    tone: 'failure',
    summary: input.error?.message || 'The task failed without an error message.',
    ...(input.error ? { fields: [{ label: 'Error', value: input.error.code }] } : {}),
  };
}

function cancelledReply(input: ResultReplyInput): ReplyDocument {
  return {
    title: `${input.taskType} cancelled`,
    tone: 'warning',
    summary: input.reason ? `Cancelled: ${input.reason}` : 'Cancelled before it finished.',
  };
}

export function resultReply(input: ResultReplyInput, formats: ReplyFormats): ReplyDocument {
  const document = match(input.outcome)
    .with('completed', () => completedReply(input, formats))
    .with('failed', () => failedReply(input))
    .with('cancelled', () => cancelledReply(input))
    .exhaustive();
  return { ...document, footer: footer(input) };
}

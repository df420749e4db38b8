import type { OutcomeDecision, UnknownOutcomeInput } from '../replies/unknown-outcome-reply.ts';
import type { TaskEvent } from '../task/events.ts';
import type { ReplyTarget } from '../task/fields.ts';

// A task's unknown outcomes as people see them, folded from the task's events as they arrive:
// what the thread notifier draws an unknown outcome's message from. One entry per attempt whose
// outcome was unknown, with its evidence, its decision once made, and what to say instead when
// the task was cancelled while a decision was awaited.

export interface TaskOutcomesSeen {
  readonly queued?: {
    readonly taskType: string;
    readonly conversationId?: string;
    readonly replyTo?: ReplyTarget;
    readonly repository?: string;
    readonly mode?: string;
  };
  /** Evidence recorded per attempt, merged (latest value per key). */
  readonly evidence: Readonly<Record<number, Readonly<Record<string, string>>>>;
  /** Oldest first; an undecided one carries `endedUndecided` once the task was cancelled. */
  readonly outcomes: readonly UnknownOutcomeInput[];
  /** Completed, failed for good or cancelled. */
  readonly finished: boolean;
}

export const noTaskOutcomes = (): TaskOutcomesSeen => ({ evidence: {}, outcomes: [], finished: false });

const stringParam = (payload: unknown, key: string): string | undefined => {
  const value = (payload as Record<string, unknown> | null | undefined)?.[key];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
};

export function taskOutcomesAfter(seen: TaskOutcomesSeen, event: TaskEvent): TaskOutcomesSeen {
  switch (event.type) {
    case 'TaskQueued': {
      const { data } = event;
      const repository = stringParam(data.payload, 'repository');
      const mode = stringParam(data.payload, 'mode');
      return {
        ...seen,
        queued: {
          taskType: data.taskType,
          ...(data.conversationId !== undefined && { conversationId: data.conversationId }),
          ...(data.replyTo !== undefined && { replyTo: data.replyTo }),
          ...(repository && { repository }),
          ...(mode && { mode }),
        },
      };
    }
    case 'TaskAttemptEvidenceRecorded': {
      const { attempt, evidence } = event.data;
      return { ...seen, evidence: { ...seen.evidence, [attempt]: { ...seen.evidence[attempt], ...evidence } } };
    }
    case 'TaskOutcomeUnknown': {
      if (!seen.queued) return seen;
      const { data } = event;
      const evidence = data.evidence ?? seen.evidence[data.attempt];
      const { taskType, repository, mode } = seen.queued;
      const input: UnknownOutcomeInput = {
        taskId: data.taskId,
        taskType,
        attempt: data.attempt,
        workerId: data.workerId,
        reason: data.reason,
        ...(evidence && Object.keys(evidence).length > 0 && { evidence }),
        ...(repository && { repository }),
        ...(mode && { mode }),
      };
      return { ...seen, outcomes: [...seen.outcomes, input] };
    }
    case 'TaskOutcomeResolved': {
      const { data } = event;
      const at = seen.outcomes.findIndex((o) => o.attempt === data.attempt && o.decision === undefined && o.endedUndecided === undefined);
      if (at < 0) return seen;
      const decision: OutcomeDecision = {
        resolution: data.resolution,
        resolvedBy: data.resolvedBy,
        via: data.via,
        ...(data.reason !== undefined && { reason: data.reason }),
      };
      return { ...seen, outcomes: seen.outcomes.map((o, i) => (i === at ? { ...o, decision } : o)) };
    }
    case 'TaskCancelled': {
      // A cancellation while a decision was awaited ends that wait; decided ones stay as they were.
      const ended = `the task was cancelled by ${event.data.requestedBy}`;
      return { ...seen, finished: true, outcomes: seen.outcomes.map((o) => (o.decision || o.endedUndecided ? o : { ...o, endedUndecided: ended })) };
    }
    case 'TaskCompleted':
      return { ...seen, finished: true };
    case 'TaskFailed':
      return event.data.final ? { ...seen, finished: true } : seen;
    default:
      return seen;
  }
}

import type { EventStore } from '../domain/ports/event-store.ts';
import type { OutcomeDecision, UnknownOutcomeInput } from '../domain/replies/unknown-outcome-reply.ts';
import { streamName } from '../domain/streams.ts';
import type { ReplyTarget } from '../domain/task/fields.ts';
import { taskEventIn } from '../domain/events/typed-events.ts';

// A task's unknown outcomes as people see them, read from the task's own events: the thread
// notifier draws its message from this, and the decision desk checks a click against it (who
// asked for the task, whether the attempt was decided already, and by whom).

export interface UnknownOutcomeRecord {
  readonly input: UnknownOutcomeInput;
  /** Still waiting: no decision, and the task did not end otherwise. */
  readonly open: boolean;
}

export interface TaskOutcomes {
  readonly taskId: string;
  readonly taskType: string;
  readonly requestedBy: string;
  readonly conversationId?: string;
  readonly workflowId?: string;
  readonly replyTo?: ReplyTarget;
  /** One per attempt whose outcome was unknown, oldest first. */
  readonly outcomes: readonly UnknownOutcomeRecord[];
}

const stringParam = (payload: unknown, key: string): string | undefined => {
  const value = (payload as Record<string, unknown> | null | undefined)?.[key];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
};

/** Undefined when the task does not exist. */
export async function readTaskOutcomes(store: EventStore, taskId: string): Promise<TaskOutcomes | undefined> {
  const { events } = await store.read(streamName('task', taskId));
  let task: Omit<TaskOutcomes, 'outcomes'> | undefined;
  let payload: unknown;
  const evidence = new Map<number, Record<string, string>>();
  const inputs: UnknownOutcomeInput[] = [];
  let ended: string | undefined;
  for (const recorded of events) {
    const typed = taskEventIn(recorded);
    if (!typed) continue;
    const { event } = typed;
    switch (event.type) {
      case 'TaskQueued':
        payload = event.data.payload;
        task = {
          taskId,
          taskType: event.data.taskType,
          requestedBy: event.data.requestedBy,
          ...(event.data.conversationId !== undefined && { conversationId: event.data.conversationId }),
          ...(event.data.workflowId !== undefined && { workflowId: event.data.workflowId }),
          ...(event.data.replyTo !== undefined && { replyTo: event.data.replyTo }),
        };
        break;
      case 'TaskAttemptEvidenceRecorded':
        evidence.set(event.data.attempt, { ...evidence.get(event.data.attempt), ...event.data.evidence });
        break;
      case 'TaskOutcomeUnknown': {
        if (!task) break;
        const recordedEvidence = event.data.evidence ?? evidence.get(event.data.attempt);
        const repository = stringParam(payload, 'repository');
        const mode = stringParam(payload, 'mode');
        inputs.push({
          taskId,
          taskType: task.taskType,
          attempt: event.data.attempt,
          workerId: event.data.workerId,
          reason: event.data.reason,
          ...(recordedEvidence && Object.keys(recordedEvidence).length > 0 && { evidence: recordedEvidence }),
          ...(repository && { repository }),
          ...(mode && { mode }),
        });
        break;
      }
      case 'TaskOutcomeResolved': {
        const at = inputs.findIndex((i) => i.attempt === event.data.attempt && i.decision === undefined);
        if (at < 0) break;
        const decision: OutcomeDecision = {
          resolution: event.data.resolution,
          resolvedBy: event.data.resolvedBy,
          via: event.data.via,
          ...(event.data.reason !== undefined && { reason: event.data.reason }),
        };
        inputs[at] = { ...inputs[at]!, decision };
        break;
      }
      case 'TaskCancelled':
        ended = `the task was cancelled by ${event.data.requestedBy}`;
        break;
      default:
        break;
    }
  }
  if (!task) return undefined;
  // A cancellation while a decision was awaited ends that wait; earlier decided ones stay as they were.
  const outcomes = inputs.map((input): UnknownOutcomeRecord => {
    if (input.decision) return { input, open: false };
    return ended ? { input: { ...input, endedUndecided: ended }, open: false } : { input, open: true };
  });
  return { ...task, outcomes };
}

export const outcomeOfAttempt = (task: TaskOutcomes, attempt: number): UnknownOutcomeRecord | undefined =>
  task.outcomes.findLast((o) => o.input.attempt === attempt);

/** The decision on a task's latest unknown outcome, if there was one. */
export const latestDecision = (task: TaskOutcomes): OutcomeDecision | undefined => task.outcomes.at(-1)?.input.decision;

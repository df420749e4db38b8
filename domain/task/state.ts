import type { Priority, ReplyTarget, TaskError } from './fields.ts';

/**
 * `queued`: waiting for a worker (first time, or after a silent worker's attempt was abandoned);
 * `retryScheduled`: waiting until `retry.dueAt`; `outcomeUnknown`: an attempt that may have had
 * side effects ended without a known outcome, and waits for a person (or a check) to resolve it;
 * the rest say what they mean.
 */
export type TaskStatus = 'none' | 'queued' | 'running' | 'retryScheduled' | 'outcomeUnknown' | 'completed' | 'failed' | 'cancelled';

export type OutcomeResolution = 'rerun' | 'completed' | 'failed';

export type AttemptOutcome = 'running' | 'completed' | 'failed' | 'timedOut' | 'abandoned' | 'cancelled';

export interface Attempt {
  readonly attempt: number;
  readonly workerId: string;
  readonly assignedAt: string;
  readonly timesOutAt: string;
  readonly outcome: AttemptOutcome;
  /** The last progress reported in this attempt; a new attempt starts again from nothing. */
  readonly progress?: { readonly stage: string; readonly percent: number; readonly at: string };
  /** What the attempt recorded about what it started outside (merged, latest value per key). */
  readonly evidence?: Readonly<Record<string, string>>;
  /** The attempt ended without a known outcome: why, and who decided it and how, once decided. */
  readonly unknownOutcome?: { readonly reason: string; readonly decision?: OutcomeDecisionRecord };
}

export interface OutcomeDecisionRecord {
  readonly resolution: OutcomeResolution;
  readonly resolvedBy: string;
  readonly via: 'person' | 'check';
  readonly reason?: string;
}

export interface Task {
  readonly status: Exclude<TaskStatus, 'none'>;
  readonly taskId: string;
  readonly taskType: string;
  readonly pool: string;
  readonly priority: Priority;
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  readonly requestedBy: string;
  /** The parameters it was queued with: what running it again repeats. */
  readonly payload: unknown;
  readonly queuedAt: string;
  readonly replyTo?: ReplyTarget;
  readonly conversationId?: string;
  readonly workflowId?: string;
  readonly stepId?: string;
  /** The latest attempt a worker took (0 before the first); later commands must name it. */
  readonly attempt: number;
  /** Every attempt a worker took, oldest first. */
  readonly attempts: readonly Attempt[];
  readonly retry?: { readonly nextAttempt: number; readonly dueAt: string };
  readonly finishedAt?: string;
  /** Why the task failed for good. */
  readonly error?: TaskError;
  readonly cancellation?: { readonly reason: string; readonly requestedBy: string };
  /** While `outcomeUnknown`: which attempt, whose, why, and what it recorded. */
  readonly outcomeUnknown?: {
    readonly attempt: number;
    readonly workerId: string;
    readonly reason: string;
    readonly evidence?: Readonly<Record<string, string>>;
  };
  /** The last resolution of an unknown outcome, so the same resolution repeated changes nothing. */
  readonly resolved?: { readonly attempt: number; readonly resolution: OutcomeResolution };
  /** The attempt a person asked to run again: allowed even past `maxAttempts`. */
  readonly rerunAttempt?: number;
}

export type TaskState = { readonly status: 'none' } | Task;

export const initialState = (): TaskState => ({ status: 'none' });

/** Completed, failed for good, or cancelled: nothing more will run. */
export const isFinished = (state: TaskState): boolean => state.status === 'completed' || state.status === 'failed' || state.status === 'cancelled';

export const attemptNumbered = (task: Task, attempt: number): Attempt | undefined => task.attempts.find((a) => a.attempt === attempt);

/** The attempt a worker is running now, if any. */
export const runningAttempt = (task: Task): Attempt | undefined => (task.status === 'running' ? attemptNumbered(task, task.attempt) : undefined);

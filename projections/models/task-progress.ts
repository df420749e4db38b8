import { match } from 'ts-pattern';
import { estimateCompletion, type Eta } from '../../domain/progress/eta.ts';
import type { TaskEvent, TaskEventData } from '../../domain/task/events.ts';
import type { Priority, ReplyTarget, TaskError } from '../../domain/task/fields.ts';
import type { AttemptOutcome } from '../../domain/task/state.ts';
import type { ProjectionDefinition } from '../runtime/projection.ts';
import { TASK_CATEGORY, taskEventIn } from '../../domain/events/typed-events.ts';
import { isTerminal, type RecordedTaskStatus } from './task-status.ts';

// Read model: one document per task, keyed by task id: what a live progress message or a
// status query shows (RP2, TW5). Percent never goes back within an attempt and starts again
// from 0 when a worker takes a new attempt. The ETA is the domain's estimate from the current
// attempt's start and the latest report, so it exists only while an attempt is running.
// `error` is the latest failure, final or not, so a scheduled retry can say why; a new
// attempt clears it.

export interface AttemptView {
  readonly attempt: number;
  readonly workerId: string;
  readonly assignedAt: string;
  readonly outcome: AttemptOutcome;
}

export type TaskProgress = {
  readonly taskId: string;
  readonly taskType: string;
  readonly pool: string;
  readonly status: RecordedTaskStatus;
  readonly priority: Priority;
  readonly requestedBy: string;
  readonly conversationId?: string;
  readonly workflowId?: string;
  readonly stepId?: string;
  readonly replyTo?: ReplyTarget;
  readonly queuedAt: string;
  readonly maxAttempts: number;
  /** The latest attempt a worker took; 0 before the first. */
  readonly attempt: number;
  readonly attempts: readonly AttemptView[];
  readonly stage?: string;
  readonly percent: number;
  readonly details?: string;
  /** Merged across the reports of the current attempt: a report may carry only the counters that moved. */
  readonly counters?: Readonly<Record<string, number>>;
  /** When the latest attempt was assigned. */
  readonly startedAt?: string;
  readonly eta?: Eta;
  readonly lastUpdate: string;
  readonly finishedAt?: string;
  /** Run time the worker recorded on completion. */
  readonly durationMs?: number;
  readonly result?: unknown;
  readonly error?: TaskError;
  readonly cancellation?: { readonly reason: string; readonly requestedBy: string };
  readonly retry?: { readonly nextAttempt: number; readonly dueAt: string };
  /** What the latest attempt recorded about what it started outside (e.g. a deploy job id). */
  readonly evidence?: Readonly<Record<string, string>>;
  /** While `outcomeUnknown`: which attempt ended without a known outcome, and why. */
  readonly outcomeUnknown?: {
    readonly attempt: number;
    readonly workerId: string;
    readonly reason: string;
    readonly evidence?: Readonly<Record<string, string>>;
  };
  /** How the last unknown outcome was resolved. */
  readonly resolution?: {
    readonly resolution: 'rerun' | 'completed' | 'failed';
    readonly resolvedBy: string;
    readonly via: 'person' | 'check';
    readonly reason?: string;
    readonly at: string;
  };
};

export const taskProgress: ProjectionDefinition = {
  name: 'task-progress',
  version: 1,
  description: 'Per task: status, attempts, stage, percent, ETA, counters and outcome, for live progress messages and status queries.',
  category: TASK_CATEGORY,
  async apply(recorded, view) {
    const typed = taskEventIn(recorded);
    if (typed === undefined) return [];
    const before = (await view.get(typed.id)) as TaskProgress | undefined;
    const after = progressAfter(before, typed.event);
    return after === undefined ? [] : [{ key: typed.id, doc: after }];
  },
};

/** Undefined when the event changes nothing: a task queued twice, or anything for an unknown or finished task. */
function progressAfter(doc: TaskProgress | undefined, event: TaskEvent): TaskProgress | undefined {
  if (event.type === 'TaskQueued') return doc === undefined ? queued(event.data) : undefined;
  if (doc === undefined || isTerminal(doc.status)) return undefined;
  return match(event)
    .returnType<TaskProgress | undefined>()
    .with({ type: 'TaskAssigned' }, ({ data }) => assigned(doc, data))
    .with({ type: 'TaskProgressed' }, ({ data }) => progressed(doc, data))
    .with({ type: 'TaskAttemptAbandoned' }, ({ data }) => ({ ...attemptEnded(doc, data.attempt, 'abandoned'), status: 'queued', lastUpdate: data.at }))
    .with({ type: 'TaskTimedOut' }, ({ data }) => ({ ...attemptEnded(doc, data.attempt, 'timedOut'), status: 'queued', lastUpdate: data.at }))
    .with({ type: 'TaskCompleted' }, ({ data }) => ({
      ...attemptEnded(doc, data.attempt, 'completed'),
      status: 'completed',
      percent: 100,
      lastUpdate: data.at,
      finishedAt: data.at,
      durationMs: data.durationMs,
      ...(data.result !== undefined && { result: data.result }),
    }))
    .with({ type: 'TaskFailed' }, ({ data }) => ({
      ...attemptEnded(doc, data.attempt, 'failed'),
      error: data.error,
      lastUpdate: data.at,
      ...(data.final ? { status: 'failed' as const, finishedAt: data.at } : { status: 'queued' as const }),
    }))
    .with({ type: 'TaskRetryScheduled' }, ({ data }) => ({
      ...omit(doc, 'outcomeUnknown'),
      status: 'retryScheduled',
      retry: { nextAttempt: data.nextAttempt, dueAt: data.dueAt },
      lastUpdate: data.at,
    }))
    .with({ type: 'TaskAttemptEvidenceRecorded' }, ({ data }) => ({
      ...doc,
      evidence: { ...doc.evidence, ...data.evidence },
      // The cut-off worker of the attempt whose outcome is unknown may still record what it started.
      ...(doc.outcomeUnknown?.attempt === data.attempt && {
        outcomeUnknown: { ...doc.outcomeUnknown, evidence: { ...doc.outcomeUnknown.evidence, ...data.evidence } },
      }),
      lastUpdate: data.at,
    }))
    .with({ type: 'TaskOutcomeUnknown' }, ({ data }) => ({
      ...omit(doc, 'eta', 'retry'),
      status: 'outcomeUnknown',
      outcomeUnknown: { attempt: data.attempt, workerId: data.workerId, reason: data.reason, ...(data.evidence !== undefined && { evidence: data.evidence }) },
      lastUpdate: data.at,
    }))
    .with({ type: 'TaskOutcomeResolved' }, ({ data }) => ({
      ...omit(doc, 'outcomeUnknown'),
      resolution: {
        resolution: data.resolution,
        resolvedBy: data.resolvedBy,
        via: data.via,
        ...(data.reason !== undefined && { reason: data.reason }),
        at: data.at,
      },
      lastUpdate: data.at,
    }))
    .with({ type: 'TaskCancelled' }, ({ data }) => ({
      ...omit(data.attempt === undefined ? omit(doc, 'eta') : attemptEnded(doc, data.attempt, 'cancelled'), 'retry'),
      status: 'cancelled',
      lastUpdate: data.at,
      finishedAt: data.at,
      cancellation: { reason: data.reason, requestedBy: data.requestedBy },
    }))
    .exhaustive();
}

const queued = ({ at, payload: _payload, timeoutMs: _timeoutMs, ...task }: TaskEventData<'TaskQueued'>): TaskProgress => ({
  ...task,
  status: 'queued',
  queuedAt: at,
  attempt: 0,
  attempts: [],
  percent: 0,
  lastUpdate: at,
});

const assigned = (doc: TaskProgress, data: TaskEventData<'TaskAssigned'>): TaskProgress => ({
  ...omit(doc, 'stage', 'details', 'counters', 'eta', 'retry', 'error', 'evidence'),
  status: 'running',
  attempt: data.attempt,
  attempts: [...doc.attempts, { attempt: data.attempt, workerId: data.workerId, assignedAt: data.at, outcome: 'running' }],
  percent: 0,
  startedAt: data.at,
  lastUpdate: data.at,
});

function progressed(doc: TaskProgress, data: TaskEventData<'TaskProgressed'>): TaskProgress | undefined {
  // A report from an attempt that is no longer running describes work nobody is doing now.
  if (doc.status !== 'running' || data.attempt !== doc.attempt) return undefined;
  const percent = Math.max(doc.percent, data.percent);
  const eta = doc.startedAt === undefined ? undefined : estimateCompletion({ startedAt: doc.startedAt, at: data.at, percent });
  const counters = data.counters === undefined ? doc.counters : { ...doc.counters, ...data.counters };
  return {
    ...omit(doc, 'details', 'eta'),
    stage: data.stage,
    percent,
    ...(data.details !== undefined && { details: data.details }),
    ...(counters !== undefined && { counters }),
    ...(eta !== undefined && { eta }),
    lastUpdate: data.at,
  };
}

/** The attempt's outcome recorded; with no attempt running there is nothing left to estimate. */
const attemptEnded = (doc: TaskProgress, attempt: number, outcome: AttemptOutcome): TaskProgress => ({
  ...omit(doc, 'eta'),
  attempts: doc.attempts.map((a) => (a.attempt === attempt ? { ...a, outcome } : a)),
});

/** Documents are stored as JSON, so an absent field is left out rather than set to undefined. */
function omit<T extends object, K extends keyof T>(value: T, ...keys: K[]): Omit<T, K> {
  const copy = { ...value };
  for (const key of keys) delete copy[key];
  return copy;
}

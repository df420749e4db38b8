import { expect } from 'vitest';
import type { ConversationEventData, ConversationEventType } from '../../domain/conversation/events.ts';
import type { EventMetadata, GlobalPosition, RecordedEvent } from '../../domain/ports/event-store.ts';
import type { StreamName } from '../../domain/streams.ts';
import type { TaskEventData, TaskEventType } from '../../domain/task/events.ts';
import type { Doc, ProjectionDefinition, ReadModelView } from '../../projections/runtime/projection.ts';

// Builders that keep read-model specifications to a few lines: a log that records events as a
// store would, task and conversation event builders on it, and a Map-backed read model.

export const START = '2026-11-21T10:00:00.000Z';
/** `at(90)`: 90 seconds after START. */
export const at = (seconds: number): string => new Date(Date.parse(START) + seconds * 1000).toISOString();

/** Positions increase across the whole log (zero-padded, so string order is log order); revisions per stream. */
export class EventLog {
  readonly events: RecordedEvent[] = [];
  private readonly revisions = new Map<string, bigint>();

  record(stream: string, type: string, data: unknown, occurredAt = START): RecordedEvent {
    const revision = this.revisions.get(stream) ?? 0n;
    this.revisions.set(stream, revision + 1n);
    const n = this.events.length + 1;
    const metadata: EventMetadata = { correlationId: `corr-${n}`, causationId: `cmd-${n}`, commandId: `cmd-${n}`, actor: 'U123', occurredAt, schemaVersion: 1 };
    const event: RecordedEvent = {
      id: `evt-${n}`,
      stream: stream as StreamName,
      type,
      revision,
      position: String(n).padStart(20, '0') as GlobalPosition,
      data,
      metadata,
      recordedAt: occurredAt,
    };
    this.events.push(event);
    return event;
  }
}

const workerFor = (attempt: number) => `worker-${attempt}`;

export function taskEvents(log: EventLog, taskId: string) {
  const record = <K extends TaskEventType>(type: K, seconds: number, data: Omit<TaskEventData<K>, 'taskId' | 'at'>) =>
    log.record(`task-${taskId}`, type, { taskId, at: at(seconds), ...data }, at(seconds));
  return {
    queued: ({ at: s = 0, ...overrides }: { at?: number } & Partial<Omit<TaskEventData<'TaskQueued'>, 'taskId' | 'at'>> = {}) =>
      record('TaskQueued', s, {
        taskType: 'analyze-codebase',
        pool: 'local-ops',
        priority: 'normal',
        payload: { repo: 'acme' },
        maxAttempts: 3,
        timeoutMs: 600_000,
        requestedBy: 'U123',
        ...overrides,
      }),
    assigned: ({ attempt, at: s }: { attempt: number; at: number }) =>
      record('TaskAssigned', s, { attempt, workerId: workerFor(attempt), timesOutAt: at(s + 600) }),
    progressed: ({
      attempt,
      percent,
      at: s,
      stage = 'scan',
      ...extra
    }: {
      attempt: number;
      percent: number;
      at: number;
      stage?: string;
      details?: string;
      counters?: Record<string, number>;
    }) => record('TaskProgressed', s, { attempt, stage, percent, ...extra }),
    completed: ({ attempt, at: s, durationMs, result = { findings: 3 } }: { attempt: number; at: number; durationMs: number; result?: unknown }) =>
      record('TaskCompleted', s, { attempt, workerId: workerFor(attempt), result, durationMs }),
    failed: ({ attempt, at: s, final }: { attempt: number; at: number; final: boolean }) =>
      record('TaskFailed', s, { attempt, error: { code: 'ExitCode', message: 'npm test exited with 1' }, retryable: !final, final }),
    retryScheduled: ({ nextAttempt, at: s, dueAt }: { nextAttempt: number; at: number; dueAt: number }) =>
      record('TaskRetryScheduled', s, { nextAttempt, dueAt: at(dueAt), delayMs: (dueAt - s) * 1000 }),
    timedOut: ({ attempt, at: s }: { attempt: number; at: number }) => record('TaskTimedOut', s, { attempt, workerId: workerFor(attempt), timeoutMs: 600_000 }),
    abandoned: ({ attempt, at: s }: { attempt: number; at: number }) =>
      record('TaskAttemptAbandoned', s, { attempt, workerId: workerFor(attempt), reason: 'worker went silent' }),
    cancelled: ({ at: s, running }: { at: number; running?: number }) =>
      record('TaskCancelled', s, {
        reason: 'no longer needed',
        requestedBy: 'U123',
        wasRunning: running !== undefined,
        ...(running !== undefined && { attempt: running, workerId: workerFor(running) }),
      }),
  };
}

export function conversationEvents(log: EventLog, conversationId: string) {
  const record = <K extends ConversationEventType>(type: K, seconds: number, data: Omit<ConversationEventData<K>, 'conversationId' | 'at'>) =>
    log.record(`conversation-${conversationId}`, type, { conversationId, at: at(seconds), ...data }, at(seconds));
  return {
    started: ({ at: s = 0 }: { at?: number } = {}) =>
      record('ConversationStarted', s, { user: 'U123', channel: 'C1', threadTs: '1732183200.000100', source: 'slack' }),
    message: ({ n, at: s, role = 'user' }: { n: number; at: number; role?: 'user' | 'assistant' | 'system' }) =>
      record('MessageAdded', s, { messageId: `m${n}`, role, text: `message ${n}` }),
    contextSet: ({ name, value, at: s }: { name: string; value: ConversationEventData<'ContextVariableSet'>['value']; at: number }) =>
      record('ContextVariableSet', s, { name, value }),
    requestRecorded: ({
      messageId,
      asked,
      context = {},
      at: s,
    }: Omit<ConversationEventData<'RequestRecorded'>, 'conversationId' | 'at' | 'context'> & {
      context?: ConversationEventData<'RequestRecorded'>['context'];
      at: number;
    }) => record('RequestRecorded', s, { messageId, asked, context }),
    summarized: ({ summary, through, at: s }: { summary: string; through: number; at: number }) =>
      record('MemorySummarized', s, { summary, coversThroughMessage: through }),
    archived: ({ at: s, reason = 'idle for 30 days' }: { at: number; reason?: string }) => record('ConversationArchived', s, { reason }),
  };
}

/** A read model in memory. Stored documents are frozen, so an `apply` that mutates what it read fails loudly. */
export class MemoryReadModel implements ReadModelView {
  readonly docs = new Map<string, Doc>();

  async get(key: string): Promise<Doc | undefined> {
    return this.docs.get(key);
  }

  async fold(projection: ProjectionDefinition, events: readonly RecordedEvent[]): Promise<this> {
    for (const event of events) {
      for (const { key, doc } of await projection.apply(event, this)) {
        if (doc === undefined) {
          this.docs.delete(key);
          continue;
        }
        // What a store would give back: plain JSON, no undefined fields, bigints or Dates.
        expect(JSON.parse(JSON.stringify(doc)), `document ${key} is plain JSON`).toStrictEqual(doc);
        this.docs.set(key, deepFreeze(doc));
      }
    }
    return this;
  }

  doc(key: string): Doc | undefined {
    return this.docs.get(key);
  }

  /** A copy as if stored and loaded again. */
  reloaded(): MemoryReadModel {
    const copy = new MemoryReadModel();
    for (const [key, doc] of this.docs) copy.docs.set(key, deepFreeze(JSON.parse(JSON.stringify(doc)) as Doc));
    return copy;
  }
}

export const fold = (projection: ProjectionDefinition, events: readonly RecordedEvent[]): Promise<MemoryReadModel> =>
  new MemoryReadModel().fold(projection, events);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

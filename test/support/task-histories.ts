import type { NewEvent } from '../../domain/ports/event-store.ts';
import { metadata } from './events.ts';

// Realistic task histories (valid against the task event schemas) for filling a store fast:
// tests of projections and the benchmarks that need many events.

const at = (i: number) => new Date(Date.UTC(2026, 10, 21, 10, 0, 0) + i * 1_000).toISOString();

/** A finished task's history, one append per entry: queued, assigned, two progress reports, completed. */
export function taskHistory(taskId: string, i: number): NewEvent[][] {
  const m = () => metadata({ commandId: crypto.randomUUID() });
  return [
    [
      {
        type: 'TaskQueued',
        data: {
          taskId,
          at: at(i),
          taskType: 'analyze-codebase',
          pool: 'local-ops',
          priority: 'normal',
          payload: { repository: `r${i}` },
          maxAttempts: 3,
          timeoutMs: 60_000,
          requestedBy: 'U1',
          conversationId: `conv${i % 50}`,
        },
        metadata: m(),
      },
    ],
    [{ type: 'TaskAssigned', data: { taskId, at: at(i + 1), attempt: 1, workerId: 'w1', timesOutAt: at(i + 61) }, metadata: m() }],
    [{ type: 'TaskProgressed', data: { taskId, at: at(i + 2), attempt: 1, stage: 'scan', percent: 40 }, metadata: m() }],
    [{ type: 'TaskProgressed', data: { taskId, at: at(i + 3), attempt: 1, stage: 'count', percent: 80 }, metadata: m() }],
    [{ type: 'TaskCompleted', data: { taskId, at: at(i + 4), attempt: 1, workerId: 'w1', result: { files: i }, durationMs: 3_000 + i }, metadata: m() }],
  ];
}

export const EVENTS_PER_TASK = 5;

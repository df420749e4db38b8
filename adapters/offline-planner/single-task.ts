import type { Intent } from '../../domain/intent/index.ts';
import type { Plan, RegisteredTaskType } from '../../domain/plan/index.ts';
import { estimatedMsFor } from '../../domain/task-types/estimates.ts';

// One request, one registered task (domain/intent): a one-step plan, so offline requests go
// through the same preview, approval rules and workflow as planned ones.

const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

export const singleTaskPlan =
  (registry: readonly RegisteredTaskType[]) =>
  (intent: Intent): Plan => ({
    summary: `${capitalized(intent.summary)}.`,
    complexity: 'simple',
    phases: [
      {
        name: capitalized(intent.summary),
        steps: [
          {
            kind: 'task',
            id: intent.taskType,
            taskType: intent.taskType,
            params: { ...intent.params },
            why: intent.repositoryFrom === 'context' ? "Asked for, on the thread's current repository." : 'Asked for in the request.',
          },
        ],
      },
    ],
    estimate: { estimatedMs: estimatedMsFor(registry, [intent.taskType]), estimatedCostUsd: 0 },
  });

import type { ProjectionDefinition } from '../runtime/projection.ts';
import { conversationTasks } from './conversation-tasks.ts';
import { conversationView } from './conversation-view.ts';
import { taskProgress } from './task-progress.ts';
import { taskStats } from './task-stats.ts';
import { taskRetryTimers } from './task-retry-timers.ts';
import { workflowTimers } from './workflow-timers.ts';
import { metricsTotals } from './metrics-totals.ts';

// The read models the front ends query (and the workflow engine and the dispatcher read at start). Adding one is one line here.

export const readModels: readonly ProjectionDefinition[] = [
  taskProgress,
  conversationView,
  conversationTasks,
  taskStats,
  workflowTimers,
  taskRetryTimers,
  metricsTotals,
];

export { conversationTasks, conversationView, taskProgress, taskRetryTimers, taskStats, workflowTimers, metricsTotals };

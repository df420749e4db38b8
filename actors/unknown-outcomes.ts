import type { OutcomeDecision } from '../domain/replies/unknown-outcome-reply.ts';
import type { Task } from '../domain/task/state.ts';

// A task's unknown outcomes as the decision desk checks a click against them: whether the
// attempt still waits, was decided already (by whom, how), or ended undecided. Read from the
// task's state, which the desk asks the task's aggregate host for; the thread notifier folds the
// task's events itself (domain/process/thread-task-outcomes.ts).

/** Where the unknown outcome of one attempt stands: waiting, decided, or ended undecided. */
export type AttemptOutcomeStanding = { readonly open: true } | { readonly open: false; readonly decision?: OutcomeDecision; readonly endedUndecided?: string };

/** The unknown outcome of `attempt` as the task's state holds it; undefined when that attempt's outcome was never unknown. */
export function unknownOutcomeOf(task: Task, attempt: number): AttemptOutcomeStanding | undefined {
  const recorded =
    task.attempts.find((a) => a.attempt === attempt)?.unknownOutcome ??
    (task.outcomeUnknown?.attempt === attempt ? { reason: task.outcomeUnknown.reason } : undefined);
  if (!recorded) return undefined;
  if (recorded.decision) return { open: false, decision: recorded.decision };
  // A cancellation while a decision was awaited ends that wait.
  if (task.status === 'cancelled') return { open: false, endedUndecided: `the task was cancelled by ${task.cancellation?.requestedBy ?? 'someone'}` };
  return { open: true };
}

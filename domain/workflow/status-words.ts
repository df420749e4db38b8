import type { StepStatus } from './state.ts';

// One wording of a step's status for every place that shows it: the thread's status message,
// the closing reply, and `/workflow status` in Slack and on the console.

const STEP_STATUS_WORDS: Readonly<Record<StepStatus | 'pending', string>> = {
  pending: 'not reached yet',
  scheduled: 'scheduled',
  running: 'running',
  retryScheduled: 'waiting to retry',
  outcomeUnknown: 'outcome unknown, waiting for a decision',
  completed: 'completed',
  failed: 'failed',
  awaitingApproval: 'awaiting approval',
  approved: 'approved',
  rejected: 'rejected',
  timedOut: 'timed out',
  skipped: 'skipped',
};

/** A step's status as words; `pending` is a step the workflow has not reached. */
export const describeStepStatus = (status: StepStatus | 'pending'): string => STEP_STATUS_WORDS[status];

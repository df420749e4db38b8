// Durable hand-off of tasks to worker actors, one queue per pool. At-least-once: an item
// whose worker stops heartbeating is delivered again, to another worker.

export type Priority = 'high' | 'normal' | 'low';
export const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

export interface WorkItem {
  readonly taskId: string;
  /** The attempt this delivery starts with; a redelivery after a lost worker is a later attempt. */
  readonly attempt: number;
  /** A delivery past this many attempts is not run: the task aggregate records the failure. */
  readonly maxAttempts: number;
  readonly taskType: string;
  readonly pool: string;
  readonly priority: Priority;
  readonly payload: unknown;
  readonly timeoutMs: number;
}

export interface TakenWork {
  readonly item: WorkItem;
  /** 1 on first delivery; more when a previous holder went silent. */
  readonly deliveryCount: number;
  /** Tells the queue the holder is alive; call well within the ack wait. */
  heartbeat(): void;
  /** Done with it, whatever the outcome: it will not be delivered again. */
  done(): Promise<void>;
}

export interface WorkQueue {
  /** Idempotent per (taskId, attempt). */
  enqueue(item: WorkItem): Promise<void>;
  /** The next item of the pool, high priority first; waits up to `waitMs` when there is none. */
  take(pool: string, waitMs: number): Promise<TakenWork | undefined>;
  /** How long a holder may stay silent before its item is delivered again. */
  readonly ackWaitMs: number;
}

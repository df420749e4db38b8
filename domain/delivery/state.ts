import type { ReplyTarget } from '../task/fields.ts';
import type { ReplyOutcome } from './events.ts';

export interface ProgressMessage {
  readonly channel: string;
  readonly threadTs: string;
  /** Set once posted; its presence is what stops a replay from posting a second message. */
  readonly ts?: string;
}

/** `requested` until the reply is finished in one of the other states, one per target kind (dead-lettered: webhook). */
export type ReplyStatus = 'requested' | 'posted' | 'delivered' | 'dead-lettered' | 'published';

export interface Reply {
  readonly target: ReplyTarget;
  readonly outcome: ReplyOutcome;
  readonly status: ReplyStatus;
  /** Slack: where the reply was posted, as Slack answered. */
  readonly channel?: string;
  readonly ts?: string;
  readonly fileIds?: readonly string[];
  /** Webhook: POSTs made so far. */
  readonly attempts: number;
  readonly lastError?: string;
}

export interface Delivery {
  readonly status: 'active';
  readonly deliveryId: string;
  readonly progress?: ProgressMessage;
  readonly reply?: Reply;
}

export type DeliveryState = { readonly status: 'none' } | Delivery;

export const initialState = (): DeliveryState => ({ status: 'none' });

const FINISHED: readonly ReplyStatus[] = ['posted', 'delivered', 'dead-lettered', 'published'];

/** The reply went out, or was given up on: nothing more will be sent for it. */
export const replyFinished = (state: DeliveryState): boolean => state.status === 'active' && state.reply !== undefined && FINISHED.includes(state.reply.status);

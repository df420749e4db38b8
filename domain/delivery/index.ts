import type { Decider } from '../decider.ts';
import type { DeliveryCommand } from './commands.ts';
import { decide } from './decide.ts';
import type { DeliveryEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState, type DeliveryState } from './state.ts';

export const deliveryDecider: Decider<DeliveryCommand, DeliveryEvent, DeliveryState> = { decide, evolve, initialState };

export {
  deliveryCommandSchemas,
  parseDeliveryCommand,
  webhookAttemptOutcomeSchema,
  type DeliveryCommand,
  type DeliveryCommandOf,
  type DeliveryCommandType,
  type WebhookAttemptOutcome,
} from './commands.ts';
export {
  deliveryEventOf,
  deliveryEventSchemas,
  replyOutcomeSchema,
  type DeliveryEvent,
  type DeliveryEventData,
  type DeliveryEventOf,
  type DeliveryEventType,
  type ReplyOutcome,
} from './events.ts';
export type { DeliveryRejection, DeliveryRejectionCode } from './rejections.ts';
export { initialState, replyFinished, type Delivery, type DeliveryState, type ProgressMessage, type Reply, type ReplyStatus } from './state.ts';
export type { ReplyTarget } from '../task/fields.ts';
export type { InvalidCommand } from '../validation.ts';

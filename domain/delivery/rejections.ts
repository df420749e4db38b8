import type { Rejection } from '../decider.ts';
import type { ReplyTarget } from '../task/fields.ts';

// A stream with no events has nothing requested, so a Record* command there is refused with the
// specific "not requested" rejection rather than a general "not started" one: it says what is missing.

export type DeliveryRejectionCode =
  'ProgressMessageNotRequested' | 'ProgressMessageAlreadyPosted' | 'ReplyNotRequested' | 'WrongReplyTarget' | 'ReplyAlreadyPosted' | 'WebhookAttemptOutOfOrder';

export type DeliveryRejection = Rejection<DeliveryRejectionCode>;

const rejection = (code: DeliveryRejectionCode, message: string): DeliveryRejection => ({ code, message });

export const progressMessageNotRequested = (deliveryId: string): DeliveryRejection =>
  rejection('ProgressMessageNotRequested', `no progress message was requested for delivery ${deliveryId}`);

export const progressMessageAlreadyPosted = (deliveryId: string, posted: string, ts: string): DeliveryRejection =>
  rejection('ProgressMessageAlreadyPosted', `the progress message of delivery ${deliveryId} was already posted as ${posted}; ${ts} would be a second one`);

export const replyNotRequested = (deliveryId: string): DeliveryRejection => rejection('ReplyNotRequested', `no reply was requested for delivery ${deliveryId}`);

export const wrongReplyTarget = (deliveryId: string, target: ReplyTarget, expected: ReplyTarget['kind']): DeliveryRejection =>
  rejection('WrongReplyTarget', `the reply of delivery ${deliveryId} goes to ${target.kind}, not ${expected}`);

export const replyAlreadyPosted = (deliveryId: string, posted: string, ts: string): DeliveryRejection =>
  rejection('ReplyAlreadyPosted', `the reply of delivery ${deliveryId} was already posted as ${posted}; ${ts} would be a second one`);

export const webhookAttemptOutOfOrder = (deliveryId: string, recorded: number, attempt: number): DeliveryRejection =>
  rejection('WebhookAttemptOutOfOrder', `delivery ${deliveryId} has ${recorded} webhook attempt(s) recorded; attempt ${attempt} skips attempt ${recorded + 1}`);

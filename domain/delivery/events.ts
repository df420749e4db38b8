import { z } from 'zod';
import type { DomainEvent } from '../decider.ts';
import { replyTargetSchema } from '../task/fields.ts';
import type { EventDataOf, EventsOf } from '../validation.ts';

// One schema per event type; the TypeScript event types are inferred from this map, so a new
// event type is one new entry here. Every event carries the delivery id (the task's id) and the
// command's time.
//
// A message is *requested* before it is sent and *posted* once the receiver answered, so a
// replay after a crash can tell "never sent" from "sent, answer not recorded" from "done".
// A reply ends with exactly one of ReplyPosted, WebhookDelivered, ReplyDeadLettered or
// NatsReplyPublished; a webhook's last WebhookAttemptFailed is followed in the same append by
// ReplyDeadLettered.

const deliveryEvent = z.object({ deliveryId: z.string(), at: z.string() });

/** How the task ended, which decides what the reply says. */
export const replyOutcomeSchema = z.enum(['completed', 'failed', 'cancelled']);
export type ReplyOutcome = z.infer<typeof replyOutcomeSchema>;

export const deliveryEventSchemas = {
  ProgressMessageRequested: deliveryEvent.extend({ channel: z.string(), threadTs: z.string() }),
  /** `channel` as Slack answered it, which is the one a later update of the message needs. */
  ProgressMessagePosted: deliveryEvent.extend({ channel: z.string(), ts: z.string() }),
  ReplyRequested: deliveryEvent.extend({ target: replyTargetSchema, outcome: replyOutcomeSchema }),
  ReplyPosted: deliveryEvent.extend({ channel: z.string(), ts: z.string(), fileIds: z.array(z.string()).optional() }),
  WebhookDelivered: deliveryEvent.extend({ attempt: z.int(), status: z.int() }),
  /** `status` is absent when no HTTP answer came (refused connection, timeout). */
  WebhookAttemptFailed: deliveryEvent.extend({ attempt: z.int(), status: z.int().optional(), error: z.string(), retryable: z.boolean() }),
  ReplyDeadLettered: deliveryEvent.extend({ attempts: z.int(), lastError: z.string() }),
  NatsReplyPublished: deliveryEvent.extend({ subject: z.string() }),
};

type Schemas = typeof deliveryEventSchemas;
export type DeliveryEventType = keyof Schemas;
export type DeliveryEventData<K extends DeliveryEventType> = EventDataOf<Schemas, K>;
export type DeliveryEventOf<K extends DeliveryEventType> = DomainEvent<K, DeliveryEventData<K>>;
export type DeliveryEvent = EventsOf<Schemas>;

export const deliveryEventOf = <K extends DeliveryEventType>(type: K, data: DeliveryEventData<K>): DeliveryEventOf<K> => ({ type, data });

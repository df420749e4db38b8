import type { Either } from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { replyTargetSchema } from '../task/fields.ts';
import { idField, parseCommandWith, timestampField, type CommandsOf, type InvalidCommand } from '../validation.ts';
import { replyOutcomeSchema } from './events.ts';

// `deliveryId` is the task's id: one delivery stream per task.
const deliveryCommand = z.object({ deliveryId: idField, at: timestampField });

const channel = z.string().min(1).max(200);
const slackTs = z.string().min(1).max(64);
const attemptNumber = z.int().min(1);

/** What one POST of the reply to a webhook came to. */
export const webhookAttemptOutcomeSchema = z.discriminatedUnion('delivered', [
  z.object({ delivered: z.literal(true), status: z.int() }),
  z.object({ delivered: z.literal(false), status: z.int().optional(), error: z.string().max(2_000), retryable: z.boolean() }),
]);
export type WebhookAttemptOutcome = z.infer<typeof webhookAttemptOutcomeSchema>;

export const deliveryCommandSchemas = {
  /** Sent before posting the "working on it" message in the task's thread. */
  BeginProgressMessage: deliveryCommand.extend({ channel, threadTs: slackTs }),
  /** Sent once Slack answered the post with the message's `ts`. */
  RecordProgressMessage: deliveryCommand.extend({ channel, ts: slackTs }),
  /** Sent when the task ended, before the result goes out. */
  BeginReply: deliveryCommand.extend({ target: replyTargetSchema, outcome: replyOutcomeSchema }),
  RecordReplyPosted: deliveryCommand.extend({ channel, ts: slackTs, fileIds: z.array(z.string().min(1).max(200)).max(100).optional() }),
  /** One per POST; `attempt` counts from 1 and `maxAttempts` is the sender's retry budget. */
  RecordWebhookAttempt: deliveryCommand.extend({ attempt: attemptNumber, maxAttempts: attemptNumber, outcome: webhookAttemptOutcomeSchema }),
  RecordNatsReply: deliveryCommand.extend({ subject: z.string().min(1).max(500) }),
};

export type DeliveryCommand = CommandsOf<typeof deliveryCommandSchemas>;
export type DeliveryCommandType = DeliveryCommand['type'];
export type DeliveryCommandOf<K extends DeliveryCommandType> = Extract<DeliveryCommand, { type: K }>;

export const parseDeliveryCommand = (input: unknown): Either<InvalidCommand, DeliveryCommand> => parseCommandWith(deliveryCommandSchemas, input);

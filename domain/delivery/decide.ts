import { flatMap, left, right, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { match } from 'ts-pattern';
import type { Rejection } from '../decider.ts';
import type { ReplyTarget } from '../task/fields.ts';
import type { DeliveryCommand, DeliveryCommandOf } from './commands.ts';
import { deliveryEventOf, type DeliveryEvent } from './events.ts';
import {
  progressMessageAlreadyPosted,
  progressMessageNotRequested,
  replyAlreadyPosted,
  replyNotRequested,
  webhookAttemptOutOfOrder,
  wrongReplyTarget,
} from './rejections.ts';
import { replyFinished, type DeliveryState, type ProgressMessage, type Reply } from './state.ts';

// Every command is safe to repeat: a replay after a crash sends the same commands again, and a
// repeat that changes nothing records nothing. Either Begin* command may open the stream, since a
// task whose reply goes to a webhook or NATS never has a progress message.

type Decision = Either<Rejection, readonly DeliveryEvent[]>;

const nothing: Decision = right([]);

export const decide = (command: DeliveryCommand, state: DeliveryState): Decision =>
  match(command)
    .with({ type: 'BeginProgressMessage' }, (c) => beginProgressMessage(c, state))
    .with({ type: 'RecordProgressMessage' }, (c) => recordProgressMessage(c, state))
    .with({ type: 'BeginReply' }, (c) => beginReply(c, state))
    .with({ type: 'RecordReplyPosted' }, (c) => recordReplyPosted(c, state))
    .with({ type: 'RecordWebhookAttempt' }, (c) => recordWebhookAttempt(c, state))
    .with({ type: 'RecordNatsReply' }, (c) => recordNatsReply(c, state))
    .exhaustive();

const requestedProgress = (state: DeliveryState, deliveryId: string): Either<Rejection, ProgressMessage> =>
  state.status === 'none' || state.progress === undefined ? left(progressMessageNotRequested(deliveryId)) : right(state.progress);

/** The requested reply, if it goes to the kind of target the command reports on. */
const requestedReply = (state: DeliveryState, deliveryId: string, kind: ReplyTarget['kind']): Either<Rejection, Reply> =>
  state.status === 'none' || state.reply === undefined
    ? left(replyNotRequested(deliveryId))
    : state.reply.target.kind !== kind
      ? left(wrongReplyTarget(deliveryId, state.reply.target, kind))
      : right(state.reply);

/** Once requested, the caller looks at `progress.ts` to know whether the post is still to be made. */
const beginProgressMessage = ({ type: _, ...c }: DeliveryCommandOf<'BeginProgressMessage'>, state: DeliveryState): Decision =>
  state.status === 'active' && state.progress !== undefined ? nothing : right([deliveryEventOf('ProgressMessageRequested', c)]);

const recordProgressMessage = ({ type: _, ...c }: DeliveryCommandOf<'RecordProgressMessage'>, state: DeliveryState): Decision =>
  pipe(
    requestedProgress(state, c.deliveryId),
    flatMap((progress) =>
      progress.ts === undefined
        ? right([deliveryEventOf('ProgressMessagePosted', c)])
        : progress.ts === c.ts
          ? nothing
          : left(progressMessageAlreadyPosted(c.deliveryId, progress.ts, c.ts)),
    ),
  );

/** The first request decides target and outcome; a later one, replayed or not, changes nothing. */
const beginReply = ({ type: _, ...c }: DeliveryCommandOf<'BeginReply'>, state: DeliveryState): Decision =>
  state.status === 'active' && state.reply !== undefined ? nothing : right([deliveryEventOf('ReplyRequested', c)]);

const recordReplyPosted = ({ type: _, ...c }: DeliveryCommandOf<'RecordReplyPosted'>, state: DeliveryState): Decision =>
  pipe(
    requestedReply(state, c.deliveryId, 'slack'),
    flatMap((reply) =>
      reply.ts === undefined
        ? right([deliveryEventOf('ReplyPosted', c)])
        : reply.ts === c.ts
          ? nothing
          : left(replyAlreadyPosted(c.deliveryId, reply.ts, c.ts)),
    ),
  );

/**
 * Attempts are recorded in order, one each: a number already recorded is a replay, one that
 * skips ahead means an attempt went unrecorded. The last failure, or one not worth retrying,
 * dead-letters the reply in the same append.
 */
const recordWebhookAttempt = ({ deliveryId, attempt, maxAttempts, outcome, at }: DeliveryCommandOf<'RecordWebhookAttempt'>, state: DeliveryState): Decision =>
  pipe(
    requestedReply(state, deliveryId, 'webhook'),
    flatMap((reply): Decision => {
      // Delivered or dead-lettered: the reply is finished, and a late attempt changes nothing.
      if (replyFinished(state)) return nothing;
      if (attempt <= reply.attempts) return nothing;
      if (attempt > reply.attempts + 1) return left(webhookAttemptOutOfOrder(deliveryId, reply.attempts, attempt));
      if (outcome.delivered) return right([deliveryEventOf('WebhookDelivered', { deliveryId, attempt, status: outcome.status, at })]);
      const { error, retryable, status } = outcome;
      const failed = deliveryEventOf('WebhookAttemptFailed', { deliveryId, attempt, ...(status === undefined ? {} : { status }), error, retryable, at });
      return right(
        attempt >= maxAttempts || !retryable
          ? [failed, deliveryEventOf('ReplyDeadLettered', { deliveryId, attempts: attempt, lastError: error, at })]
          : [failed],
      );
    }),
  );

const recordNatsReply = ({ type: _, ...c }: DeliveryCommandOf<'RecordNatsReply'>, state: DeliveryState): Decision =>
  pipe(
    requestedReply(state, c.deliveryId, 'nats'),
    flatMap((reply) => (reply.status === 'published' ? nothing : right([deliveryEventOf('NatsReplyPublished', c)]))),
  );

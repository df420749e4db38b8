import { match } from 'ts-pattern';
import type { DeliveryEvent } from './events.ts';
import type { Delivery, DeliveryState, ProgressMessage, Reply } from './state.ts';

export const evolve = (state: DeliveryState, event: DeliveryEvent): DeliveryState =>
  match(event)
    .with({ type: 'ProgressMessageRequested' }, ({ data: { deliveryId, channel, threadTs } }): Delivery => ({
      ...opened(state, deliveryId),
      progress: { channel, threadTs },
    }))
    .with({ type: 'ProgressMessagePosted' }, ({ data: { channel, ts } }) => onProgress(state, (p) => ({ ...p, channel, ts })))
    .with({ type: 'ReplyRequested' }, ({ data: { deliveryId, target, outcome } }): Delivery => ({
      ...opened(state, deliveryId),
      reply: { target, outcome, status: 'requested', attempts: 0 },
    }))
    .with({ type: 'ReplyPosted' }, ({ data: { channel, ts, fileIds } }) =>
      onReply(state, (r) => ({ ...r, status: 'posted', channel, ts, ...(fileIds === undefined ? {} : { fileIds }) })),
    )
    .with({ type: 'WebhookDelivered' }, ({ data }) => onReply(state, (r) => ({ ...r, status: 'delivered', attempts: data.attempt })))
    .with({ type: 'WebhookAttemptFailed' }, ({ data }) => onReply(state, (r) => ({ ...r, attempts: data.attempt, lastError: data.error })))
    .with({ type: 'ReplyDeadLettered' }, ({ data }) =>
      onReply(state, (r) => ({ ...r, status: 'dead-lettered', attempts: data.attempts, lastError: data.lastError })),
    )
    .with({ type: 'NatsReplyPublished' }, () => onReply(state, (r) => ({ ...r, status: 'published' })))
    .exhaustive();

/** Either request may be the stream's first event. */
const opened = (state: DeliveryState, deliveryId: string): Delivery => (state.status === 'none' ? { status: 'active', deliveryId } : state);

/** Posted and reply events only ever follow their request; a stray one leaves the state as it was. */
const onProgress = (state: DeliveryState, change: (p: ProgressMessage) => ProgressMessage): DeliveryState =>
  state.status === 'none' || state.progress === undefined ? state : { ...state, progress: change(state.progress) };

const onReply = (state: DeliveryState, change: (r: Reply) => Reply): DeliveryState =>
  state.status === 'none' || state.reply === undefined ? state : { ...state, reply: change(state.reply) };

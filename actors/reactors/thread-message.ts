import type { Logger } from 'pino';
import type { DeliveryState } from '../../domain/delivery/index.ts';
import { ChatRateLimited, type ChatPoster, type MessageRef, type PostMarker, type ThreadRef } from '../../domain/ports/chat-poster.ts';
import type { EventStore } from '../../domain/ports/event-store.ts';
import { deliveryAggregate } from '../aggregates/delivery.ts';
import { readAggregateState } from '../runtime/aggregate-reader.ts';
import type { CommandClient } from '../runtime/command-client.ts';
import { accepted, describeReply } from '../runtime/command-replies.ts';
import { sendThatLands } from '../runtime/commands-that-land.ts';

// A message a reactor keeps in a thread and edits later (a task's progress, a plan preview, a
// workflow's status, a gate), recorded on its Delivery before it is posted and after: a crash
// between posting and recording finds the message by the marker it carries instead of posting
// a second one. Both the progress reactor and the thread notifier keep their messages this way.

export interface ThreadMessages {
  readonly commands: CommandClient;
  readonly store: EventStore;
  readonly logger: Logger;
  /** Who the Delivery commands are from. */
  readonly actor: string;
  /** Aborted when the reactor stops; Delivery commands are retried until a host decides or then (at most a minute without one). */
  readonly signal?: AbortSignal;
}

const landing = (deps: ThreadMessages) => sendThatLands(deps.commands, deps.signal ?? AbortSignal.timeout(60_000), deps.logger, deps.actor);

const MAX_BACKOFF_MS = 30_000;

/** How long to wait before trying a chat call again: as the service said when rate limited, else doubling from a second. */
export const chatRetryDelayMs = (error: unknown, attempt: number): number =>
  error instanceof ChatRateLimited ? error.retryAfterMs : Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);

/** The delivery's message if it was posted before: as recorded, or found by its marker (then recorded). */
export async function findThreadMessage(deps: ThreadMessages, chat: ChatPoster, deliveryId: string, thread: ThreadRef, marker: PostMarker): Promise<MessageRef | undefined> {
  const delivery: DeliveryState = await readAggregateState(deps.store, deliveryAggregate, deliveryId, deps.logger);
  if (delivery.status === 'none' || delivery.progress === undefined) return undefined;
  if (delivery.progress.ts) return { channel: delivery.progress.channel, ts: delivery.progress.ts };
  // Begun and not recorded: the post may have landed just before a crash.
  const found = await chat.findPosted(thread, marker);
  if (found) await recordThreadMessage(deps, deliveryId, found);
  return found;
}

/** Posts the delivery's message (`post`), recording on the Delivery that it is about to, and then where it landed. */
export async function postThreadMessage(deps: ThreadMessages, deliveryId: string, thread: ThreadRef, post: () => Promise<MessageRef>): Promise<MessageRef> {
  const begun = await landing(deps)(
    { category: 'delivery', id: deliveryId },
    { commandId: `begin-message-${deliveryId}`, type: 'BeginProgressMessage', actor: deps.actor, data: { channel: thread.channel, threadTs: thread.threadTs } },
  );
  if (!accepted(begun)) throw new Error(`BeginProgressMessage ${deliveryId}: ${describeReply(begun)}`);
  const message = await post();
  await recordThreadMessage(deps, deliveryId, message);
  return message;
}

async function recordThreadMessage(deps: ThreadMessages, deliveryId: string, message: MessageRef): Promise<void> {
  const reply = await landing(deps)(
    { category: 'delivery', id: deliveryId },
    { commandId: `message-posted-${deliveryId}`, type: 'RecordProgressMessage', actor: deps.actor, data: { channel: message.channel, ts: message.ts } },
  );
  if (!accepted(reply)) throw new Error(`RecordProgressMessage ${deliveryId}: ${describeReply(reply)}`);
}

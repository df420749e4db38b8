import {
  AckPolicy,
  DeliverPolicy,
  headers as natsHeaders,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  type Subscription,
} from 'nats';
import { PRIORITIES, type Priority, type TakenWork, type WorkItem, type WorkQueue } from '../../domain/ports/work-queue.ts';

// Work queues on one JetStream stream with work-queue retention: subject
// `<prefix>.work.<pool>.<priority>`, one durable pull consumer per pool and priority. Workers
// pull without waiting from high to low; when all are empty they wait on a doorbell subject
// that every enqueue rings, so an idle worker wakes at once instead of polling. A ring is one
// item, so it wakes one waiting taker of this connection, not all of them.

export interface JetStreamWorkQueueOptions {
  readonly prefix?: string;
  readonly pools: readonly string[];
  /** Silence after which an item goes to another worker. */
  readonly ackWaitMs?: number;
  /** Deliveries before JetStream gives up on an item; the task aggregate fails it earlier. */
  readonly maxDeliver?: number;
  /** Replicas of the work stream when this creates it, default 1; its consumers follow the stream. */
  readonly replicas?: number;
}

export class JetStreamWorkQueue implements WorkQueue {
  private readonly js: JetStreamClient;
  private readonly doorbells = new Map<string, Doorbell>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly streamName: string,
    private readonly prefix: string,
    readonly ackWaitMs: number,
  ) {
    this.js = nc.jetstream();
  }

  static async connect(nc: NatsConnection, options: JetStreamWorkQueueOptions): Promise<JetStreamWorkQueue> {
    const prefix = options.prefix ?? 'orch';
    const streamName = workStreamName(prefix);
    const ackWaitMs = options.ackWaitMs ?? 30_000;
    const jsm = await nc.jetstreamManager();
    await ensureStream(jsm, streamName, `${prefix}.work.>`, options.replicas ?? 1);
    for (const pool of options.pools) {
      for (const priority of PRIORITIES) {
        const durable = consumerName(pool, priority);
        const config = {
          durable_name: durable,
          filter_subject: workSubject(prefix, pool, priority),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: ackWaitMs * 1_000_000,
          max_deliver: options.maxDeliver ?? 20,
        };
        // add() is idempotent for an identical config and updates ack_wait/max_deliver otherwise.
        await jsm.consumers.add(streamName, config).catch(() => jsm.consumers.update(streamName, durable, config));
      }
    }
    const queue = new JetStreamWorkQueue(nc, streamName, prefix, ackWaitMs);
    for (const pool of options.pools) queue.doorbell(pool);
    await nc.flush();
    return queue;
  }

  async enqueue(item: WorkItem): Promise<void> {
    const h = natsHeaders();
    h.set('Orch-Task', item.taskId);
    await this.js.publish(workSubject(this.prefix, item.pool, item.priority), new TextEncoder().encode(JSON.stringify(item)), {
      headers: h,
      msgID: `${item.taskId}:${item.attempt}`,
    });
    this.nc.publish(this.doorbellSubject(item.pool));
  }

  async take(pool: string, waitMs: number): Promise<TakenWork | undefined> {
    const deadline = Date.now() + waitMs;
    const bell = this.doorbell(pool);
    for (;;) {
      // Read the ring count before pulling: a ring after an empty pull then wakes us at once.
      const rings = bell.rings;
      const taken = await this.takeNow(pool);
      if (taken || Date.now() >= deadline) return taken;
      if (bell.rings === rings) await bell.wait(Math.min(deadline - Date.now(), 1_000));
    }
  }

  private async takeNow(pool: string): Promise<TakenWork | undefined> {
    for (const priority of PRIORITIES) {
      try {
        const message = await this.js.pull(this.streamName, consumerName(pool, priority));
        const item = JSON.parse(new TextDecoder().decode(message.data)) as WorkItem;
        return {
          item,
          deliveryCount: message.info.redeliveryCount,
          heartbeat: () => message.working(),
          done: async () => {
            await message.ackAck();
          },
        };
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === '404' || code === '408') continue; // nothing waiting at this priority
        throw error;
      }
    }
    return undefined;
  }

  private doorbellSubject(pool: string): string {
    return `${this.prefix}.signal.work.${pool}`;
  }

  private doorbell(pool: string): Doorbell {
    let bell = this.doorbells.get(pool);
    if (!bell) {
      bell = new Doorbell(this.nc, this.doorbellSubject(pool));
      this.doorbells.set(pool, bell);
    }
    return bell;
  }

  close(): void {
    for (const bell of this.doorbells.values()) bell.close();
    this.doorbells.clear();
  }
}

/**
 * Counts rings on a subject and wakes the longest waiting taker at each. The others would only
 * pull empty queues; a taker that was not waiting sees the count change and pulls again, and
 * every wait ends within a second anyway.
 */
class Doorbell {
  rings = 0;
  private readonly waiting = new Set<() => void>();
  private readonly subscription: Subscription;

  constructor(nc: NatsConnection, subject: string) {
    this.subscription = nc.subscribe(subject, {
      callback: () => {
        this.rings++;
        const [longest] = this.waiting;
        longest?.();
      },
    });
  }

  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, ms));
      this.waiting.add(wake);
    });
  }

  close(): void {
    this.subscription.unsubscribe();
    for (const wake of [...this.waiting]) wake();
  }
}

/** The stream that holds every pool's work items. */
export const workStreamName = (prefix: string): string => `${prefix.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_WORK`;

/** Where a work item of this pool and priority is published, and what its consumer filters on. */
export const workSubject = (prefix: string, pool: string, priority: string): string => `${prefix}.work.${pool}.${priority}`;

/** The pool and priority a work subject names, or undefined when it is not one. */
export function poolAndPriorityOf(prefix: string, subject: string): { readonly pool: string; readonly priority: string } | undefined {
  const head = `${prefix}.work.`;
  if (!subject.startsWith(head)) return undefined;
  const [pool, priority, ...rest] = subject.slice(head.length).split('.');
  return pool && priority && rest.length === 0 ? { pool, priority } : undefined;
}

const consumerName = (pool: string, priority: Priority): string => `work_${pool.replace(/[^A-Za-z0-9_-]/g, '_')}_${priority}`;

async function ensureStream(jsm: JetStreamManager, name: string, subject: string, replicas: number): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch (error) {
    if (!/stream not found/i.test((error as Error).message)) throw error;
    await jsm.streams.add({ name, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File, num_replicas: replicas });
  }
}

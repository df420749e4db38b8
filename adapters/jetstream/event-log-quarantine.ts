import type { KV, NatsConnection } from 'nats';
import { z } from 'zod';

// Messages in the event log that are not commits (see NotACommit): the log denies deletes, so
// each stays where it is and every reader passes over it. This bucket says which they are, for
// `orch events quarantine`, one key per JetStream sequence.

export interface QuarantinedMessage {
  readonly seq: number;
  readonly subject: string;
  /** When the server stored it. */
  readonly time: string;
  readonly reason: string;
  /** Body size in bytes. */
  readonly size: number;
}

const entrySchema = z.object({
  seq: z.number().int().positive(),
  subject: z.string(),
  time: z.string(),
  reason: z.string(),
  size: z.number().int().nonnegative(),
});

export interface EventLogQuarantineOptions {
  readonly prefix?: string;
  /** Replicas of the bucket's stream; 1 on a single server. */
  readonly replicas?: number;
}

export const quarantineBucketName = (prefix: string): string => `${prefix}_quarantine`;

export class EventLogQuarantine {
  private constructor(private readonly kv: KV) {}

  static async open(nc: NatsConnection, options: EventLogQuarantineOptions = {}): Promise<EventLogQuarantine> {
    const kv = await nc.jetstream().views.kv(quarantineBucketName(options.prefix ?? 'orch'), { history: 1, replicas: options.replicas ?? 1 });
    return new EventLogQuarantine(kv);
  }

  /** Records the message; true when this call recorded it, false when it was already there. */
  async record(entry: QuarantinedMessage): Promise<boolean> {
    try {
      await this.kv.create(keyOf(entry.seq), JSON.stringify(entry));
      return true;
    } catch (error) {
      if (/wrong last sequence|key exists/i.test((error as Error).message)) return false;
      throw error;
    }
  }

  /** Every quarantined message, oldest first. */
  async list(): Promise<QuarantinedMessage[]> {
    const entries: QuarantinedMessage[] = [];
    for (const key of await collect(await this.kv.keys())) {
      const entry = await this.kv.get(key);
      if (!entry || entry.length === 0) continue;
      const parsed = entrySchema.safeParse(safeJson(entry.string()));
      if (parsed.success) entries.push(parsed.data);
    }
    return entries.sort((a, b) => a.seq - b.seq);
  }
}

// Zero-padded so that the bucket's key order is the log's order.
const keyOf = (seq: number): string => String(seq).padStart(20, '0');

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const key of keys) all.push(key);
  return all;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

import type { KV, NatsConnection } from 'nats';
import { encodeKey } from './kv-key.ts';
import { z } from 'zod';
import type { GlobalPosition } from '../../domain/ports/event-store.ts';
import { UnreadableSnapshot, type Snapshot, type SnapshotStore } from '../../domain/ports/snapshot-store.ts';
import { parseStreamName, type StreamName } from '../../domain/streams.ts';
import { parseWithBigints, stringifyWithBigints } from './json-with-bigints.ts';

// Snapshots in a NATS KV bucket (`<prefix>_snapshots`), one key per stream, keeping only the
// latest. Values are JSON; revisions are decimal strings so they survive as bigints.

const revisionText = z.string().regex(/^\d+$/);
const storedSchema = z.object({
  revision: revisionText,
  position: z.string().min(1),
  eventId: z.string().min(1),
  version: z.number().int(),
  state: z.custom<unknown>((v) => v !== undefined, { message: 'missing' }),
  /** [commandId, revision, events], oldest first. */
  commands: z.array(z.tuple([z.string().min(1), revisionText, z.number().int().positive()])),
});

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class KvSnapshotStore implements SnapshotStore {
  private constructor(private readonly kv: KV) {}

  /** `replicas` when this creates the bucket; an existing bucket keeps its own. */
  static async connect(nc: NatsConnection, prefix = 'orch', options: { replicas?: number } = {}): Promise<KvSnapshotStore> {
    const kv = await nc.jetstream().views.kv(`${prefix}_snapshots`, { history: 1, replicas: options.replicas ?? 1 });
    return new KvSnapshotStore(kv);
  }

  async load(stream: StreamName): Promise<Snapshot | undefined> {
    const entry = await this.kv.get(snapshotKey(stream));
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    let value: unknown;
    try {
      value = parseWithBigints(decoder.decode(entry.value));
    } catch (error) {
      throw new UnreadableSnapshot(stream, `not JSON (${(error as Error).message})`);
    }
    const parsed = storedSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new UnreadableSnapshot(stream, `${issue.path.join('.') || 'value'}: ${issue.message}`);
    }
    const stored = parsed.data;
    return {
      revision: BigInt(stored.revision),
      position: stored.position as GlobalPosition,
      eventId: stored.eventId,
      version: stored.version,
      state: stored.state,
      commands: stored.commands.map(([commandId, revision, events]) => ({ commandId, revision: BigInt(revision), events })),
    };
  }

  async save(stream: StreamName, snapshot: Snapshot): Promise<void> {
    const stored: z.input<typeof storedSchema> = {
      revision: snapshot.revision.toString(),
      position: snapshot.position,
      eventId: snapshot.eventId,
      version: snapshot.version,
      state: snapshot.state,
      commands: snapshot.commands.map((c) => [c.commandId, c.revision.toString(), c.events]),
    };
    await this.kv.put(snapshotKey(stream), encoder.encode(stringifyWithBigints(stored)));
  }
}

/** `<category>.<id>`, the id escaped where KV keys refuse its characters (ids never contain `.`). */
export function snapshotKey(stream: StreamName): string {
  const { category, id } = parseStreamName(stream);
  return `${category}.${encodeKey(id)}`;
}

import type { KV, NatsConnection } from 'nats';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import type { GlobalPosition } from '../../domain/ports/event-store.ts';

// Checkpoints in a NATS KV bucket, one key per subscriber name.
export class KvCheckpointStore implements CheckpointStore {
  private constructor(private readonly kv: KV) {}

  /** `replicas` when this creates the bucket; an existing bucket keeps its own. */
  static async connect(nc: NatsConnection, prefix = 'orch', options: { replicas?: number } = {}): Promise<KvCheckpointStore> {
    const kv = await nc.jetstream().views.kv(`${prefix}_checkpoints`, { history: 1, replicas: options.replicas ?? 1 });
    return new KvCheckpointStore(kv);
  }

  async load(name: string): Promise<GlobalPosition | undefined> {
    const entry = await this.kv.get(name);
    return entry && entry.length > 0 ? (entry.string() as GlobalPosition) : undefined;
  }

  async save(name: string, position: GlobalPosition): Promise<void> {
    await this.kv.put(name, position);
  }
}

import type { JetStreamManager, KV, NatsConnection } from 'nats';
import { decodeKey, encodeKey } from './kv-key.ts';
import type { Doc } from '../../projections/runtime/projection.ts';
import {
  RecordChanged,
  type BatchCommit,
  type CommitPoint,
  type BucketRef,
  type ProjectionProgress,
  type ProjectionRecord,
  type ReadModelBucket,
  type ReadModelStorage,
} from '../../projections/runtime/read-model-storage.ts';

// Read models in NATS KV: one bucket per projection, version and generation
// (`<prefix>_rm_<name>_v<version>_g<generation>`), and one meta bucket (`<prefix>_projections`)
// holding each projection's record, batch commits and progress reports.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const json = (value: unknown) => encoder.encode(JSON.stringify(value));
const parse = <T>(bytes: Uint8Array): T => JSON.parse(decoder.decode(bytes)) as T;

const bucketName = (prefix: string, name: string, ref: BucketRef) => `${prefix}_rm_${name}_v${ref.version}_g${ref.generation}`;
const refKey = (name: string, ref: BucketRef) => `${name}.v${ref.version}.g${ref.generation}`;

/** Commit parts stay well under nats-server's default 1 MB message limit. */
const MAX_PART_BYTES = 512 * 1024;

interface CommitHeader extends CommitPoint {
  readonly sequence: number;
  readonly parts: number;
}

/** One encoded change: the key, and the document as JSON (absent for a delete). */
type EncodedChange = readonly [key: string, doc: string | null];

class KvReadModelBucket implements ReadModelBucket {
  private sequence = 0;
  /** Parts of the last commit, purged once the next commit's header stands. */
  private lastParts = 0;

  constructor(
    readonly id: string,
    private readonly kv: KV,
    private readonly meta: KV,
    private readonly commitKey: string,
  ) {}

  async get(key: string): Promise<Doc | undefined> {
    const entry = await this.kv.get(encodeKey(key));
    return entry && entry.operation === 'PUT' && entry.length > 0 ? parse<Doc>(entry.value) : undefined;
  }

  async commit(batch: BatchCommit): Promise<void> {
    // Each document is encoded once and used for both the commit and the write.
    const encoded: EncodedChange[] = batch.changes.map((c) => [c.key, c.doc === undefined ? null : JSON.stringify(c.doc)]);
    const parts: string[] = [];
    let part: string[] = [];
    let size = 0;
    for (const [key, doc] of encoded) {
      const item = JSON.stringify([key, doc]);
      if (size + item.length > MAX_PART_BYTES && part.length > 0) {
        parts.push(`[${part.join(',')}]`);
        part = [];
        size = 0;
      }
      part.push(item);
      size += item.length + 1;
    }
    if (part.length > 0) parts.push(`[${part.join(',')}]`);
    const previous = this.sequence;
    this.sequence += 1;
    // Parts are keyed by commit sequence: the last commit's parts stay whole until the new header replaces it.
    await Promise.all(
      parts.map((p, i) => this.meta.put(`${this.commitKey}.part.${this.sequence}.${i}`, encoder.encode(`{"sequence":${this.sequence},"changes":${p}}`))),
    );
    const header: CommitHeader = {
      position: batch.position,
      eventsApplied: batch.eventsApplied,
      lastEventAt: batch.lastEventAt,
      sequence: this.sequence,
      parts: parts.length,
    };
    // The header is the commit point: once it is stored the batch counts as applied.
    await this.meta.put(this.commitKey, json(header));
    await this.writeEncoded(encoded);
    await Promise.all(Array.from({ length: this.lastParts }, (_, i) => this.meta.purge(`${this.commitKey}.part.${previous}.${i}`)));
    this.lastParts = parts.length;
  }

  async recover(): Promise<CommitPoint | undefined> {
    const entry = await this.meta.get(this.commitKey);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
    const header = parse<CommitHeader>(entry.value);
    this.sequence = header.sequence;
    this.lastParts = header.parts;
    for (let i = 0; i < header.parts; i++) {
      const partEntry = await this.meta.get(`${this.commitKey}.part.${header.sequence}.${i}`);
      const part = partEntry ? parse<{ sequence: number; changes: EncodedChange[] }>(partEntry.value) : undefined;
      if (!part || part.sequence !== header.sequence) throw new Error(`commit ${this.commitKey} part ${i} is missing; rebuild the projection`);
      await this.writeEncoded(part.changes);
    }
    return { position: header.position, eventsApplied: header.eventsApplied, lastEventAt: header.lastEventAt };
  }

  private async writeEncoded(changes: readonly EncodedChange[]): Promise<void> {
    await Promise.all(changes.map(([key, doc]) => (doc === null ? this.kv.delete(encodeKey(key)) : this.kv.put(encodeKey(key), encoder.encode(doc)))));
  }

  async keys(prefix?: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys()) {
      const decoded = decodeKey(key);
      if (prefix === undefined || decoded.startsWith(prefix)) keys.push(decoded);
    }
    return keys.sort();
  }

  async drop(): Promise<void> {
    await this.kv.destroy();
    for await (const key of await this.meta.keys(`${this.commitKey}.>`)) await this.meta.purge(key);
    await this.meta.purge(this.commitKey);
  }
}

export class KvReadModelStorage implements ReadModelStorage {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly prefix: string,
    private readonly meta: KV,
    private readonly replicas: number,
  ) {}

  /** `replicas` of the meta bucket and of every model bucket this creates (existing ones keep theirs). */
  static async connect(nc: NatsConnection, prefix = 'orch', options: { replicas?: number } = {}): Promise<KvReadModelStorage> {
    const replicas = options.replicas ?? 1;
    const meta = await nc.jetstream().views.kv(`${prefix}_projections`, { history: 1, replicas });
    return new KvReadModelStorage(nc, await nc.jetstreamManager(), prefix, meta, replicas);
  }

  async bucket(name: string, ref: BucketRef): Promise<ReadModelBucket> {
    const id = bucketName(this.prefix, name, ref);
    const kv = await this.nc.jetstream().views.kv(id, { history: 1, replicas: this.replicas });
    return new KvReadModelBucket(id, kv, this.meta, `commit.${refKey(name, ref)}`);
  }

  async existingBucket(name: string, ref: BucketRef): Promise<ReadModelBucket | undefined> {
    const id = bucketName(this.prefix, name, ref);
    try {
      // `bindOnly` does not look the bucket up; its stream's info does.
      await this.jsm.streams.info(`KV_${id}`);
    } catch (error) {
      if (/stream not found/i.test((error as Error).message)) return undefined;
      throw error;
    }
    const kv = await this.nc.jetstream().views.kv(id, { bindOnly: true });
    return new KvReadModelBucket(id, kv, this.meta, `commit.${refKey(name, ref)}`);
  }

  async loadRecord(name: string): Promise<{ record: ProjectionRecord; revision: number } | undefined> {
    const entry = await this.meta.get(`record.${name}`);
    return entry && entry.operation === 'PUT' && entry.length > 0 ? { record: parse<ProjectionRecord>(entry.value), revision: entry.revision } : undefined;
  }

  async saveRecord(record: ProjectionRecord, expectedRevision: number): Promise<number> {
    try {
      return expectedRevision === 0
        ? await this.meta.create(`record.${record.name}`, json(record))
        : await this.meta.update(`record.${record.name}`, json(record), expectedRevision);
    } catch (error) {
      if (/wrong last sequence|key exists/i.test((error as Error).message)) throw new RecordChanged(record.name);
      throw error;
    }
  }

  async saveProgress(progress: ProjectionProgress): Promise<void> {
    await this.meta.put(`progress.${refKey(progress.name, progress)}`, json(progress));
  }

  async loadProgress(name: string, ref: BucketRef): Promise<ProjectionProgress | undefined> {
    const entry = await this.meta.get(`progress.${refKey(name, ref)}`);
    return entry && entry.operation === 'PUT' && entry.length > 0 ? parse<ProjectionProgress>(entry.value) : undefined;
  }
}

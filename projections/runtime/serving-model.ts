import type { Doc } from './projection.ts';
import type { BucketRef, ReadModelBucket, ReadModelStorage } from './read-model-storage.ts';

// Reads the bucket a projection serves from straight out of storage, as the query responder
// does, for a role that must read a model without the projections role answering: the workflow
// engine reads its timers at start, and embedded mode starts the engine before the projections.
// The record is read on every call, so a rebuild's swap is followed.

export class ServingModelReader {
  private opened: { readonly ref: BucketRef; readonly bucket: ReadModelBucket } | undefined;

  constructor(
    private readonly storage: ReadModelStorage,
    readonly model: string,
  ) {}

  /** One document; undefined when the model has none for the key, or does not exist yet. */
  async get(key: string): Promise<Doc | undefined> {
    return (await this.bucket())?.get(key);
  }

  /** Every document of the model. */
  async all(): Promise<Map<string, Doc>> {
    const bucket = await this.bucket();
    const docs = new Map<string, Doc>();
    if (!bucket) return docs;
    for (const key of await bucket.keys()) {
      // A key listed and then deleted (the model moved on) is simply not there any more.
      const doc = await bucket.get(key);
      if (doc) docs.set(key, doc);
    }
    return docs;
  }

  private async bucket(): Promise<ReadModelBucket | undefined> {
    const loaded = await this.storage.loadRecord(this.model);
    if (!loaded) return undefined;
    const { active } = loaded.record;
    if (this.opened?.ref.version !== active.version || this.opened.ref.generation !== active.generation) {
      const bucket = await this.storage.existingBucket(this.model, active);
      if (!bucket) return undefined;
      this.opened = { ref: active, bucket };
    }
    return this.opened.bucket;
  }
}

import type { Msg, NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import type { Doc } from './projection.ts';
import { MAX_QUERY_BYTES, querySchema, type QueryAnswer } from './query-protocol.ts';
import type { ReadModelBucket } from './read-model-storage.ts';

// Answers `<prefix>.query.<model>` from the bucket each model is serving from right now, so a
// rebuild's swap is invisible to callers. Responders of the role share a queue group. Whatever
// arrives (too large, not JSON, the wrong shape, a key the store cannot hold) gets a typed
// error answer; nothing a caller sends ends the responder.

export interface QueryResponderOptions {
  readonly nc: NatsConnection;
  readonly logger: Logger;
  readonly prefix?: string;
  /** The bucket a model answers from, or undefined while it has none. */
  readonly servingBucket: (model: string) => ReadModelBucket | undefined;
  readonly models: readonly string[];
}

const encoder = new TextEncoder();

export class QueryResponder {
  private subscription: Subscription | undefined;

  constructor(private readonly options: QueryResponderOptions) {}

  start(): void {
    const prefix = this.options.prefix ?? 'orch';
    this.subscription = this.options.nc.subscribe(`${prefix}.query.*`, {
      queue: `${prefix}.queries`,
      callback: (error, message) => {
        if (error) this.options.logger.warn({ err: error }, 'query subscription error');
        else void this.answer(message);
      },
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.drain();
  }

  private async answer(message: Msg): Promise<void> {
    const model = message.subject.slice(message.subject.lastIndexOf('.') + 1);
    let answer: QueryAnswer;
    try {
      answer = await this.query(model, message.data);
    } catch (error) {
      this.options.logger.error({ err: error, model }, 'query failed');
      answer = { status: 'error', code: 'QueryFailed', message: `the ${model} model could not be read: ${(error as Error).message}` };
    }
    // A message published without a reply subject has no one to answer.
    if (!message.reply) return;
    try {
      message.respond(encoder.encode(JSON.stringify(answer)));
    } catch (error) {
      this.options.logger.warn({ err: error, model }, 'could not answer a query');
    }
  }

  private async query(model: string, data: Uint8Array): Promise<QueryAnswer> {
    if (data.length > MAX_QUERY_BYTES)
      return { status: 'error', code: 'PayloadTooLarge', message: `the query is ${data.length} bytes; at most ${MAX_QUERY_BYTES} are accepted` };
    if (!this.options.models.includes(model))
      return {
        status: 'error',
        code: 'UnknownModel',
        message: `no read model named ${JSON.stringify(model.slice(0, 100))}; models: ${this.options.models.join(', ')}`,
      };
    let input: unknown;
    try {
      input = JSON.parse(new TextDecoder().decode(data));
    } catch {
      return { status: 'error', code: 'InvalidQuery', message: 'the query is not JSON' };
    }
    const parsed = querySchema.safeParse(input);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ');
      return { status: 'error', code: 'InvalidQuery', message: `expected {key}, {keys} or {list: {prefix?, limit?}}: ${issues}` };
    }
    const bucket = this.options.servingBucket(model);
    if (!bucket) return { status: 'error', code: 'ModelUnavailable', message: `the ${model} model is not serving yet (first build under way)` };
    const query = parsed.data;
    if ('key' in query) {
      const doc = await bucket.get(query.key);
      return doc ? { status: 'ok', doc } : { status: 'error', code: 'NotFound', message: `no ${model} entry for "${query.key}"` };
    }
    const collect = async (keys: readonly string[]) =>
      Object.fromEntries(await Promise.all(keys.map(async (k) => [k, (await bucket.get(k)) ?? null] as [string, Doc | null])));
    if ('keys' in query) return { status: 'ok', docs: await collect(query.keys) };
    const all = await bucket.keys(query.list.prefix);
    const keys = all.slice(0, query.list.limit);
    return { status: 'ok', keys, docs: await collect(keys), more: all.length > keys.length };
  }
}

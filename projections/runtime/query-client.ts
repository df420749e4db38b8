import type { NatsConnection } from 'nats';
import type { Doc } from './projection.ts';
import { QueryFailed, type Query, type QueryAnswer } from './query-protocol.ts';

// Reads a model over NATS: what front ends and the ops CLI use instead of opening buckets.

export class QueryClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix = 'orch',
    private readonly timeoutMs = 5_000,
  ) {}

  async ask(model: string, query: Query): Promise<QueryAnswer> {
    try {
      const reply = await this.nc.request(`${this.prefix}.query.${model}`, new TextEncoder().encode(JSON.stringify(query)), { timeout: this.timeoutMs });
      return JSON.parse(new TextDecoder().decode(reply.data)) as QueryAnswer;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '503') throw new QueryFailed(model, 'ModelUnavailable', 'no process answers queries; is the projections role running?');
      if (code === 'TIMEOUT') throw new QueryFailed(model, 'ModelUnavailable', `no answer within ${this.timeoutMs} ms`);
      throw error;
    }
  }

  /** One document, or undefined when the model has no entry for the key. */
  async get(model: string, key: string): Promise<Doc | undefined> {
    const answer = await this.ask(model, { key });
    if (answer.status === 'ok' && 'doc' in answer) return answer.doc;
    if (answer.status === 'error' && answer.code === 'NotFound') return undefined;
    if (answer.status === 'error') throw new QueryFailed(model, answer.code, answer.message);
    throw new QueryFailed(model, 'QueryFailed', 'unexpected answer shape');
  }
}

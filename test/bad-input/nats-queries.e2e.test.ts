import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryAnswer } from '../../projections/runtime/query-protocol.ts';
import { waitFor } from '../support/waiting.ts';
import { inChunks } from './generators.ts';
import { models, queryCases, type QueryCase } from './query-cases.ts';
import { startProductUnderTest, type ProductUnderTest } from './product-under-test.ts';
import { fail, pass, report, type Verdict } from './verdicts.ts';

// Bad queries into the real projections role's responders on `orch.query.<model>`: each is
// answered `{ status: 'error', code, message }` with the code the problem calls for, the
// process lives, nothing is written to the event log, and a valid query is answered after.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

let product: ProductUnderTest;

async function ask(c: QueryCase): Promise<Verdict> {
  try {
    const message = await product.nc.request(c.subject, encoder.encode(c.body), { timeout: 10_000 });
    let answer: QueryAnswer;
    try {
      answer = JSON.parse(decoder.decode(message.data)) as QueryAnswer;
    } catch {
      return fail(c, 'the answer is not JSON');
    }
    if (answer.status !== 'error') return fail(c, `answered ${answer.status}`);
    if (!c.codes.includes(answer.code)) return fail(c, `expected ${c.codes.join('|')}, got ${answer.code}`);
    return typeof answer.message === 'string' && answer.message.length > 0 ? pass(c) : fail(c, 'error without a message');
  } catch (error) {
    const code = (error as { code?: string }).code;
    return fail(c, code === '503' ? 'no responders (NATS 503)' : code === 'TIMEOUT' ? 'no answer within 10 s' : `request failed: ${(error as Error).message}`);
  }
}

const query = async (model: string, body: unknown): Promise<QueryAnswer> =>
  JSON.parse(decoder.decode((await product.nc.request(`orch.query.${model}`, encoder.encode(JSON.stringify(body)), { timeout: 5_000 })).data)) as QueryAnswer;

beforeAll(async () => {
  product = await startProductUnderTest(['projections']);
  // Every model serving (its first build done), so a valid query is answered from a bucket.
  for (const model of models) {
    await waitFor(
      `${model} serving`,
      async () => {
        const answer = await query(model, { key: 'nothing-here' }).catch(() => undefined);
        return answer?.status === 'error' && answer.code === 'NotFound';
      },
      { timeoutMs: 60_000, context: () => product.role.output().slice(-2_000) },
    );
  }
}, 120_000);

afterAll(async () => {
  await product?.stop();
});

describe('bad queries on orch.query.<model> into the projections role', () => {
  it('each is answered with a typed error, nothing is written, the process lives and still answers a valid query', async () => {
    const started = Date.now();
    const all = queryCases();
    const before = await product.eventCount();
    const verdicts = await inChunks(all, 64, ask);
    const after = await product.eventCount();
    const failures = report('NATS queries', verdicts, Date.now() - started);
    expect(verdicts.length).toBeGreaterThanOrEqual(500);
    expect(product.unhealthy()).toBeUndefined();
    expect(after - before, 'events written by bad queries').toBe(0);
    for (const model of models) expect(await query(model, { list: { limit: 1 } })).toMatchObject({ status: 'ok', keys: expect.any(Array) });
    expect(failures).toEqual([]);
  });
});

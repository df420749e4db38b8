import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandReply } from '../../actors/runtime/command-envelope.ts';
import { commandFamilies, freshId, validQueueTask, type CommandCase } from './command-cases.ts';
import { commandSchemasByCategory, hostedCategories, inChunks } from './generators.ts';
import { startProductUnderTest, type ProductUnderTest } from './product-under-test.ts';
import { fail, pass, report, type Verdict } from './verdicts.ts';

// Bad commands into the real aggregates role: `orch.cmd.<category>.<id>` requests from a raw
// NATS client, in families (the envelope, the subject, every field of every command type of
// every aggregate with a wrong type, the deployment's doors, sizes). Each must be answered
// with a typed refusal (`invalid` with errors, or `rejected` with a code), the role process
// must live, and the event log must hold exactly as many messages after each family as before.
// Then a valid command is still accepted.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const categories = hostedCategories();
const subjectOf = (category: string, id = freshId()): string => `orch.cmd.${category}.${id}`;

let product: ProductUnderTest;

// ── running ─────────────────────────────────────────────────────────────────

async function ask(c: CommandCase): Promise<Verdict> {
  try {
    const answer = await product.nc.request(c.subject, encoder.encode(c.body), { timeout: 10_000 });
    let reply: CommandReply;
    try {
      reply = JSON.parse(decoder.decode(answer.data)) as CommandReply;
    } catch {
      return fail(c, 'the reply is not JSON');
    }
    const failure = c.check(reply);
    return failure === undefined ? pass(c) : fail(c, failure);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '503' && c.natsRefuses) return pass(c);
    return fail(
      c,
      code === '503'
        ? 'no responders (NATS 503), no typed reply'
        : code === 'TIMEOUT'
          ? 'no answer within 10 s'
          : `request failed: ${(error as Error).message}`,
    );
  }
}

beforeAll(async () => {
  product = await startProductUnderTest(['aggregates']);
}, 120_000);

afterAll(async () => {
  await product?.stop();
});

describe('bad commands on orch.cmd.<category>.<id> into the aggregates role', () => {
  it('every hosted aggregate has its command schemas in the suite (new commands are covered automatically)', () => {
    expect(Object.keys(commandSchemasByCategory).sort()).toEqual([...categories].sort());
  });

  it('each is answered with a typed refusal, no event is written, the process lives and still accepts a valid command', async () => {
    const started = Date.now();
    const families = commandFamilies(subjectOf);
    const verdicts: Verdict[] = [];
    const written: string[] = [];
    for (const family of families) {
      const before = await product.eventCount();
      verdicts.push(...(await inChunks(family.cases, 64, ask)));
      const after = await product.eventCount();
      if (after !== before) written.push(`${family.name}: ${after - before} event(s) written`);
    }
    const failures = report('NATS commands', verdicts, Date.now() - started);
    expect(verdicts.length).toBeGreaterThanOrEqual(2_000);
    expect(product.unhealthy()).toBeUndefined();
    expect(written).toEqual([]);

    // Still serving: a valid QueueTask is accepted and recorded.
    const before = await product.eventCount();
    const id = freshId();
    const ok = await product.nc.request(
      subjectOf('task', id),
      encoder.encode(JSON.stringify({ commandId: `ok-${id}`, type: 'QueueTask', actor: 'U-ok', data: validQueueTask() })),
      { timeout: 10_000 },
    );
    expect(JSON.parse(decoder.decode(ok.data))).toMatchObject({ status: 'accepted', events: 1 });
    expect(await product.eventCount()).toBe(before + 1);
    expect(failures).toEqual([]);
  });
});

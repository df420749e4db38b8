import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvReadModelStorage } from '../../adapters/nats/kv-read-model-storage.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { MAX_QUERY_BYTES, type QueryAnswer } from '../../projections/runtime/query-protocol.ts';
import { QueryResponder } from '../../projections/runtime/query-responder.ts';
import type { ReadModelBucket } from '../../projections/runtime/read-model-storage.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';

// Whatever arrives on `orch.query.<model>` gets a typed answer from a responder on a real
// nats-server and a real KV bucket, and the responder still answers a good query afterwards.

let server: TestNatsServer;
let nc: NatsConnection;
let bucket: ReadModelBucket;
let responder: QueryResponder;

beforeAll(async () => {
  server = await startTestNatsServer();
  nc = await connectNats(server.url);
  const storage = await KvReadModelStorage.connect(nc);
  bucket = await storage.bucket('things', { version: 1, generation: 1 });
  await bucket.commit({
    position: '1' as never,
    eventsApplied: 1,
    lastEventAt: '2026-12-07T20:00:00.000Z',
    changes: [{ key: 'thing-1', doc: { name: 'one' } }],
  });
  responder = new QueryResponder({
    nc,
    logger: pino({ level: 'silent' }),
    models: ['things', 'empty'],
    servingBucket: (model) => (model === 'things' ? bucket : undefined),
  });
  responder.start();
  await nc.flush();
});

afterAll(async () => {
  await responder?.stop();
  await nc?.close();
  await server?.dispose();
});

const ask = async (model: string, body: Uint8Array | string): Promise<QueryAnswer> => {
  const data = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const reply = await nc.request(`orch.query.${model}`, data, { timeout: 5_000 });
  return JSON.parse(new TextDecoder().decode(reply.data)) as QueryAnswer;
};

describe('bad queries get typed errors', () => {
  const cases: [string, string, string | Uint8Array, string][] = [
    ['over 256 KB', 'things', JSON.stringify({ key: 'x'.repeat(MAX_QUERY_BYTES) }), 'PayloadTooLarge'],
    ['not JSON', 'things', 'key=thing-1', 'InvalidQuery'],
    ['empty', 'things', '', 'InvalidQuery'],
    ['not UTF-8', 'things', new Uint8Array([0xff, 0xfe, 0x00]), 'InvalidQuery'],
    ['null', 'things', 'null', 'InvalidQuery'],
    ['an array', 'things', '[{"key":"thing-1"}]', 'InvalidQuery'],
    ['a number', 'things', '42', 'InvalidQuery'],
    ['a string', 'things', '"thing-1"', 'InvalidQuery'],
    ['an unknown field', 'things', '{"key":"thing-1","drop":true}', 'InvalidQuery'],
    ['a numeric key', 'things', '{"key":7}', 'InvalidQuery'],
    ['an empty key', 'things', '{"key":""}', 'InvalidQuery'],
    ['too many keys', 'things', JSON.stringify({ keys: Array.from({ length: 101 }, (_, i) => `k${i}`) }), 'InvalidQuery'],
    ['a list limit of zero', 'things', '{"list":{"limit":0}}', 'InvalidQuery'],
    ['an unknown model', 'nothing', '{"key":"thing-1"}', 'UnknownModel'],
    ['a model that is not serving yet', 'empty', '{"key":"thing-1"}', 'ModelUnavailable'],
  ];

  it.each(cases)('%s', async (_, model, body, code) => {
    expect(await ask(model, body)).toMatchObject({ status: 'error', code });
  });

  it.each([['.'], ['..'], ['a..b'], ['.hidden'], ['trailing.'], ['../../etc/passwd']])('key %j, which no model can hold: InvalidQuery', async (key) => {
    expect(await ask('things', JSON.stringify({ key }))).toMatchObject({
      status: 'error',
      code: 'InvalidQuery',
      message: expect.stringContaining('no "." at either end'),
    });
    expect(await ask('things', JSON.stringify({ keys: ['thing-1', key] }))).toMatchObject({ status: 'error', code: 'InvalidQuery' });
  });

  it.each([['with space'], ['wild*card'], ['>'], ['ümlaut'], ['a/b=c']])('key %j: NotFound, never a failure', async (key) => {
    expect(await ask('things', JSON.stringify({ key }))).toMatchObject({ status: 'error', code: 'NotFound' });
  });

  it('a query published without a reply subject is dropped, and the responder goes on', async () => {
    nc.publish('orch.query.things', new TextEncoder().encode('null'));
    await nc.flush();
    expect(await ask('things', '{"key":"thing-1"}')).toEqual({ status: 'ok', doc: { name: 'one' } });
  });
});

describe('afterwards', () => {
  it('a good query is still answered', async () => {
    expect(await ask('things', '{"key":"thing-1"}')).toEqual({ status: 'ok', doc: { name: 'one' } });
    expect(await ask('things', '{"list":{}}')).toMatchObject({ status: 'ok', keys: ['thing-1'] });
  });
});

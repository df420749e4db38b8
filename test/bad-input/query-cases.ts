import fc from 'fast-check';
import { readModels } from '../../projections/models/index.ts';
import { querySchema } from '../../projections/runtime/query-protocol.ts';
import {
  BIG_NASTY_JSON,
  garbageText,
  KB,
  NOT_JSON,
  nonObjectJson,
  objectText,
  randomObject,
  sample,
  SMALL_NASTY_JSON,
  unicodeId,
  WRONG_TYPES,
} from './generators.ts';
import type { BadInputCase } from './verdicts.ts';

// The bad queries for `orch.query.<model>`, in families, each with the error codes that may
// answer it (the responders' typed errors).

const MAX_QUERY_BYTES = 256 * KB;
export const models = readModels.map((m) => m.name);

export interface QueryCase extends BadInputCase {
  readonly subject: string;
  readonly body: string;
  readonly codes: readonly string[];
}

const onModel = (i: number): string => `orch.query.${models[i % models.length]}`;
const invalid = (group: string, name: string, body: string, i: number): QueryCase => ({
  group,
  name,
  subject: onModel(i),
  body,
  codes: Buffer.byteLength(body) > MAX_QUERY_BYTES ? ['PayloadTooLarge'] : ['InvalidQuery'],
});

/** Every bad query, each with the error codes that may answer it. */
export function queryCases(): QueryCase[] {
  const all: QueryCase[] = [];
  const push = (group: string, bodies: readonly string[]) => bodies.forEach((body, i) => all.push(invalid(group, body.slice(0, 40), body, all.length + i)));
  push('not JSON', [...NOT_JSON, ...sample(garbageText, 120, 11)]);
  push('JSON but not an object', [
    ...sample(nonObjectJson, 120, 12).map((v) => JSON.stringify(v)),
    ...SMALL_NASTY_JSON.filter((v) => !v.json.startsWith('{')).map((v) => v.json),
  ]);
  push(
    'random object',
    sample(
      randomObject.filter((o) => Object.keys(o).length > 0),
      120,
      13,
    ).map((o) => JSON.stringify(o)),
  );
  push('prototype-pollution keys', [
    '{"__proto__":{"key":"x"}}',
    '{"constructor":{"prototype":{"key":"x"}}}',
    '{"key":"x","__proto__":{"list":{}}}',
    '{"list":{"__proto__":{"limit":5}}}',
  ]);
  push('{} and more than one form', ['{}', '{"key":"a","keys":["a"]}', '{"key":"a","list":{}}', '{"keys":["a"],"list":{}}']);
  push('key of the wrong type, empty or too long', [
    ...WRONG_TYPES.filter((w) => !w.json.startsWith('"')).map((w) => objectText({ key: w.json })),
    '{"key":""}',
    JSON.stringify({ key: 'k'.repeat(1_001) }),
    ...SMALL_NASTY_JSON.filter((v) => !v.json.startsWith('"')).map((v) => objectText({ key: v.json })),
  ]);
  push('keys: empty, over 100, or holding a wrong value', [
    '{"keys":[]}',
    JSON.stringify({ keys: Array.from({ length: 101 }, (_, i) => `k${i}`) }),
    ...WRONG_TYPES.map((w) => objectText({ keys: w.json })),
    ...WRONG_TYPES.filter((w) => !w.json.startsWith('"')).map((w) => `{"keys":["ok",${w.json}]}`),
    '{"keys":[""]}',
  ]);
  push('list: wrong limit, prefix, extra fields', [
    ...[0, -1, 1.5, 1_001, 1e9, '"10"', 'null', 'true', '[]', '{}'].map((limit) => `{"list":{"limit":${limit}}}`),
    ...WRONG_TYPES.filter((w) => !w.json.startsWith('"') || w.json.length > 1_000).map((w) => `{"list":{"prefix":${w.json}}}`),
    ...WRONG_TYPES.map((w) => `{"list":${w.json}}`).filter((b) => b !== '{"list":{"nested":{"x":1}}}'),
    '{"list":{"other":1}}',
    '{"list":{"prefix":"a","limit":1,"extra":true}}',
  ]);
  push(
    'generated wrong shapes',
    sample(
      fc.record(
        {
          key: fc.option(fc.jsonValue({ maxDepth: 1 })),
          keys: fc.option(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })),
          list: fc.option(randomObject),
        },
        { requiredKeys: [] },
      ),
      200,
      14,
    )
      .map((o) => JSON.stringify(o))
      .filter((b) => b !== '{}' && !isValid(b)),
  );
  for (const big of BIG_NASTY_JSON) {
    all.push(invalid('size and depth: the whole body', big.name, big.json, all.length));
    all.push(invalid('size and depth: as the key', big.name, objectText({ key: big.json }), all.length));
  }
  for (const bytes of [257 * KB, 1_000_000, 4 * 1024 * KB])
    all.push(invalid('size: a well-formed query over 256 KB', `${Math.round(bytes / KB)} KB`, JSON.stringify({ keys: ['a', 'x'.repeat(bytes)] }), all.length));
  const unknownModels = [
    'nosuch',
    'Task-Progress',
    'task_progress',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    '*',
    '>',
    ...sample(unicodeId, 80, 15),
  ];
  for (const model of unknownModels)
    if (!models.includes(model))
      all.push({
        group: 'unknown model (any single subject token)',
        name: model,
        subject: `orch.query.${model}`,
        body: '{"key":"x"}',
        codes: ['UnknownModel'],
      });
  return all;
}

/** A body the query schema takes (the generator sometimes makes one) is not a bad input. */
const isValid = (body: string): boolean => querySchema.safeParse(JSON.parse(body)).success;

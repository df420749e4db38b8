import fc from 'fast-check';
import type { z } from 'zod';
import { aggregates } from '../../actors/aggregates/index.ts';
import { budgetCommandSchemas } from '../../domain/budget/index.ts';
import { conversationCommandSchemas } from '../../domain/conversation/index.ts';
import { deliveryCommandSchemas } from '../../domain/delivery/index.ts';
import { planCommandSchemas } from '../../domain/plan/index.ts';
import { taskCommandSchemas } from '../../domain/task/index.ts';
import { workflowCommandSchemas } from '../../domain/workflow/index.ts';

// Values for the bad-input suite: fast-check arbitraries sampled with one fixed seed (printed by
// each file, overridable with BAD_INPUT_SEED to explore), plus a hand list of inputs known to
// break parsers. Bodies are built as JSON *text*, so keys such as "__proto__" survive (an object
// literal would turn them into a prototype), and deep nesting costs no stack here.

export const SEED = Number(process.env.BAD_INPUT_SEED ?? 20_261_207);

/** `n` deterministic values of `arbitrary`; `salt` keeps each family's stream its own. */
export const sample = <T>(arbitrary: fc.Arbitrary<T>, n: number, salt: number): T[] => fc.sample(arbitrary, { seed: SEED + salt, numRuns: n });

// ── command schemas, from the domain ─────────────────────────────────────────

/** Each hosted aggregate's command schemas; a test checks every hosted category is here. */
export const commandSchemasByCategory: Readonly<Record<string, Record<string, z.ZodType>>> = {
  task: taskCommandSchemas,
  workflow: workflowCommandSchemas,
  conversation: conversationCommandSchemas,
  delivery: deliveryCommandSchemas,
  plan: planCommandSchemas,
  budget: budgetCommandSchemas,
};

export const hostedCategories = (): string[] => aggregates.map((a) => a.category);

/** The top-level fields of a command schema (an object, possibly refined). */
export function fieldsOf(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

export function fieldSchema(schema: z.ZodType, field: string): z.ZodType | undefined {
  return (schema as unknown as { shape?: Record<string, z.ZodType> }).shape?.[field];
}

// ── hand list ────────────────────────────────────────────────────────────────

export const KB = 1024;
const bigString = (bytes: number): string => JSON.stringify('x'.repeat(bytes));
const deepArray = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepObject = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Raw JSON texts of values that have broken parsers, validators or stores elsewhere. */
export const NASTY_JSON: readonly { readonly name: string; readonly json: string }[] = [
  { name: 'null', json: 'null' },
  { name: 'true', json: 'true' },
  { name: 'false', json: 'false' },
  { name: 'zero', json: '0' },
  { name: 'negative', json: '-1' },
  { name: 'fraction', json: '1.5' },
  { name: 'huge number', json: '1e308' },
  { name: 'beyond double', json: '1e400' },
  { name: 'negative zero', json: '-0' },
  { name: 'unsafe integer', json: '9007199254740993' },
  { name: 'empty string', json: '""' },
  { name: 'blank string', json: '"   "' },
  { name: 'NUL character', json: '"\\u0000"' },
  { name: 'lone surrogate', json: '"\\ud800"' },
  { name: 'emoji', json: '"🚀🔥"' },
  { name: 'right-to-left override', json: '"\\u202eevil"' },
  { name: 'dotted', json: '"a.b.c"' },
  { name: 'wildcard *', json: '"*"' },
  { name: 'wildcard >', json: '">"' },
  { name: 'with spaces', json: '"a b"' },
  { name: 'path traversal', json: '"../../etc"' },
  { name: 'absolute path', json: '"/etc/passwd"' },
  { name: 'template placeholder', json: '"{{repository}}"' },
  { name: 'empty array', json: '[]' },
  { name: 'array of null', json: '[null]' },
  { name: 'empty object', json: '{}' },
  { name: '__proto__ key', json: '{"__proto__":{"polluted":true,"isAdmin":true}}' },
  { name: 'constructor.prototype key', json: '{"constructor":{"prototype":{"polluted":true}}}' },
  { name: 'toString key', json: '{"toString":"x","valueOf":1,"hasOwnProperty":null}' },
  { name: 'string of 300 KB', json: bigString(300 * KB) },
  { name: 'string of ~1 MB', json: bigString(1_000_000) },
  { name: 'array nested 5,000 deep', json: deepArray(5_000) },
  { name: 'object nested 5,000 deep', json: deepObject(5_000) },
  { name: 'array nested 100,000 deep', json: deepArray(100_000) },
  { name: 'array of 50,000 numbers', json: `[${Array.from({ length: 50_000 }, (_, i) => i).join(',')}]` },
];

/** NASTY_JSON small enough to embed many times over (the big ones get cases of their own). */
export const SMALL_NASTY_JSON = NASTY_JSON.filter((v) => v.json.length < 4 * KB);
export const BIG_NASTY_JSON = NASTY_JSON.filter((v) => v.json.length >= 4 * KB);

/** Texts that are not JSON at all. */
export const NOT_JSON: readonly string[] = [
  '',
  ' ',
  'undefined',
  'NaN',
  '{',
  '}',
  '[1,',
  '{"a":}',
  "{'a':1}",
  '{"a":1,}',
  '\u0000',
  '\ufeff{}x',
  'null null',
  '<xml/>',
  '%7B%7D',
  '\x80\x81\xff',
];

// ── arbitraries ──────────────────────────────────────────────────────────────

/** Any JSON value but an object: what no envelope can be. */
export const nonObjectJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ unit: 'grapheme' }),
  fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 }),
);

/** Text that JSON.parse refuses. */
export const garbageText: fc.Arbitrary<string> = fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }).filter((s) => {
  try {
    JSON.parse(s);
    return false;
  } catch {
    return true;
  }
});

/** Text that is not a valid id token: empty, too long, or holding ".", "*", ">" or white space. */
export const badToken: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: 201, maxLength: 400 }),
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('.', '*', '>', ' ', '\t', '\n', '\u00a0'), fc.string({ maxLength: 10 }))
    .map(([a, b, c]) => `${a}${b}${c}`),
);

/** A valid id token in a subject, unicode included (no ".", "*", ">", white space). */
export const unicodeId: fc.Arbitrary<string> = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
  .map((s) => s.replace(/[\s.*>]/g, '_'))
  .filter((s) => s.length > 0 && s.length <= 200 && /^[^\s.*>]+$/.test(s));

/** Values of every JSON type, for "wrong type in this field". */
export const WRONG_TYPES: readonly { readonly name: string; readonly json: string }[] = [
  { name: 'null', json: 'null' },
  { name: 'number', json: '12345' },
  { name: 'negative number', json: '-7' },
  { name: 'string', json: '"not-it"' },
  { name: 'boolean', json: 'true' },
  { name: 'array', json: '["a",1,null]' },
  { name: 'object', json: '{"nested":{"x":1}}' },
  { name: '__proto__ object', json: '{"__proto__":{"polluted":true}}' },
  { name: 'string of 20 KB', json: bigString(20 * KB) },
];

/** A random object of JSON values (what a careless or hostile producer sends as data). */
export const randomObject: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 });

/** `{ ...fields }` as JSON text, each value given as raw JSON text. */
export const objectText = (fields: Readonly<Record<string, string>>): string =>
  `{${Object.entries(fields)
    .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
    .join(',')}}`;

/** A command envelope as text; `data` is raw JSON text. */
export const envelopeText = (envelope: {
  commandId?: string;
  type?: string;
  actor?: string;
  data?: string;
  extra?: Readonly<Record<string, string>>;
}): string =>
  objectText({
    ...(envelope.commandId !== undefined && { commandId: JSON.stringify(envelope.commandId) }),
    ...(envelope.type !== undefined && { type: JSON.stringify(envelope.type) }),
    ...(envelope.actor !== undefined && { actor: JSON.stringify(envelope.actor) }),
    ...(envelope.data !== undefined && { data: envelope.data }),
    ...envelope.extra,
  });

/** Groups cases by name for a per-group count line. */
export function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** Runs `work` over `items`, `width` at a time, in order of start. */
export async function inChunks<T, R>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!, i);
      }
    }),
  );
  return results;
}

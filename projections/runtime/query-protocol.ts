import { z } from 'zod';
import type { Doc } from './projection.ts';

// What travels on `<prefix>.query.<model>`: validated at the boundary; answers are typed.

// Read models live in NATS KV, whose keys are subjects: a dot at either end or two in a row
// leaves an empty token, which the store refuses. No model writes such a key, so asking for
// one is a malformed query, not a failure of the store.
const key = z
  .string()
  .min(1)
  .max(1_000)
  .refine((k) => !k.startsWith('.') && !k.endsWith('.') && !k.includes('..'), { error: 'a key has no "." at either end and no ".."' });

export const querySchema = z.union([
  z.strictObject({ key }),
  z.strictObject({ keys: z.array(key).min(1).max(100) }),
  z.strictObject({ list: z.strictObject({ prefix: z.string().max(1_000).optional(), limit: z.int().min(1).max(1_000).default(100) }) }),
]);

export type Query = z.input<typeof querySchema>;

export type QueryErrorCode = 'InvalidQuery' | 'PayloadTooLarge' | 'UnknownModel' | 'NotFound' | 'ModelUnavailable' | 'QueryFailed';

/** The largest query body a responder reads (documented in the README, like commands); larger ones are refused unread. */
export const MAX_QUERY_BYTES = 256 * 1024;

export type QueryAnswer =
  | { readonly status: 'ok'; readonly doc: Doc }
  | { readonly status: 'ok'; readonly docs: Readonly<Record<string, Doc | null>> }
  | { readonly status: 'ok'; readonly keys: readonly string[]; readonly docs: Readonly<Record<string, Doc | null>>; readonly more: boolean }
  | { readonly status: 'error'; readonly code: QueryErrorCode; readonly message: string };

export class QueryFailed extends Error {
  override readonly name = 'QueryFailed';
  constructor(
    readonly model: string,
    readonly code: QueryErrorCode,
    message: string,
  ) {
    super(`${model}: ${message}`);
  }
}

import { z } from 'zod';
import type { Doc } from './projection.ts';

// What travels on `<prefix>.query.<model>`: validated at the boundary; answers are typed.

export const querySchema = z.union([
  z.strictObject({ key: z.string().min(1).max(1_000) }),
  z.strictObject({ keys: z.array(z.string().min(1).max(1_000)).min(1).max(100) }),
  z.strictObject({ list: z.strictObject({ prefix: z.string().max(1_000).optional(), limit: z.int().min(1).max(1_000).default(100) }) }),
]);

export type Query = z.input<typeof querySchema>;

export type QueryErrorCode = 'InvalidQuery' | 'UnknownModel' | 'NotFound' | 'ModelUnavailable' | 'QueryFailed';

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

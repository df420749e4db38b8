import { mapLeft, type Either } from 'fp-ts/lib/Either.js';
import type { CommandInput } from '../runtime/aggregate-definition.ts';

/**
 * Adapts a domain command parser to the host: the id from the subject goes into `idField`
 * and the host's time into `at`, overriding anything the sender put there.
 */
export const parseWithId =
  <Command>(idField: string, parse: (input: unknown) => Either<{ readonly issues: readonly string[] }, Command>) =>
  ({ type, id, at, data }: CommandInput): Either<readonly string[], Command> =>
    mapLeft((invalid: { readonly issues: readonly string[] }) => invalid.issues)(parse({ ...data, type, [idField]: id, at }));

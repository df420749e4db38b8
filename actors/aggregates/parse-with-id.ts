import { mapLeft, type Either } from 'fp-ts/lib/Either.js';
import type { CommandInput } from '../runtime/aggregate-definition.ts';

/** Per command type, the field naming the person who acts (an approver, who cancels). */
export type ActorFields = { readonly [type: string]: string };

/**
 * Adapts a domain command parser to the host: the id from the subject goes into `idField`, the
 * host's time into `at`, and the envelope's actor (set by the front end or gateway that verified
 * who it is) into the command's `actorFields`, overriding anything the sender put there: a
 * payload field never names who acted.
 */
export const parseWithId =
  <Command>(idField: string, parse: (input: unknown) => Either<{ readonly issues: readonly string[] }, Command>, actorFields: ActorFields = {}) =>
  ({ type, id, at, data, actor }: CommandInput): Either<readonly string[], Command> => {
    const actorField = actorFields[type];
    return mapLeft((invalid: { readonly issues: readonly string[] }) => invalid.issues)(
      parse({ ...data, ...(actorField ? { [actorField]: actor } : {}), type, [idField]: id, at }),
    );
  };

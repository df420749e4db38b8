import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import type { DomainEvent, Rejection } from './decider.ts';
import { isValidId } from './streams.ts';

// Commands reach aggregate actors over NATS from outside producers, so each is checked here,
// once, and answered with every problem spelled out rather than the first one.

export const idField = z.string().refine(isValidId, { error: 'must be 1-200 characters with no ".", "*", ">" or white space' });
export const timestampField = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time, e.g. 2026-11-21T10:00:00.000Z' });

export interface InvalidCommand extends Rejection<'InvalidCommand'> {
  readonly issues: readonly string[];
}

const invalidCommand = (issues: readonly string[]): InvalidCommand => ({
  code: 'InvalidCommand',
  message: `invalid command: ${issues.join('; ')}`,
  issues,
});

const describeIssue = (issue: z.core.$ZodIssue): string => `${issue.path.length > 0 ? issue.path.map(String).join('.') : 'command'}: ${issue.message}`;

type CommandSchemas = Record<string, z.ZodType<object>>;

/** The data of event `K`, from a map of one schema per event type. */
export type EventDataOf<Schemas extends CommandSchemas, K extends keyof Schemas> = z.infer<Schemas[K]>;

/** `{ type, data }` for each event schema in a map keyed by event type. */
export type EventsOf<Schemas extends CommandSchemas> = {
  [K in keyof Schemas & string]: DomainEvent<K, EventDataOf<Schemas, K>>;
}[keyof Schemas & string];

/** `{ type, ...fields }` for each command schema in a map keyed by command type. */
export type CommandsOf<Schemas extends CommandSchemas> = {
  [K in keyof Schemas & string]: { readonly type: K } & z.output<Schemas[K]>;
}[keyof Schemas & string];

export function parseCommandWith<Schemas extends CommandSchemas>(schemas: Schemas, input: unknown): Either<InvalidCommand, CommandsOf<Schemas>> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return left(invalidCommand(['command: must be an object with a "type"']));
  const type: unknown = (input as { type?: unknown }).type;
  const known = Object.keys(schemas);
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) {
    return left(invalidCommand([`type: unknown command type ${JSON.stringify(type)}; expected one of ${known.join(', ')}`]));
  }
  const parsed = schemas[type]!.safeParse(input);
  if (!parsed.success) return left(invalidCommand(parsed.error.issues.map(describeIssue)));
  // The schema for `type` produced `parsed.data`, which TypeScript cannot correlate by itself.
  return right({ type, ...parsed.data } as CommandsOf<Schemas>);
}

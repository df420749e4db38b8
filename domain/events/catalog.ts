import type { z } from 'zod';
import { conversationEventSchemas } from '../conversation/events.ts';
import { budgetEventSchemas } from '../budget/events.ts';
import { deliveryEventSchemas } from '../delivery/events.ts';
import { planEventSchemas } from '../plan/events.ts';
import { taskEventSchemas } from '../task/events.ts';
import { workflowEventSchemas } from '../workflow/events.ts';

// Every event type the product records, with the schema of its data and the version of that
// schema as outside consumers see it (the public CloudEvents and schemas/events/*.json).
// A new event type is one entry in its aggregate's `*EventSchemas` map; a new aggregate is
// one line below. Any change to an event's data shape bumps its version here, so consumers
// of the old version keep a schema file that still describes what they were promised.

export interface EventTypeEntry {
  /** Past-tense PascalCase, e.g. `TaskQueued`. */
  readonly type: string;
  /** Stream category the event is recorded in (`task` for `task-<id>`). */
  readonly category: string;
  /** Version of the data schema, from 1. */
  readonly version: number;
  readonly schema: z.ZodType;
}

type EventSchemaMap = Record<string, z.ZodType>;

/** An aggregate's events at version 1, except where `versions` says otherwise. */
const aggregateEvents = <S extends EventSchemaMap>(category: string, schemas: S, versions: Partial<Record<keyof S & string, number>> = {}): EventTypeEntry[] =>
  Object.entries(schemas).map(([type, schema]) => ({ type, category, schema, version: versions[type as keyof S & string] ?? 1 }));

function catalogOf(entries: readonly EventTypeEntry[]): ReadonlyMap<string, EventTypeEntry> {
  const catalog = new Map<string, EventTypeEntry>();
  for (const entry of entries) {
    // Public subjects and schema files are keyed by type alone, so a name may mean one thing only.
    if (catalog.has(entry.type)) throw new Error(`event type ${entry.type} is defined by both ${catalog.get(entry.type)!.category} and ${entry.category}`);
    if (!/^[A-Z][A-Za-z0-9]*$/.test(entry.type)) throw new Error(`event type ${entry.type} is not PascalCase`);
    if (!Number.isInteger(entry.version) || entry.version < 1) throw new Error(`event type ${entry.type}: version must be an integer from 1`);
    catalog.set(entry.type, entry);
  }
  return catalog;
}

export const eventCatalog: ReadonlyMap<string, EventTypeEntry> = catalogOf([
  ...aggregateEvents('conversation', conversationEventSchemas),
  ...aggregateEvents('task', taskEventSchemas),
  ...aggregateEvents('plan', planEventSchemas),
  ...aggregateEvents('workflow', workflowEventSchemas),
  ...aggregateEvents('budget', budgetEventSchemas),
  ...aggregateEvents('delivery', deliveryEventSchemas),
]);

export const eventTypeEntry = (type: string): EventTypeEntry | undefined => eventCatalog.get(type);

import { z } from 'zod';
import { eventCatalog, type EventTypeEntry } from './catalog.ts';
import { cloudEventSchema, dataSchemaUri, schemaFileName } from './cloud-event.ts';

// The JSON Schema files outside consumers validate public events with: one per event type and
// version, describing the whole CloudEvent (envelope and data), generated from the zod schemas
// so the two cannot drift. `npm run schemas` writes them; `npm run schemas -- --check` and a
// unit test fail when the committed files are stale.

export interface EventSchemaFile {
  readonly fileName: string;
  /** The file's exact text: pretty-printed JSON and a final newline. */
  readonly content: string;
}

export function eventJsonSchema(entry: EventTypeEntry): Record<string, unknown> {
  // Output mode: the schema of what is published, which is the data as its zod schema parses it.
  const { $schema, ...rest } = z.toJSONSchema(cloudEventSchema(entry), { target: 'draft-2020-12', io: 'output' });
  return {
    $schema,
    $id: dataSchemaUri(entry),
    title: `${entry.type} v${entry.version}`,
    description: `CloudEvents 1.0 (structured JSON) envelope of the ${entry.type} event, published on <prefix>.events.${entry.category}.${entry.type}; "data" is the event's data.`,
    ...rest,
  };
}

export const eventSchemaFiles = (): EventSchemaFile[] =>
  [...eventCatalog.values()]
    .map((entry) => ({ fileName: schemaFileName(entry), content: `${JSON.stringify(eventJsonSchema(entry), null, 2)}\n` }))
    .sort((a, b) => (a.fileName < b.fileName ? -1 : a.fileName > b.fileName ? 1 : 0));

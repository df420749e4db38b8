import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import type { RecordedEvent } from '../ports/event-store.ts';
import { parseStreamName } from '../streams.ts';
import { eventTypeEntry, type EventTypeEntry } from './catalog.ts';

// A recorded event as outside consumers receive it: CloudEvents 1.0, structured JSON.
// `type` stays the plain event type so consumers can filter on it; the version lives in
// `dataschema`, which is the `$id` of schemas/events/<type>.v<version>.json. Extension
// attribute names are lowercase alphanumeric, as the CloudEvents spec requires.

export interface CloudEvent<Data = unknown> {
  readonly specversion: '1.0';
  /** The event id: unique, and the same on every re-publish, so consumers can de-duplicate. */
  readonly id: string;
  readonly source: string;
  readonly type: string;
  /** The stream the event belongs to, e.g. `task-<id>`. */
  readonly subject: string;
  /** When the command was decided (the event's `occurredAt`). */
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly dataschema: string;
  readonly correlationid: string;
  readonly causationid: string;
  /** Who caused it: a user id, `system`, or a component name. */
  readonly actor: string;
  readonly data: Data;
}

export interface PublicEvent {
  /** The stream category, for routing (`<prefix>.events.<category>.<type>`). */
  readonly category: string;
  readonly cloudEvent: CloudEvent;
}

/** The schema's identity; maps to the file `schemas/events/<type>.v<version>.json`. */
export const dataSchemaUri = (entry: Pick<EventTypeEntry, 'type' | 'version'>): string => `urn:orch:event-schema:${entry.type}:v${entry.version}`;

export const schemaFileName = (entry: Pick<EventTypeEntry, 'type' | 'version'>): string => `${entry.type}.v${entry.version}.json`;

/**
 * The whole envelope of one event type. Loose at the top level: CloudEvents consumers ignore
 * extension attributes they do not know, so adding one is not a breaking change.
 */
export const cloudEventSchema = (entry: EventTypeEntry) =>
  z.looseObject({
    specversion: z.literal('1.0'),
    id: z.uuid(),
    source: z.string().min(1),
    type: z.literal(entry.type),
    subject: z.string().regex(new RegExp(`^${entry.category}-[^\\s.*>]+$`)),
    time: z.iso.datetime({ offset: true }),
    datacontenttype: z.literal('application/json'),
    dataschema: z.literal(dataSchemaUri(entry)),
    correlationid: z.string().min(1),
    causationid: z.string().min(1),
    actor: z.string().min(1),
    data: entry.schema,
  });

/**
 * The public form of a recorded event, or why it cannot have one. Data goes out as its schema
 * parses it, so only declared fields ever leave, and every message matches its schema file.
 */
export function toPublicEvent(event: RecordedEvent, source: string): Either<string, PublicEvent> {
  const entry = eventTypeEntry(event.type);
  if (!entry) return left(`event type ${event.type} is not in the event catalog`);
  let category: string;
  try {
    category = parseStreamName(event.stream).category;
  } catch (error) {
    return left((error as Error).message);
  }
  if (category !== entry.category) return left(`event type ${event.type} belongs to ${entry.category} streams, found in ${event.stream}`);
  const data = entry.schema.safeParse(event.data);
  if (!data.success)
    return left(`data does not match ${schemaFileName(entry)}: ${data.error.issues.map((i) => `${i.path.join('.') || 'data'}: ${i.message}`).join('; ')}`);
  return right({
    category,
    cloudEvent: {
      specversion: '1.0',
      id: event.id,
      source,
      type: event.type,
      subject: event.stream,
      time: event.metadata.occurredAt,
      datacontenttype: 'application/json',
      dataschema: dataSchemaUri(entry),
      correlationid: event.metadata.correlationId,
      causationid: event.metadata.causationId,
      actor: event.metadata.actor,
      data: data.data,
    },
  });
}

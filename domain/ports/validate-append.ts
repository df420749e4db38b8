import { z } from 'zod';
import { eventIdFor } from '../event-id.ts';
import { parseStreamName, type StreamName } from '../streams.ts';
import { InvalidAppend, type EventMetadata, type NewEvent } from './event-store.ts';

// Both adapters run every append through this, so both refuse the same bad input the same way.

const metadataSchema = z.object({
  correlationId: z.string().min(1),
  causationId: z.string().min(1),
  commandId: z.string().min(1),
  actor: z.string().min(1),
  authorization: z.string().min(1).max(200).optional(),
  occurredAt: z.iso.datetime({ offset: true }),
  schemaVersion: z.number().int().positive(),
});

const eventSchema = z.object({
  type: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'event type must be PascalCase'),
  data: z.unknown(),
  metadata: metadataSchema,
  id: z.uuid().optional(),
});

export interface PreparedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: EventMetadata;
}

export function prepareAppend(stream: StreamName, events: readonly NewEvent[]): PreparedEvent[] {
  try {
    parseStreamName(stream);
  } catch (error) {
    throw new InvalidAppend(stream, (error as Error).message);
  }
  if (events.length === 0) throw new InvalidAppend(stream, 'no events');
  return events.map((event, index) => {
    const parsed = eventSchema.safeParse(event);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new InvalidAppend(stream, `event ${index}: ${issue.path.join('.') || 'event'}: ${issue.message}`);
    }
    const metadata = parsed.data.metadata;
    return {
      id: parsed.data.id ?? eventIdFor(stream, metadata.commandId, index),
      type: parsed.data.type,
      data: parsed.data.data ?? null,
      metadata,
    };
  });
}

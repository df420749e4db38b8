import { randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent } from '../../domain/ports/event-store.ts';
import { streamName, type StreamName } from '../../domain/streams.ts';

// Builders that keep event-store test cases to a few lines.

export const metadata = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  correlationId: 'corr-1',
  causationId: 'cause-1',
  commandId: randomUUID(),
  actor: 'U123',
  occurredAt: '2026-11-21T10:00:00.000Z',
  schemaVersion: 1,
  ...overrides,
});

/** Events of one command: they share the command id, as a decider's output does. */
export function commandEvents(types: readonly string[], data: (i: number) => unknown = (i) => ({ n: i }), meta: Partial<EventMetadata> = {}): NewEvent[] {
  const m = metadata(meta);
  return types.map((type, i) => ({ type, data: data(i), metadata: m }));
}

export const oneEvent = (type = 'ThingHappened', data: unknown = { n: 1 }, meta: Partial<EventMetadata> = {}): NewEvent[] =>
  commandEvents([type], () => data, meta);

/** A category unique to one test, so tests sharing a store do not see each other's streams. */
export const uniqueCategory = (): string => `c${randomUUID().replace(/-/g, '').slice(0, 12)}`;

export const uniqueStream = (category = 'test'): StreamName => streamName(category, randomUUID());

import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import type { Doc, ProjectionDefinition } from '../../projections/runtime/projection.ts';

/** What a projection's fold gives over a list of events, computed without the runtime: the expected model. */
export async function foldInMemory(definition: ProjectionDefinition, events: readonly RecordedEvent[]): Promise<Map<string, Doc>> {
  const docs = new Map<string, Doc>();
  for (const event of events) {
    for (const change of await definition.apply(event, { get: async (key) => docs.get(key) })) {
      if (change.doc === undefined) docs.delete(change.key);
      else docs.set(change.key, change.doc);
    }
  }
  return docs;
}

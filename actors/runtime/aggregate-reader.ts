import type { Logger } from 'pino';
import type { DomainEvent } from '../../domain/decider.ts';
import type { EventStore } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import type { AggregateDefinition } from './aggregate-definition.ts';
import { AggregateLoader } from './aggregate-loader.ts';

/** The current state of one aggregate, folded from its stream: for readers that must see their own writes. */
export async function readAggregateState<Command, Event extends DomainEvent, State>(
  store: EventStore,
  definition: AggregateDefinition<Command, Event, State>,
  id: string,
  logger: Logger,
): Promise<State> {
  const loaded = await new AggregateLoader({ store, definition, logger }).load(streamName(definition.category, id));
  return loaded.state;
}

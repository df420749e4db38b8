import { deliveryDecider, parseDeliveryCommand, type DeliveryCommand, type DeliveryEvent, type DeliveryState } from '../../domain/delivery/index.ts';
import type { AggregateDefinition } from '../runtime/aggregate-definition.ts';
import { commandCatalog } from '../../domain/commands/catalog.ts';
import { parseWithId } from './parse-with-id.ts';

export const deliveryAggregate: AggregateDefinition<DeliveryCommand, DeliveryEvent, DeliveryState> = {
  category: 'delivery',
  decider: deliveryDecider,
  // A task replying to a webhook or NATS never has a progress message, so either request opens the stream.
  creates: ['BeginProgressMessage', 'BeginReply'],
  schemaVersion: 1,
  // The state is plain JSON, so the default encoding serves.
  snapshot: { version: 1 },
  parseCommand: parseWithId(commandCatalog.delivery.idField, parseDeliveryCommand, commandCatalog.delivery.actorFields),
};

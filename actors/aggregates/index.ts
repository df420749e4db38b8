import type { AnyAggregateDefinition } from '../runtime/aggregate-definition.ts';
import { conversationAggregate } from './conversation.ts';
import { deliveryAggregate } from './delivery.ts';
import { taskAggregate } from './task.ts';

/** Every aggregate the product hosts; adding one is one line here. */
export const aggregates: readonly AnyAggregateDefinition[] = [conversationAggregate, taskAggregate, deliveryAggregate];

export const aggregateFor = (category: string): AnyAggregateDefinition | undefined => aggregates.find((a) => a.category === category);

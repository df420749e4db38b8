import type { AnyAggregateDefinition } from '../runtime/aggregate-definition.ts';
import { budgetAggregate } from './budget.ts';
import { conversationAggregate } from './conversation.ts';
import { deliveryAggregate } from './delivery.ts';
import { planAggregate } from './plan.ts';
import { taskAggregate } from './task.ts';
import { workflowAggregate } from './workflow.ts';

/** Every aggregate the product hosts; adding one is one line here. */
export const aggregates: readonly AnyAggregateDefinition[] = [
  conversationAggregate,
  taskAggregate,
  deliveryAggregate,
  planAggregate,
  workflowAggregate,
  budgetAggregate,
];

export const aggregateFor = (category: string): AnyAggregateDefinition | undefined => aggregates.find((a) => a.category === category);

import { parsePlanCommand, planDecider, type PlanCommand, type PlanEvent, type PlanState } from '../../domain/plan/index.ts';
import type { AggregateDefinition } from '../runtime/aggregate-definition.ts';
import { commandCatalog } from '../../domain/commands/catalog.ts';
import { parseWithId } from './parse-with-id.ts';

export const planAggregate: AggregateDefinition<PlanCommand, PlanEvent, PlanState> = {
  category: 'plan',
  decider: planDecider,
  creates: ['ProposePlan'],
  schemaVersion: 1,
  // The state is plain JSON, so the default encoding serves.
  snapshot: { version: 1 },
  // Who approves or rejects is who sent it, never a field of the payload.
  parseCommand: parseWithId(commandCatalog.plan.idField, parsePlanCommand, commandCatalog.plan.actorFields),
};

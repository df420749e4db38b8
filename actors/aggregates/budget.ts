import { budgetDecider, parseBudgetCommand, type BudgetCommand, type BudgetEvent, type BudgetState } from '../../domain/budget/index.ts';
import type { AggregateDefinition } from '../runtime/aggregate-definition.ts';
import { commandCatalog } from '../../domain/commands/catalog.ts';
import { parseWithId } from './parse-with-id.ts';

export const budgetAggregate: AggregateDefinition<BudgetCommand, BudgetEvent, BudgetState> = {
  category: 'budget',
  decider: budgetDecider,
  // A month's stream opens with its caps, or with its first reservation when no caps are set.
  creates: ['SetCaps', 'ReserveCost'],
  schemaVersion: 1,
  // The state is plain JSON (amounts are whole micro-dollars as numbers), so the default encoding serves.
  snapshot: { version: 1 },
  parseCommand: parseWithId(commandCatalog.budget.idField, parseBudgetCommand, commandCatalog.budget.actorFields),
};

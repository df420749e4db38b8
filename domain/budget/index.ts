import type { Decider } from '../decider.ts';
import type { BudgetCommand } from './commands.ts';
import { decide } from './decide.ts';
import type { BudgetEvent } from './events.ts';
import { evolve } from './evolve.ts';
import { initialState, type BudgetState } from './state.ts';

export const budgetDecider: Decider<BudgetCommand, BudgetEvent, BudgetState> = { decide, evolve, initialState };

export { budgetCommandSchemas, parseBudgetCommand, type BudgetCommand, type BudgetCommandOf, type BudgetCommandType } from './commands.ts';
export { budgetEventOf, budgetEventSchemas, type BudgetEvent, type BudgetEventData, type BudgetEventOf, type BudgetEventType } from './events.ts';
export { capExcessSchema, capKindSchema, type CapExcess, type CapKind } from './fields.ts';
export { BUDGET_PERIOD, budgetIdFor } from './period.ts';
export type { BudgetRejection, BudgetRejectionCode, CapWouldBeExceeded } from './rejections.ts';
export { initialState, type BudgetState, type Caps, type Reservation, type ReservationStatus } from './state.ts';
export type { InvalidCommand } from '../validation.ts';

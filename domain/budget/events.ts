import { z } from 'zod';
import type { DomainEvent } from '../decider.ts';
import type { EventDataOf, EventsOf } from '../validation.ts';
import { capExcessSchema } from './fields.ts';

// Every cost is recorded: held (CostReserved), then spent (CostCommitted) or let go
// (CostReleased). Spending over a cap is either refused, or recorded with who approved it.
// The warning and critical thresholds of the monthly cap are each recorded once per month,
// when committed spending first reaches them.

const budgetEvent = z.object({ budgetId: z.string(), at: z.string() });
const reservation = { reservationId: z.string(), amountUsd: z.number(), purpose: z.string(), workflowId: z.string().optional(), user: z.string() };
const threshold = budgetEvent.extend({ spentUsd: z.number(), monthlyUsd: z.number(), fraction: z.number() });

export const budgetEventSchemas = {
  BudgetCapsSet: budgetEvent.extend({
    monthlyUsd: z.number(),
    perWorkflowUsd: z.number().optional(),
    perUserUsd: z.number().optional(),
    warningFraction: z.number(),
    criticalFraction: z.number(),
    setBy: z.string(),
  }),
  CostReserved: budgetEvent.extend({
    ...reservation,
    /** Set when the reservation crosses a cap with someone's approval. */
    overCap: z.object({ approvedBy: z.string(), exceeded: z.array(capExcessSchema) }).optional(),
  }),
  CostApprovalRequired: budgetEvent.extend({ ...reservation, exceeded: z.array(capExcessSchema) }),
  CostCommitted: budgetEvent.extend({
    reservationId: z.string(),
    reservedUsd: z.number(),
    actualUsd: z.number(),
    workflowId: z.string().optional(),
    user: z.string(),
  }),
  CostReleased: budgetEvent.extend({ reservationId: z.string(), amountUsd: z.number(), reason: z.string() }),
  BudgetWarningReached: threshold,
  BudgetCriticalReached: threshold,
};

type Schemas = typeof budgetEventSchemas;
export type BudgetEventType = keyof Schemas;
export type BudgetEventData<K extends BudgetEventType> = EventDataOf<Schemas, K>;
export type BudgetEventOf<K extends BudgetEventType> = DomainEvent<K, BudgetEventData<K>>;
export type BudgetEvent = EventsOf<Schemas>;

export const budgetEventOf = <K extends BudgetEventType>(type: K, data: BudgetEventData<K>): BudgetEventOf<K> => ({ type, data });

import type { Either } from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { idField, parseCommandWith, timestampField, type CommandsOf, type InvalidCommand } from '../validation.ts';
import { fraction, overCapActionSchema, positiveUsd, usdAmount } from './fields.ts';
import { budgetIdField } from './period.ts';

const budgetCommand = z.object({ budgetId: budgetIdField, at: timestampField });
const user = z.string().min(1).max(200);

export const budgetCommandSchemas = {
  SetCaps: budgetCommand
    .extend({
      monthlyUsd: positiveUsd,
      perWorkflowUsd: positiveUsd.optional(),
      perUserUsd: positiveUsd.optional(),
      warningFraction: fraction.default(0.8),
      criticalFraction: fraction.default(0.95),
      setBy: user,
    })
    .refine((c) => c.warningFraction <= c.criticalFraction, { error: 'warningFraction must not exceed criticalFraction', path: ['warningFraction'] }),
  /**
   * Held before a model call or a paid run. Over a cap, `ifOverCap` says whether to refuse
   * (CapWouldBeExceeded) or to record CostApprovalRequired; the caller then opens an approval
   * gate and, once granted, sends the same reservation again with `overCapApprovedBy`.
   */
  ReserveCost: budgetCommand.extend({
    reservationId: idField,
    amountUsd: positiveUsd,
    purpose: z.string().min(1).max(500),
    workflowId: idField.optional(),
    user,
    ifOverCap: overCapActionSchema.default('refuse'),
    overCapApprovedBy: user.optional(),
  }),
  /** What the call or run actually cost; it may differ from what was held. */
  CommitCost: budgetCommand.extend({ reservationId: idField, actualUsd: usdAmount }),
  /** Nothing was spent (the call was not made, or failed before it cost anything). */
  ReleaseCost: budgetCommand.extend({ reservationId: idField, reason: z.string().min(1).max(500) }),
};

export type BudgetCommand = CommandsOf<typeof budgetCommandSchemas>;
export type BudgetCommandType = BudgetCommand['type'];
export type BudgetCommandOf<K extends BudgetCommandType> = Extract<BudgetCommand, { type: K }>;

export const parseBudgetCommand = (input: unknown): Either<InvalidCommand, BudgetCommand> => parseCommandWith(budgetCommandSchemas, input);

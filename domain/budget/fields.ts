import { z } from 'zod';

// Value shapes shared by budget commands, events and rejections.

export const usdAmount = z.number().nonnegative().max(1_000_000);
export const positiveUsd = z.number().positive().max(1_000_000);
export const fraction = z.number().gt(0).max(1);

export const capKindSchema = z.enum(['monthly', 'perWorkflow', 'perUser']);
export type CapKind = z.infer<typeof capKindSchema>;

/** One cap a reservation would cross: its limit, what is spent and held against it, and the request. */
export const capExcessSchema = z.object({
  cap: capKindSchema,
  capUsd: z.number(),
  spentUsd: z.number(),
  reservedUsd: z.number(),
  requestedUsd: z.number(),
  /** The workflow or user the cap is about; absent for the monthly cap. */
  scope: z.string().optional(),
});
export type CapExcess = z.infer<typeof capExcessSchema>;

/** What ReserveCost does when a cap would be crossed without an approval in hand. */
export const overCapActionSchema = z.enum(['refuse', 'askApproval']);

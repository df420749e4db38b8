import { z } from 'zod';

// Value shapes shared by plan commands and plan events.

export const userField = z.string().min(1).max(200);

export const tokenUsageSchema = z.object({ inputTokens: z.int().nonnegative(), outputTokens: z.int().nonnegative() });

/** The model that produced the plan (`offline` for the offline planner), its tokens and their cost. */
export const modelSpendFields = {
  model: z.string().min(1).max(200),
  usage: tokenUsageSchema,
  costUsd: z.number().nonnegative().max(100_000),
};

/** How the approver said yes: the "run this plan" button, or typing APPROVE in the thread. */
export const approvalViaSchema = z.enum(['button', 'typed']);
export type ApprovalVia = z.infer<typeof approvalViaSchema>;

import { z } from 'zod';

// A budget covers one calendar month (UTC), named like `2026-11`: the stream `budget-2026-11`
// holds every reservation of that month, and its caps (monthly, per workflow, per user) are
// checked against it in one decision. Per-workflow and per-user spending are sub-totals of
// the month rather than budgets of their own, so one reservation checks all three caps
// atomically, with no saga across aggregates. A workflow running across midnight at the end
// of a month starts its per-workflow total again in the new month; workflows are bounded to
// hours (WORKFLOW_MAX_EXECUTION_TIME), so that is accepted.

export const BUDGET_PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

export const budgetIdField = z.string().regex(BUDGET_PERIOD, 'must be a month as YYYY-MM, e.g. 2026-11');

/** The budget a cost incurred at `at` (ISO-8601) belongs to. */
export const budgetIdFor = (at: string): string => new Date(at).toISOString().slice(0, 7);

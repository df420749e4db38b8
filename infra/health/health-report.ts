import { z } from 'zod';

// One round of health checks (MO2), as stored by the checker and printed by `orch health`.
// Parsed with this schema wherever it is read back: the stored document is outside input.

export const checkStatusSchema = z.enum(['ok', 'failing', 'skipped']);

export const healthCheckSchema = z.object({
  name: z.string(),
  status: checkStatusSchema,
  detail: z.string(),
  /** How long the check took. */
  ms: z.number(),
});

export const healthReportSchema = z.object({
  checkedAt: z.string(),
  /** How often the checker runs, so a reader can tell a stale report. */
  intervalMs: z.number(),
  healthy: z.boolean(),
  checks: z.array(healthCheckSchema),
});

export type HealthCheck = z.infer<typeof healthCheckSchema>;
export type HealthReport = z.infer<typeof healthReportSchema>;

/** Healthy when no check fails; skipped checks (Slack or Anthropic not configured) do not count. */
export const reportOf = (checks: readonly HealthCheck[], checkedAt: string, intervalMs: number): HealthReport => ({
  checkedAt,
  intervalMs,
  healthy: checks.every((c) => c.status !== 'failing'),
  checks: [...checks],
});

/** A report older than two intervals means the checker is not running: that is unhealthy too. */
export const isStale = (report: HealthReport, nowMs: number): boolean => nowMs - Date.parse(report.checkedAt) > 2 * report.intervalMs + 5_000;

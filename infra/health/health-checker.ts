import type { Logger } from 'pino';
import { reportOf, type HealthReport } from './health-report.ts';
import { runHealthChecks, type HealthCheckSources } from './health-checks.ts';
import type { HealthStore } from './health-store.ts';

// Runs the health checks every HEALTH_CHECK_INTERVAL and stores each round; logs a line when
// the verdict changes (healthy ↔ unhealthy), naming what fails, rather than every minute.

export interface HealthCheckerOptions extends HealthCheckSources {
  readonly healthStore: HealthStore;
  readonly intervalMs: number;
  readonly logger: Logger;
}

const FIRST_ROUND_AFTER_MS = 5_000;

export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private lastHealthy: boolean | undefined;
  private stopped = false;

  constructor(private readonly options: HealthCheckerOptions) {}

  /** The first round comes a few seconds after start, once the process's other roles are up, then one per interval. */
  start(): void {
    const next = (delayMs: number) => {
      this.timer = setTimeout(() => {
        this.running = this.round();
        void this.running.then(() => {
          if (!this.stopped) next(this.options.intervalMs);
        });
      }, delayMs);
    };
    next(Math.min(this.options.intervalMs, FIRST_ROUND_AFTER_MS));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One round now: checks, store, log on change. Never throws. */
  async round(): Promise<HealthReport | undefined> {
    const { logger } = this.options;
    try {
      const checks = await runHealthChecks(this.options);
      const report = reportOf(checks, new Date().toISOString(), this.options.intervalMs);
      await this.options.healthStore.save(report);
      if (report.healthy !== this.lastHealthy) {
        const failing = report.checks.filter((c) => c.status === 'failing').map((c) => `${c.name}: ${c.detail}`);
        if (report.healthy) logger.info({ checks: report.checks.length }, 'health checks: healthy');
        else logger.warn({ failing }, 'health checks: unhealthy');
        this.lastHealthy = report.healthy;
      }
      return report;
    } catch (error) {
      logger.warn({ err: error }, 'health checks could not be recorded');
      return undefined;
    }
  }
}

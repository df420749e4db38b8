import type { Command } from 'commander';
import { KvReadModelStorage } from '../../adapters/nats/kv-read-model-storage.ts';
import { readModels } from '../../projections/models/index.ts';
import { projectionStatus } from '../../projections/runtime/projection-status.ts';
import { loadConfig } from '../config/load-config.ts';
import { runHealthChecks } from '../health/health-checks.ts';
import { isStale, reportOf, type HealthReport } from '../health/health-report.ts';
import { HealthStore } from '../health/health-store.ts';
import { systemClock } from '../system-clock.ts';
import { connectToProduct } from './connect.ts';
import { UserError } from './user-error.ts';

// `orch health`: the latest round of health checks (run by the process serving the
// `projections` role every HEALTH_CHECK_INTERVAL), or a round run now with --now.
// Exit code 0 when healthy, 1 otherwise (a report too old to trust counts as unhealthy).

const MARK = { ok: 'ok', failing: 'FAILING', skipped: 'skipped' } as const;

export function healthTable(report: HealthReport, stale: boolean): string {
  const width = Math.max(...report.checks.map((c) => c.name.length), 5);
  const lines = [
    `${report.healthy && !stale ? 'healthy' : 'UNHEALTHY'}: checked at ${report.checkedAt}${stale ? ` (stale: the checks run every ${Math.round(report.intervalMs / 1000)} s; is the projections role running?)` : ''}`,
    `${'CHECK'.padEnd(width)}  STATUS   ${'MS'.padStart(5)}  DETAIL`,
    ...report.checks.map((c) => `${c.name.padEnd(width)}  ${MARK[c.status].padEnd(7)}  ${String(c.ms).padStart(5)}  ${c.detail}`),
  ];
  return lines.join('\n');
}

export function registerHealthCommands(cli: Command): void {
  cli
    .command('health')
    .description(
      'health checks: NATS, event store, Slack (auth.test), Anthropic, live workers per pool, projection lag, queue depth; exit 0 when healthy, 1 otherwise',
    )
    .option('--json', 'the report as JSON (with "stale")')
    .option('--now', 'run the checks now from here instead of reading the latest recorded round')
    .action(async (options: { json?: boolean; now?: boolean }) => {
      const config = loadConfig();
      const { nc, store } = await connectToProduct(config);
      try {
        let report: HealthReport | undefined;
        if (options.now) {
          const storage = await KvReadModelStorage.connect(nc, config.prefix, { replicas: config.nats.replicas });
          const checks = await runHealthChecks({ config, nc, store, projections: () => projectionStatus(readModels, storage, store, systemClock.now()) });
          report = reportOf(checks, systemClock.now(), config.monitoring.healthCheckIntervalMs);
        } else {
          report = await (await HealthStore.connect(nc, config.prefix, { replicas: config.nats.replicas })).latest();
          if (!report)
            throw new UserError(
              'no health checks recorded yet: the process running the projections role records them every HEALTH_CHECK_INTERVAL (or use --now)',
            );
        }
        const stale = !options.now && isStale(report, Date.now());
        console.log(options.json ? JSON.stringify({ ...report, stale }, null, 2) : healthTable(report, stale));
        process.exitCode = report.healthy && !stale ? 0 : 1;
      } finally {
        await store.close();
        await nc.close();
      }
    });
}

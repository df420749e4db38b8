import type { NatsConnection } from 'nats';
import type { Registry } from 'prom-client';
import type { ProjectionStatus } from '../../projections/runtime/projection-status.ts';
import { scrapedMetric } from './custom-metric.ts';
import { workQueueFigures } from './work-queue-figures.ts';
import { liveWorkers } from '../health/worker-presence.ts';

// Gauges of the whole deployment, read at scrape time from JetStream and the projections'
// stored status. Served by one process (the one running the `projections` role), so a
// Prometheus sum over processes does not count them twice.

export interface DeploymentSources {
  readonly nc: NatsConnection;
  readonly prefix: string;
  readonly projections: () => Promise<readonly ProjectionStatus[]>;
}

export function registerDeploymentMetrics(registry: Registry, { nc, prefix, projections }: DeploymentSources): void {
  registry.registerMetric(
    scrapedMetric('orch_queue_depth', 'Tasks waiting in the work queue to be taken, by pool and priority.', 'gauge', async () =>
      (await workQueueFigures(nc, prefix).catch(() => [])).map((f) => ({ value: f.waiting, labels: { pool: f.pool, priority: f.priority } })),
    ),
  );
  registry.registerMetric(
    scrapedMetric(
      'orch_worker_slots',
      'Worker slots by pool and state: busy (holding a task), idle (live and free); live workers answer a roll call.',
      'gauge',
      async () => {
        const [figures, live] = await Promise.all([workQueueFigures(nc, prefix).catch(() => []), liveWorkers(nc, prefix)]);
        const busy = new Map<string, number>();
        for (const f of figures) busy.set(f.pool, (busy.get(f.pool) ?? 0) + f.running);
        const pools = new Set([...busy.keys(), ...live.keys()]);
        return [...pools].flatMap((pool) => {
          const taken = busy.get(pool) ?? 0;
          return [
            { value: taken, labels: { pool, state: 'busy' } },
            { value: Math.max(0, (live.get(pool)?.workers ?? 0) - taken), labels: { pool, state: 'idle' } },
          ];
        });
      },
    ),
  );
  const lag = (name: string, help: string, of: (s: ProjectionStatus) => number | undefined) =>
    registry.registerMetric(
      scrapedMetric(name, help, 'gauge', async () =>
        (await projections().catch(() => [])).flatMap((s) => {
          const value = of(s);
          return value === undefined ? [] : [{ value, labels: { projection: s.name } }];
        }),
      ),
    );
  lag('orch_projection_lag_events', 'Events in the log the projection has not applied yet (capped at 100000).', (s) => s.serving?.lagEvents);
  lag('orch_projection_lag_seconds', 'Age of the oldest event the projection has not applied; 0 when caught up.', (s) => s.serving?.lagSeconds);
}

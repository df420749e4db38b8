import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { KvReadModelStorage } from '../../adapters/nats/kv-read-model-storage.ts';
import type { EventStore } from '../../domain/ports/event-store.ts';
import { readModels } from '../../projections/models/index.ts';
import { QueryClient } from '../../projections/runtime/query-client.ts';
import { projectionStatus, type ProjectionStatus } from '../../projections/runtime/projection-status.ts';
import type { Config } from '../config/schema.ts';
import { HealthChecker } from '../health/health-checker.ts';
import { HealthStore } from '../health/health-store.ts';
import { answerWorkerPresence } from '../health/worker-presence.ts';
import { registerDeploymentMetrics } from '../metrics/deployment-metrics.ts';
import { ProcessMetrics } from '../metrics/process-metrics.ts';
import { registerReadModelMetrics } from '../metrics/read-model-metrics.ts';
import { workerCount } from '../pools.ts';
import type { Role } from '../roles.ts';
import { systemClock } from '../system-clock.ts';
import { startOpsServer, type HttpRoutes } from './ops-server.ts';
import { eventStoreProbe, natsProbe, projectionsProbe, ReadinessCheck } from './readiness.ts';

// What every process serves for operations, started before its roles: the HTTP server on PORT
// (/healthz, /readyz, /metrics, and Slack's endpoint when the slack role runs here), its
// process metrics, and the roll-call answers of its workers. The process running the
// `projections` role (one per deployment) also serves the deployment-wide metrics (read-model
// totals, queues, worker slots, projection lag) and runs the health checks, so those are
// neither counted twice by Prometheus nor checked by every process.

export interface OpsContext {
  readonly config: Config;
  readonly nc: NatsConnection;
  readonly store: EventStore;
  readonly logger: Logger;
}

export interface OpsEndpoints {
  readonly metrics: ProcessMetrics;
  /** Undefined when the port could not be bound and nothing here needs it (see below). */
  readonly http: HttpRoutes | undefined;
  stop(): Promise<void>;
}

/** Status reads count events in the log; scrapes and probes within this window share one. */
const STATUS_REUSE_MS = 2_000;

export async function startOpsEndpoints(context: OpsContext, roles: readonly Role[]): Promise<OpsEndpoints> {
  const { config, nc, store } = context;
  const logger = context.logger.child({ component: 'ops-http' });
  const metrics = new ProcessMetrics();
  const servesDeployment = roles.includes('projections');
  const stops: (() => Promise<unknown>)[] = [];

  const probes = [natsProbe(nc), eventStoreProbe(store)];
  let projections: () => Promise<readonly ProjectionStatus[]> = async () => [];
  if (servesDeployment) {
    const storage = await KvReadModelStorage.connect(nc, config.prefix, { replicas: config.nats.replicas });
    projections = reused(() => projectionStatus(readModels, storage, store, systemClock.now()), STATUS_REUSE_MS);
    probes.push(projectionsProbe(projections));
    const queries = new QueryClient(nc, config.prefix, 2_000);
    registerReadModelMetrics(metrics.registry, {
      async docs(model, keys) {
        const answer = await queries.ask(model, { keys: [...keys] });
        if (answer.status === 'ok' && 'docs' in answer) return answer.docs;
        throw new Error(answer.status === 'error' ? answer.message : `${model}: unexpected answer`);
      },
    });
    registerDeploymentMetrics(metrics.registry, { nc, prefix: config.prefix, projections });
  }
  const readiness = new ReadinessCheck(probes);

  const workerPools = roles.filter((r) => r.startsWith('workers:')).map((r) => r.slice('workers:'.length));
  if (workerPools.length > 0) {
    const stop = answerWorkerPresence(
      nc,
      config.prefix,
      workerPools.map((pool) => ({ pool, workers: workerCount(config, pool) })),
    );
    stops.push(stop);
  }

  let http: HttpRoutes | undefined;
  try {
    const server = await startOpsServer({
      port: config.http.port,
      readiness: () => readiness.check(),
      metrics: async () => ({ text: await metrics.text(), contentType: metrics.contentType }),
      logger,
    });
    http = server;
    stops.push(() => server.close());
    logger.info({ port: server.port, endpoints: ['/healthz', '/readyz', '/metrics'] }, 'ops HTTP listening');
  } catch (error) {
    // Slack over HTTP cannot run without the port; the ops endpoints alone are not worth stopping the product for.
    if (roles.includes('slack') && config.slack && !config.slack.appToken) throw new PortNotBound(config.http.port, error);
    logger.error({ err: error, port: config.http.port }, 'ops HTTP not served: PORT could not be bound (set PORT to a free port for this process)');
  }

  if (servesDeployment && config.features.monitoring) {
    const healthStore = await HealthStore.connect(nc, config.prefix, { replicas: config.nats.replicas });
    const checker = new HealthChecker({
      config,
      nc,
      store,
      projections,
      healthStore,
      intervalMs: config.monitoring.healthCheckIntervalMs,
      slackApiCalled: metrics.slackApiCalled,
      logger: context.logger.child({ component: 'health-checks' }),
    });
    checker.start();
    stops.push(() => checker.stop());
  }

  return {
    metrics,
    http,
    async stop() {
      for (const stop of stops.reverse()) await stop().catch((error: unknown) => logger.warn({ err: error }, 'ops endpoints did not stop cleanly'));
    },
  };
}

/** One answer shared by callers within `ms`, so frequent probes do not each recount the log. */
function reused<T>(read: () => Promise<T>, ms: number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= ms) {
      const value = read();
      last = { at: now, value };
      value.catch(() => {
        if (last?.value === value) last = undefined;
      });
    }
    return last.value;
  };
}

/** Slack over HTTP needs PORT, and it could not be bound (another process holds it). */
export class PortNotBound extends Error {
  override readonly name = 'PortNotBound';
  constructor(
    readonly port: number,
    cause: unknown,
  ) {
    super(
      `PORT ${port} could not be bound (${cause instanceof Error ? cause.message : String(cause)}); Slack's endpoint needs it: give each process on this host its own PORT`,
      { cause },
    );
  }
}

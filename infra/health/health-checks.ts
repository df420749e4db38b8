import Anthropic from '@anthropic-ai/sdk';
import { WebClient } from '@slack/web-api';
import type { NatsConnection } from 'nats';
import type { EventStore } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import type { ProjectionStatus } from '../../projections/runtime/projection-status.ts';
import type { Config } from '../config/schema.ts';
import { workQueueFigures } from '../metrics/work-queue-figures.ts';
import { projectionProblem } from '../http/readiness.ts';
import { POOLS, workerCount } from '../pools.ts';
import type { HealthCheck } from './health-report.ts';
import { liveWorkers } from './worker-presence.ts';

// The checks of MO2, each one a named result with a readable detail. A check that throws or
// outlives its deadline is failing with the reason; none of them ever throws to the caller.

export interface HealthCheckSources {
  readonly config: Config;
  readonly nc: NatsConnection;
  readonly store: EventStore;
  readonly projections: () => Promise<readonly ProjectionStatus[]>;
  /** Counts the checker's own Slack calls in `orch_slack_api_calls_total`. */
  readonly slackApiCalled?: (method: string, outcome: 'ok' | 'error') => void;
  readonly now?: () => number;
}

const CHECK_DEADLINE_MS = 5_000;

type Verdict = { status: HealthCheck['status']; detail: string };

async function timed(name: string, check: () => Promise<Verdict | Verdict[]>, names?: (v: Verdict[]) => string[]): Promise<HealthCheck[]> {
  const started = performance.now();
  let verdicts: Verdict[];
  try {
    const result = await Promise.race([
      check(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${CHECK_DEADLINE_MS} ms`)), CHECK_DEADLINE_MS).unref()),
    ]);
    verdicts = Array.isArray(result) ? result : [result];
  } catch (error) {
    verdicts = [{ status: 'failing', detail: (error as Error).message }];
  }
  const ms = Math.round(performance.now() - started);
  const labels = names?.(verdicts) ?? verdicts.map(() => name);
  return verdicts.map((v, i) => ({ name: labels[i] ?? name, ...v, ms }));
}

const ok = (detail: string): Verdict => ({ status: 'ok', detail });
const failing = (detail: string): Verdict => ({ status: 'failing', detail });
const skipped = (detail: string): Verdict => ({ status: 'skipped', detail });

export async function runHealthChecks(sources: HealthCheckSources): Promise<HealthCheck[]> {
  const { config, nc, store } = sources;
  const now = sources.now ?? Date.now;
  const results = await Promise.all([
    timed('nats', async () => ok(`round trip ${(await nc.rtt()).toFixed(1)} ms`)),
    timed('event-store', async () => {
      await store.read(streamName('health', 'probe'), { maxCount: 1 });
      return ok(config.eventStore.kind === 'jetstream' ? 'JetStream answers reads' : 'EventStoreDB answers reads');
    }),
    timed('slack', () => slackCheck(config, sources.slackApiCalled)),
    timed('anthropic', () => anthropicCheck(config)),
    workersChecks(sources),
    projectionChecks(sources.projections, now),
    queueChecks(sources),
  ]);
  return results.flat();
}

async function slackCheck(config: Config, counted?: (method: string, outcome: 'ok' | 'error') => void): Promise<Verdict> {
  if (!config.slack) return skipped('Slack is not configured');
  // No retries: a check reports what it sees now, and the next one is a minute away.
  const client = new WebClient(config.slack.botToken, { slackApiUrl: config.slack.apiUrl, retryConfig: { retries: 0 }, timeout: CHECK_DEADLINE_MS });
  try {
    const answer = await client.auth.test();
    counted?.('auth.test', 'ok');
    return ok(`auth.test ok as ${String(answer.user ?? '?')} in ${String(answer.team ?? '?')}`);
  } catch (error) {
    counted?.('auth.test', 'error');
    return failing(`auth.test failed: ${(error as Error).message}`);
  }
}

async function anthropicCheck(config: Config): Promise<Verdict> {
  if (!config.anthropic.apiKey) return skipped('no ANTHROPIC_API_KEY: the offline planner plans');
  // Listing one model is free and proves the key and the network path.
  const client = new Anthropic({ apiKey: config.anthropic.apiKey, baseURL: config.anthropic.baseUrl, maxRetries: 0, timeout: CHECK_DEADLINE_MS });
  try {
    await client.models.list({ limit: 1 });
    return ok('the API answers and takes the key');
  } catch (error) {
    const status = (error as { status?: number }).status;
    return failing(
      status === 401 || status === 403 ? `the API refuses the key (HTTP ${status})` : `the API did not answer as expected: ${(error as Error).message}`,
    );
  }
}

/** One check per pool this deployment knows: live workers from the roll call. */
function workersChecks({ config, nc }: HealthCheckSources): Promise<HealthCheck[]> {
  let found: Map<string, { workers: number; processes: number }> | undefined;
  return timed(
    'workers',
    async () => {
      found = await liveWorkers(nc, config.prefix);
      return POOLS.map((pool) => {
        const live = found?.get(pool);
        if (live && live.workers > 0) return ok(`${live.workers} live worker(s) in ${live.processes} process(es)`);
        if (workerCount(config, pool) === 0) return skipped('no workers configured for this pool');
        return failing('no live workers: tasks of this pool wait until one starts');
      });
    },
    (verdicts) => (verdicts.length === POOLS.length ? POOLS.map((pool) => `workers:${pool}`) : verdicts.map(() => 'workers')),
  );
}

function projectionChecks(statuses: () => Promise<readonly ProjectionStatus[]>, now: () => number): Promise<HealthCheck[]> {
  let names: string[] = [];
  return timed(
    'projections',
    async () => {
      const all = await statuses();
      names = all.map((s) => `projection:${s.name}`);
      return all.map((s) => {
        const { ok: fine, problem } = projectionProblem(s, now());
        const lag = s.serving ? `lag ${s.serving.lagEvents} events / ${s.serving.lagSeconds.toFixed(1)} s` : '';
        return fine ? ok(lag) : failing([problem, lag].filter(Boolean).join('; '));
      });
    },
    (verdicts) => (verdicts.length === names.length ? names : verdicts.map(() => 'projections')),
  );
}

/** Waiting tasks per pool against ALERT_THRESHOLD_QUEUE_SIZE. */
function queueChecks({ config, nc }: HealthCheckSources): Promise<HealthCheck[]> {
  let pools: string[] = [];
  return timed(
    'queues',
    async () => {
      const waiting = new Map<string, number>();
      for (const f of await workQueueFigures(nc, config.prefix)) waiting.set(f.pool, (waiting.get(f.pool) ?? 0) + f.waiting);
      pools = [...waiting.keys()].sort();
      const limit = config.monitoring.queueSizeThreshold;
      return pools.map((pool) => {
        const n = waiting.get(pool) ?? 0;
        return n > limit ? failing(`${n} tasks waiting (more than ALERT_THRESHOLD_QUEUE_SIZE ${limit})`) : ok(`${n} tasks waiting`);
      });
    },
    (verdicts) => (verdicts.length === pools.length ? pools.map((pool) => `queue:${pool}`) : verdicts.map(() => 'queues')),
  );
}

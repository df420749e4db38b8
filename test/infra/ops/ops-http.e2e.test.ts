import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../../actors/runtime/command-client.ts';
import { connectNats } from '../../../infra/nats/connect-nats.ts';
import { freePort, startNatsBroker, type NatsBroker } from '../../support/nats-broker.ts';
import { startRoleProcess, type RoleProcess } from '../../support/role-process.ts';
import { waitFor } from '../../support/waiting.ts';

// The ops HTTP server of a role process (issue 14, deliverables 1–3) against a real nats-server:
// tasks that succeed and fail show in /metrics with the right values, the totals survive a
// kill -9 of the process, /readyz turns 503 while nats-server is down and 200 when it is back,
// and `orch health` answers with exit codes and --json.

const root = path.resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);
const ROLES = ['aggregates', 'dispatcher', 'workflow-engine', 'projections', 'reactors', 'workers:local-ops'];

/** The value of one sample line of a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('ops HTTP: /healthz, /readyz, /metrics and orch health', () => {
  let broker: NatsBroker;
  let nc: NatsConnection;
  let dir: string;
  let port: number;
  let roles: RoleProcess | undefined;
  const env = () => ({
    NATS_URL: broker.url,
    DATA_DIR: path.join(dir, 'data'),
    WORKSPACE_ROOT: path.join(dir, 'workspace'),
    PORT: String(port),
    HEALTH_CHECK_INTERVAL: '1000',
    LOCAL_WORKER_COUNT: '1',
    WORKER_COUNT: '0',
    CLAUDE_WORKER_COUNT: '0',
  });
  const get = async (p: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${p}`);
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  };
  const orch = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(root, 'bin/orch.mjs'), ...args], {
        cwd: root,
        env: { PATH: process.env.PATH, ...env() },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    broker = await startNatsBroker();
    dir = await mkdtemp(path.join(tmpdir(), 'orch-ops-http-'));
    await mkdir(path.join(dir, 'workspace', 'small-repo'), { recursive: true });
    await writeFile(path.join(dir, 'workspace', 'small-repo', 'a.ts'), 'one\ntwo\nthree\n');
    port = await freePort();
    nc = await connectNats(broker.url);
    roles = await startRoleProcess(ROLES, env(), 60_000);
  }, 90_000);

  afterAll(async () => {
    if (roles?.child.exitCode === null && roles.child.signalCode === null) await roles.stop();
    await nc?.close().catch(() => undefined);
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /healthz at once and /readyz once NATS, the store and every projection are caught up', async () => {
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok' });
    const ready = await waitFor(
      'ready',
      async () => {
        const r = await get('/readyz');
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const body = JSON.parse(ready.text) as { ready: boolean; checks: { name: string; ok: boolean }[] };
    expect(body.ready).toBe(true);
    expect(body.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['nats', 'event-store', 'projection:metrics-totals', 'projection:task-stats']));
    expect((await get('/nothing-here')).status).toBe(404);
  }, 40_000);

  it('counts tasks that succeed and fail in /metrics, and keeps the totals across a kill -9 of the process', async () => {
    const commands = new CommandClient(nc);
    const queue = async (taskId: string, repository: string) => {
      const reply = await commands.forward(
        { category: 'task', id: taskId },
        {
          commandId: `queue-${taskId}`,
          type: 'QueueTask',
          actor: 'test',
          data: { taskType: 'count-lines', pool: 'local-ops', payload: { repository }, timeoutMs: 60_000, maxAttempts: 1, requestedBy: 'test' },
        },
      );
      expect(reply.status).toBe('accepted');
    };
    await queue('metrics-ok-1', 'small-repo');
    await queue('metrics-ok-2', 'small-repo');
    await queue('metrics-bad-1', 'no-such-repo');

    const labels = (outcome: string) => ({ type: 'count-lines', pool: 'local-ops', outcome });
    const scraped = await waitFor(
      'the three tasks in /metrics',
      async () => {
        const m = await get('/metrics');
        return sample(m.text, 'orch_tasks_total', labels('completed')) === 2 && sample(m.text, 'orch_tasks_total', labels('failed')) === 1 ? m : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 500 },
    );
    expect(scraped.type).toContain('text/plain');
    const text = scraped.text;
    const typePool = { type: 'count-lines', pool: 'local-ops' };
    // Every task was taken once: three queue waits; three runs timed (completed ones by the worker's own figure).
    expect(sample(text, 'orch_task_queue_wait_seconds_count', typePool)).toBe(3);
    expect(sample(text, 'orch_task_queue_wait_seconds_bucket', { ...typePool, le: '+Inf' })).toBe(3);
    expect(sample(text, 'orch_task_duration_seconds_count', typePool)).toBe(3);
    expect(sample(text, 'orch_task_duration_seconds_bucket', { ...typePool, le: '3600' })).toBe(3);
    expect(sample(text, 'orch_metrics_totals_available')).toBe(1);
    expect(sample(text, 'orch_commands_total', { category: 'task', outcome: 'accepted' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'orch_command_duration_seconds_count', { category: 'task' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'orch_queue_depth', { pool: 'local-ops', priority: 'normal' })).toBe(0);
    expect(sample(text, 'orch_projection_lag_events', { projection: 'metrics-totals' })).toBeDefined();
    expect(sample(text, 'orch_approvals_pending')).toBe(0);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(text).toContain('# TYPE orch_alerts_total counter');

    // kill -9 and start again on the same broker and data: the totals come back from the read model.
    const first = roles!;
    first.child.kill('SIGKILL');
    await new Promise<void>((resolve) =>
      first.child.exitCode !== null || first.child.signalCode !== null ? resolve() : first.child.once('exit', () => resolve()),
    );
    roles = await startRoleProcess(ROLES, env(), 60_000);
    const after = await waitFor(
      'the totals after the restart',
      async () => {
        const m = await get('/metrics').catch(() => undefined);
        return m && sample(m.text, 'orch_metrics_totals_available') === 1 ? m.text : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(sample(after, 'orch_tasks_total', labels('completed'))).toBe(2);
    expect(sample(after, 'orch_tasks_total', labels('failed'))).toBe(1);
    expect(sample(after, 'orch_task_duration_seconds_count', typePool)).toBe(3);
  }, 120_000);

  it('orch health: a table and exit 0 while healthy, --json, exit 1 when a pool has no live workers', async () => {
    const table = await waitFor(
      'a healthy round',
      async () => {
        const r = await orch('health');
        return r.code === 0 ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
    expect(table.stdout).toMatch(/^healthy: checked at /);
    expect(table.stdout).toMatch(/workers:local-ops\s+ok\s+\d+\s+1 live worker\(s\) in 1 process\(es\)/);
    expect(table.stdout).toMatch(/slack\s+skipped/);

    const json = await orch('health', '--json');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { healthy: boolean; stale: boolean; checks: { name: string; status: string }[] };
    expect(report).toMatchObject({ healthy: true, stale: false });
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(['nats', 'event-store', 'slack', 'anthropic', 'workers:local-ops', 'projection:metrics-totals', 'queue:local-ops']),
    );

    await roles!.stop();
    const now = await orch('health', '--now', '--json');
    expect(now.code).toBe(1);
    const down = JSON.parse(now.stdout) as { healthy: boolean; checks: { name: string; status: string; detail: string }[] };
    expect(down.healthy).toBe(false);
    expect(down.checks.find((c) => c.name === 'workers:local-ops')).toMatchObject({ status: 'failing' });

    const help = await orch('health', '--help');
    expect(help.stdout).toContain('--json');
    roles = await startRoleProcess(ROLES, env(), 60_000);
  }, 90_000);

  it('/readyz is 503 naming NATS while nats-server is down, and 200 once it is back', async () => {
    await waitFor('ready first', async () => (await get('/readyz')).status === 200, { timeoutMs: 30_000 });
    await broker.kill9();
    const down = await waitFor(
      '503',
      async () => {
        const r = await get('/readyz');
        return r.status === 503 ? r : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    const body = JSON.parse(down.text) as { ready: boolean; notReady: { name: string; problem: string }[] };
    expect(body.ready).toBe(false);
    expect(body.notReady.map((c) => c.name)).toContain('nats');
    expect((await get('/healthz')).status).toBe(200);
    await broker.restart();
    await waitFor('200 again', async () => (await get('/readyz')).status === 200, { timeoutMs: 40_000, intervalMs: 500 });
  }, 90_000);
});

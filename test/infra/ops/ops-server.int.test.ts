import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpsServer, type OpsServer } from '../../../infra/http/ops-server.ts';
import { projectionProblem, ReadinessCheck } from '../../../infra/http/readiness.ts';
import { ProcessMetrics } from '../../../infra/metrics/process-metrics.ts';
import type { ProjectionStatus } from '../../../projections/runtime/projection-status.ts';

// The ops HTTP server on a real loopback port: its three endpoints, a mounted route beside
// them (how Slack's /slack/events is served), and named answers for everything else.

describe('ops HTTP server', () => {
  let server: OpsServer;
  let natsUp = true;
  const metrics = new ProcessMetrics();
  const readiness = new ReadinessCheck([
    async () => [{ name: 'nats', ok: natsUp, ...(natsUp ? {} : { problem: 'the connection is closed' }) }],
    async () => [{ name: 'event-store', ok: true }],
  ]);
  const url = (p: string) => `http://127.0.0.1:${server.port}${p}`;

  beforeAll(async () => {
    server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      readiness: () => readiness.check(),
      metrics: async () => ({ text: await metrics.text(), contentType: metrics.contentType }),
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('/healthz 200, /readyz 200 or 503 with what is not ready, /metrics in Prometheus text', async () => {
    expect((await fetch(url('/healthz'))).status).toBe(200);
    const ready = await fetch(url('/readyz'));
    expect(ready.status).toBe(200);
    natsUp = false;
    await new Promise((r) => setTimeout(r, 1_050)); // readiness is probed at most once a second
    const notReady = await fetch(url('/readyz'));
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ ready: false, notReady: [{ name: 'nats', ok: false, problem: 'the connection is closed' }] });
    natsUp = true;

    metrics.commandHandled('task', 'accepted', 0.003);
    metrics.commandHandled('task', 'rejected', 0.002);
    const scraped = await fetch(url('/metrics'));
    expect(scraped.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await scraped.text();
    expect(text).toContain('orch_commands_total{category="task",outcome="accepted"} 1');
    expect(text).toContain('orch_command_duration_seconds_bucket{le="0.005",category="task"} 2');
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
  });

  it('serves a mounted route beside them, and answers other paths and methods by name', async () => {
    const unmount = server.route('/slack/events', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('bolt');
    });
    expect(await (await fetch(url('/slack/events'), { method: 'POST', body: '{}' })).text()).toBe('bolt');
    expect(() => server.route('/metrics', () => undefined)).toThrow(/already served/);
    unmount();
    const gone = await fetch(url('/slack/events'), { method: 'POST' });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: 'NotFound' });
    const post = await fetch(url('/metrics'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('a projection counts as caught up when live, reporting and not behind', () => {
  const now = Date.parse('2026-12-07T12:00:00.000Z');
  const status = (serving: Partial<NonNullable<ProjectionStatus['serving']>> | undefined): ProjectionStatus => ({
    name: 'task-stats',
    description: '',
    codeVersion: 1,
    ...(serving
      ? {
          serving: {
            version: 1,
            generation: 1,
            state: 'live',
            eventsApplied: 10,
            lagEvents: 0,
            lagSeconds: 0,
            rate: 0,
            reportedAt: new Date(now - 1_000).toISOString(),
            ...serving,
          },
        }
      : {}),
  });
  it.each([
    [undefined, false, 'never started'],
    [{}, true, undefined],
    [{ state: 'catching-up' as const }, false, 'catching-up'],
    [{ reportedAt: new Date(now - 60_000).toISOString() }, false, 'no progress report for 60 s'],
    [{ lagEvents: 500, lagSeconds: 45 }, false, '500 events behind (45.0 s)'],
  ])('%o → ready %s', (serving, ok, problem) => {
    expect(projectionProblem(status(serving), now)).toEqual({ ok, ...(problem ? { problem } : {}) });
  });
});

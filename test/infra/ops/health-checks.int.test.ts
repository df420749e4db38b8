import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../../adapters/jetstream/jetstream-event-store.ts';
import { configSchema } from '../../../infra/config/schema.ts';
import { runHealthChecks } from '../../../infra/health/health-checks.ts';
import { reportOf } from '../../../infra/health/health-report.ts';
import { answerWorkerPresence } from '../../../infra/health/worker-presence.ts';
import { connectNats } from '../../../infra/nats/connect-nats.ts';
import { startTestNatsServer, type TestNatsServer } from '../../support/nats.ts';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from '../../support/slack-web-api-standin.ts';

// The health checks against real services: a nats-server with JetStream, the Slack Web API
// stand-in (auth.test), and a local HTTP stand-in for Anthropic's `GET /v1/models` (the shared
// Anthropic stand-in serves only the Messages API).

const KEY = 'sk-ant-health-check';

describe('health checks', () => {
  let nats: TestNatsServer;
  let nc: NatsConnection;
  let slack: SlackWebApiStandIn;
  let anthropic: Server;
  let anthropicUrl: string;
  const modelsCalls: { path: string; key: string | undefined }[] = [];

  beforeAll(async () => {
    nats = await startTestNatsServer();
    nc = await connectNats(nats.url);
    slack = await startSlackWebApiStandIn();
    anthropic = createServer((req, res) => {
      // The API takes the key in x-api-key; the installed SDK sends it as a bearer token.
      const header = req.headers['x-api-key'];
      const key = typeof header === 'string' ? header : /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      modelsCalls.push({ path: req.url ?? '', key });
      const ok = req.method === 'GET' && (req.url ?? '').startsWith('/v1/models');
      const status = !ok ? 404 : key === KEY ? 200 : 401;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          status === 200
            ? {
                data: [{ type: 'model', id: 'claude-sonnet-4-5', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' }],
                has_more: false,
                first_id: 'claude-sonnet-4-5',
                last_id: 'claude-sonnet-4-5',
              }
            : { type: 'error', error: { type: status === 401 ? 'authentication_error' : 'not_found_error', message: 'no' } },
        ),
      );
    });
    await new Promise<void>((resolve) => anthropic.listen(0, '127.0.0.1', resolve));
    anthropicUrl = `http://127.0.0.1:${(anthropic.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await nc?.close();
    await slack?.stop();
    await new Promise((resolve) => anthropic?.close(resolve));
    await nats?.dispose();
  });

  const configWith = (env: Record<string, string>) =>
    configSchema.parse({ NATS_URL: nats.url, LOCAL_WORKER_COUNT: '2', WORKER_COUNT: '0', CLAUDE_WORKER_COUNT: '1', ALERT_THRESHOLD_QUEUE_SIZE: '5', ...env });

  it('all fine: Slack auth.test, the Anthropic key, live workers; a configured pool without workers fails', async () => {
    const store = await JetStreamEventStore.connect(nc);
    const stopAnswering = answerWorkerPresence(nc, 'orch', [{ pool: 'local-ops', workers: 2 }]);
    await nc.flush();
    const slackCalls: string[] = [];
    const config = configWith({
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: slack.apiUrl,
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_BASE_URL: anthropicUrl,
    });
    const checks = await runHealthChecks({
      config,
      nc,
      store,
      projections: async () => [],
      slackApiCalled: (method, outcome) => slackCalls.push(`${method}:${outcome}`),
    });
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName.nats!.status).toBe('ok');
    expect(byName['event-store']!.status).toBe('ok');
    expect(byName.slack).toMatchObject({ status: 'ok' });
    expect(byName.slack!.detail).toContain('auth.test ok');
    expect(slackCalls).toEqual(['auth.test:ok']);
    expect(byName.anthropic).toMatchObject({ status: 'ok' });
    expect(modelsCalls.at(-1)).toMatchObject({ key: KEY });
    expect(byName['workers:local-ops']).toMatchObject({ status: 'ok', detail: '2 live worker(s) in 1 process(es)' });
    expect(byName['workers:salesforce']).toMatchObject({ status: 'skipped' });
    expect(byName['workers:claude']).toMatchObject({ status: 'failing' });
    expect(reportOf(checks, new Date().toISOString(), 60_000).healthy).toBe(false);
    await stopAnswering();
    await store.close();
  });

  it('a refused Slack token and a refused Anthropic key fail with the reason; unconfigured ones are skipped', async () => {
    const store = await JetStreamEventStore.connect(nc);
    const refused = configWith({
      SLACK_BOT_TOKEN: 'xoxb-wrong',
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: slack.apiUrl,
      ANTHROPIC_API_KEY: 'sk-ant-wrong',
      ANTHROPIC_BASE_URL: anthropicUrl,
    });
    const checks = await runHealthChecks({ config: refused, nc, store, projections: async () => [] });
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName.slack).toMatchObject({ status: 'failing' });
    expect(byName.slack!.detail).toContain('invalid_auth');
    expect(byName.anthropic).toMatchObject({ status: 'failing', detail: 'the API refuses the key (HTTP 401)' });
    // Secrets never appear in what is stored and printed.
    expect(JSON.stringify(checks)).not.toContain('sk-ant-wrong');
    expect(JSON.stringify(checks)).not.toContain('xoxb-wrong');

    const bare = await runHealthChecks({ config: configWith({}), nc, store, projections: async () => [] });
    expect(bare.find((c) => c.name === 'slack')).toMatchObject({ status: 'skipped' });
    expect(bare.find((c) => c.name === 'anthropic')).toMatchObject({ status: 'skipped' });
    await store.close();
  });
});

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { publicEventNames } from '../../adapters/jetstream/public-event-stream.ts';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { connectToProduct } from '../../infra/cli/connect.ts';
import { loadConfig } from '../../infra/config/load-config.ts';
import { appMention, eventCallback, slackRequestSender, type SlackRequestSender } from '../support/slack-signed-requests.ts';
import { markerOf, textOf } from '../support/slack-standin-messages.ts';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { standInWorkspace as ws } from '../support/slack-workspace.ts';
import { freePort, waitFor } from '../support/waiting.ts';

// SE4, the planted-secret test: the product as a user runs it (`infra/main.ts`, its own
// nats-server, Slack through the Web API stand-in, a webhook reply target) runs two tasks whose
// executables print every credential shape and the product's own configured secrets: a
// repository test command that echoes them to stdout and stderr and exits 1, and `sf` (the
// stand-in) failing with an access token and the rest in its error. Afterwards each planted
// value is looked for, as raw bytes, in the log, every file of the JetStream store, every KV
// bucket, the public events, the webhook bodies and the Slack posts: 0 occurrences, while the
// same sinks did receive the failure around it.

const root = path.resolve(import.meta.dirname, '../..');
const SF_STANDIN = path.join(root, 'test/support/sf-standin.mjs');
/** LEAKED_ACCESS_TOKEN of sf-standin.mjs, printed with SF_STANDIN_LEAK_TOKEN=1. */
const SF_LEAKED_TOKEN = '00D5g000004LEAKAB!AQ0AQPlantedAccessTokenFromTheSfStandIn.x9Yq2Zr7';

/** Configured secrets of the product, printed by the executables too. */
const CONFIGURED = {
  slackBotToken: 'xoxb-5550001111-5550002222-PlantedBotTokenAbCdEf',
  slackSigningSecret: ws.signingSecret,
  webhookSecret: 'whsec-planted-7c1d9e4f2a6b',
  anthropicKey: 'sk-ant-api03-PlantedAnthropicKey0123456789abcdef',
  /** In the product's environment, so it reaches `sf`. */
  sfAccessToken: '00D5g000004ENVAB!AQ0AQPlantedEnvAccessToken.Zx81Kq',
};

/** Each shape: the line printed, and the part that must be found nowhere. */
const SHAPES: readonly { line: string; secret: string }[] = [
  { line: `salesforce ${SF_LEAKED_TOKEN}`, secret: SF_LEAKED_TOKEN.slice(3) },
  { line: 'slack user xoxp-4440001111-4440002222-PlantedUserTokenQwErTy', secret: 'PlantedUserTokenQwErTy' },
  { line: 'slack app xapp-1-A0PLANTED1-4440003333-plantedapptoken0123456789', secret: 'plantedapptoken0123456789' },
  { line: `github ghp_${'Pl4nt3dGh0'.repeat(3)}ABCDEF`, secret: `${'Pl4nt3dGh0'.repeat(3)}ABCDEF` },
  { line: 'github github_pat_11PLANTED0123456789_plantedfinegrainedtoken', secret: 'plantedfinegrainedtoken' },
  { line: 'aws AKIAPLANTEDKEY12345X', secret: 'AKIAPLANTEDKEY12345X' },
  { line: 'aws_secret_access_key=Pl4nt3dAwsSecretAccessKey/0123456789+abcd', secret: 'Pl4nt3dAwsSecretAccessKey/0123456789+abcd' },
  { line: 'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.PlantedJwtSignature_0123456789', secret: 'eyJzdWIiOiJwbGFudGVkIn0' },
  { line: 'Authorization: Bearer PlantedBearerValue0123456789abcdef', secret: 'PlantedBearerValue0123456789abcdef' },
  { line: 'clone https://deployer:Pl4ntedUrlPassw0rd@git.example.com/repo.git', secret: 'Pl4ntedUrlPassw0rd' },
  { line: 'Cookie: sid=PlantedSessionCookieValue42; path=/', secret: 'PlantedSessionCookieValue42' },
  {
    line: '-----BEGIN RSA PRIVATE KEY-----\nMIIEPlantedPrivateKeyBodyLine1AAAAB3NzaC1yc2E\n-----END RSA PRIVATE KEY-----',
    secret: 'MIIEPlantedPrivateKeyBodyLine1AAAAB3NzaC1yc2E',
  },
];

const PLANTED: readonly string[] = [...Object.values(CONFIGURED), ...SHAPES.map((s) => s.secret)];
const LEAK_TEXT = [`configured ${Object.values(CONFIGURED).join(' ')}`, ...SHAPES.map((s) => s.line)].join('\n');

let slack: SlackWebApiStandIn;
let receiver: Server;
let receiverUrl: string;
const webhookBodies: string[] = [];
let workspace: string;
let dataDir: string;
let product: ChildProcess;
let productExited: Promise<void>;
let output = '';
let sender: SlackRequestSender;
let nc: NatsConnection;
let store: EventStore;

async function makeRepositories(): Promise<void> {
  const leaky = path.join(workspace, 'leaky');
  await mkdir(leaky, { recursive: true });
  await writeFile(path.join(workspace, 'leak.txt'), `${LEAK_TEXT}\n`);
  await writeFile(
    path.join(leaky, 'leak.sh'),
    `cat ${path.join(workspace, 'leak.txt')}\ncat ${path.join(workspace, 'leak.txt')} >&2\necho "args: $*"\nexit 1\n`,
  );
  // Two secrets in the command line as well: they show in the task's progress details.
  await writeFile(
    path.join(leaky, '.orchestrator.json'),
    JSON.stringify({ testCommand: ['sh', 'leak.sh', CONFIGURED.webhookSecret, 'xoxp-4440001111-4440002222-PlantedUserTokenQwErTy'] }),
  );
  const git = (...args: string[]) => execFileSync('git', args, { cwd: leaky, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
  const sfproj = path.join(workspace, 'sfproj');
  await mkdir(path.join(sfproj, 'force-app'), { recursive: true });
  await writeFile(path.join(sfproj, 'sfdx-project.json'), JSON.stringify({ packageDirectories: [{ path: 'force-app', default: true }] }));
}

function startProduct(env: NodeJS.ProcessEnv): void {
  product = spawn(process.execPath, ['--import', 'tsx', 'infra/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  product.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  product.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  productExited = new Promise((resolve) => product.once('exit', () => resolve()));
}

beforeAll(async () => {
  slack = await startSlackWebApiStandIn({ token: CONFIGURED.slackBotToken });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      webhookBodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/orch`;
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-planted-'));
  dataDir = path.join(workspace, '.data');
  await makeRepositories();
  const port = await freePort();
  startProduct({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    WORKSPACE_ROOT: workspace,
    LOG_LEVEL: 'debug',
    PORT: String(port),
    SLACK_BOT_TOKEN: CONFIGURED.slackBotToken,
    SLACK_SIGNING_SECRET: CONFIGURED.slackSigningSecret,
    SLACK_API_URL: slack.apiUrl,
    WEBHOOK_SIGNING_SECRET: CONFIGURED.webhookSecret,
    WEBHOOK_MAX_ATTEMPTS: '1',
    ANTHROPIC_API_KEY: CONFIGURED.anthropicKey,
    // Never called here (single-task requests are not planned); a closed port if it were.
    ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
    PROGRESS_UPDATE_INTERVAL: '150',
    SF_BIN: SF_STANDIN,
    SF_ACCESS_TOKEN: CONFIGURED.sfAccessToken,
    SF_STANDIN_FAIL: 'expired',
    SF_STANDIN_LEAK_TOKEN: '1',
    SF_STANDIN_LEAK_FILE: path.join(workspace, 'leak.txt'),
  });
  await waitFor('the product to be ready', () => /"msg":"ready"/.test(output) || product.exitCode !== null, { timeoutMs: 90_000 });
  if (!/"msg":"ready"/.test(output)) throw new Error(`the product did not start: ${output}`);
  sender = slackRequestSender({ url: `http://127.0.0.1:${port}/slack/events`, webApi: slack });
  ({ nc, store } = await connectToProduct(loadConfig({ DATA_DIR: dataDir }, { envFile: path.join(workspace, 'no.env') })));
}, 120_000);

afterAll(async () => {
  await nc?.close().catch(() => undefined);
  if (product && product.exitCode === null && product.signalCode === null) {
    product.kill('SIGTERM');
    await productExited;
  }
  await slack?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

/** Which planted values occur in `text`, as raw bytes. */
const found = (text: string | Buffer): string[] => {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  return PLANTED.filter((secret) => bytes.includes(Buffer.from(secret)));
};

const taskEvents = async (taskId: string): Promise<RecordedEvent[]> => [...(await store.read(streamName('task', taskId))).events];

function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder).flatMap((name) => {
    const full = path.join(folder, name);
    return statSync(full).isDirectory() ? filesUnder(full) : [full];
  });
}

describe('secrets printed by executors never leave (SE4)', () => {
  let testsTaskId: string;
  let testsThread: string;
  const sfTaskId = `planted-sf-${Date.now()}`;

  it('a Slack request runs the leaking test command; its result is recorded and posted, scrubbed', async () => {
    const mention = appMention({ text: 'run the tests of leaky' });
    testsThread = mention.ts!;
    expect((await sender.postEvent(eventCallback(mention))).status).toBe(200);
    const result = await waitFor('the result post', () => slack.thread(ws.channel.id, testsThread).find((m) => markerOf(m)?.kind === 'result'), {
      timeoutMs: 60_000,
      context: () => output.slice(-3_000),
    });
    testsTaskId = markerOf(result)!.deliveryId!;
    const events = await taskEvents(testsTaskId);
    const completed = events.find((e) => e.type === 'TaskCompleted');
    expect(completed, JSON.stringify(events.map((e) => e.type))).toBeDefined();
    const recorded = JSON.stringify(completed!.data);
    // The output was recorded, with each secret behind its marker.
    for (const name of ['slack-token', 'slack-app-token', 'github-token', 'aws-access-key-id', 'jwt', 'private-key', 'url-credentials', 'salesforce-token']) {
      expect(recorded).toContain(`[redacted:${name}]`);
    }
    expect(recorded).toContain('[redacted]'); // the configured secrets
    expect(found(recorded)).toEqual([]);
    expect(textOf(result)).toMatch(/redacted/);
  });

  it('an sf task whose error carries an access token fails, and the failure reaches its webhook, scrubbed', async () => {
    const commands = new CommandClient(nc);
    const reply = await commands.send(
      { category: 'task', id: sfTaskId },
      {
        commandId: `queue-${sfTaskId}`,
        type: 'QueueTask',
        actor: ws.user.id,
        data: {
          taskType: 'sf-run-apex-tests',
          pool: 'salesforce',
          payload: { repository: 'sfproj', targetOrg: 'planted' },
          timeoutMs: 120_000,
          maxAttempts: 1,
          replyTo: { kind: 'webhook', url: receiverUrl },
          requestedBy: ws.user.id,
        },
      },
    );
    expect(reply.status, JSON.stringify(reply)).toBe('accepted');
    const failed = await waitFor('TaskFailed', async () => (await taskEvents(sfTaskId)).find((e) => e.type === 'TaskFailed'), {
      timeoutMs: 60_000,
      context: () => output.slice(-3_000),
    });
    const error = JSON.stringify(failed.data);
    expect(error).toContain('SalesforceAuthFailed');
    expect(error).toContain('[redacted:salesforce-token]');
    expect(found(error)).toEqual([]);
    const body = await waitFor('the webhook body', () => webhookBodies.find((b) => b.includes(sfTaskId)), {
      timeoutMs: 30_000,
      context: () => output.slice(-3_000),
    });
    expect(body).toContain('SalesforceAuthFailed');
    expect(body).toContain('[redacted:salesforce-token]');
  });

  it('no planted value in the webhook bodies or the Slack posts', () => {
    expect(webhookBodies.length).toBeGreaterThan(0);
    expect(found(webhookBodies.join('\n'))).toEqual([]);
    // What was posted: the arguments of every Web API call (the bot token itself rides in the Authorization header).
    const posted = slack.calls().filter((c) => c.method.startsWith('chat.') || c.method.startsWith('files.') || c.method === 'upload_url');
    expect(posted.length).toBeGreaterThan(0);
    expect(found(JSON.stringify(posted.map((c) => c.args)))).toEqual([]);
  });

  it('no planted value in the public events, which carry both failures', async () => {
    const names = publicEventNames('orch');
    const jsm = await nc.jetstreamManager();
    const outcomes = async () => {
      const consumer = await nc.jetstream().consumers.get(names.streamName);
      const messages: string[] = [];
      const total = (await jsm.streams.info(names.streamName)).state.messages;
      if (total === 0) return messages;
      for await (const m of await consumer.consume()) {
        messages.push(m.string());
        if (m.info.pending === 0) break;
      }
      return messages;
    };
    const messages = await waitFor(
      'both outcomes as public events',
      async () => {
        const all = await outcomes();
        return all.some((m) => m.includes(sfTaskId) && m.includes('"TaskFailed"')) && all.some((m) => m.includes(testsTaskId) && m.includes('"TaskCompleted"'))
          ? all
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(found(messages.join('\n'))).toEqual([]);
  });

  it('no planted value in any KV bucket', async () => {
    const jsm = await nc.jetstreamManager();
    const buckets = (await jsm.streams.names().next()).filter((name) => name.startsWith('KV_')).map((name) => name.slice(3));
    expect(buckets.length).toBeGreaterThan(0);
    const values: string[] = [];
    for (const bucket of buckets) {
      const kv = await nc.jetstream().views.kv(bucket);
      for await (const key of await kv.keys()) {
        const entry = await kv.get(key);
        if (entry) values.push(`${bucket}/${key}=${entry.string()}`);
      }
    }
    // The read models did take in the leaking task, scrubbed.
    const ofTests = values.filter((v) => v.includes(testsTaskId));
    expect(ofTests.length, values.map((v) => v.slice(0, 160)).join('\n')).toBeGreaterThan(0);
    expect(ofTests.join('\n')).toContain('[redacted');
    expect(found(values.join('\n'))).toEqual([]);
  });

  it('after it stops: no planted value in its log or in any file of the JetStream store', async () => {
    await nc.close();
    product.kill('SIGTERM');
    await productExited;
    expect(output).toMatch(/"msg":"stopped"/);
    expect(output).toMatch(/"msg":"task failed"/);
    const logFile = path.join(dataDir, 'orchestrator.log');
    expect(found(output + (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''))).toEqual([]);

    const files = filesUnder(path.join(dataDir, 'nats'));
    const blocks = files.filter((f) => f.endsWith('.blk'));
    expect(blocks.length).toBeGreaterThan(0);
    // The store holds the failures around the secrets (2.9 file store blocks are not compressed).
    expect(blocks.some((f) => readFileSync(f).includes(Buffer.from('SalesforceAuthFailed')))).toBe(true);
    const leaks = files.flatMap((file) => found(readFileSync(file)).map((secret) => `${path.relative(dataDir, file)}: ${secret}`));
    expect(leaks).toEqual([]);
  });
});

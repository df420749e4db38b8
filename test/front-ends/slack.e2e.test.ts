import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { freePort, waitFor as waitUntil } from '../support/waiting.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';
import { appMention, eventCallback, slackRequestSender, staleTimestamp, threadReply, type SlackRequestSender } from '../support/slack-signed-requests.ts';
import { markerOf, textOf } from '../support/slack-standin-messages.ts';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { standInWorkspace as ws } from '../support/slack-workspace.ts';

// The Slack front end end to end: signed requests into the product's own HTTP port, every role
// in one child process on a real nats-server, Slack's Web API played by the stand-in, and
// real git repositories in a temporary workspace.

const ROLES = ['aggregates', 'dispatcher', 'projections', 'public-events', 'reactors', 'slack', 'workers:local-ops'];
const FILES = 1_500;
const LINES_PER_FILE = 3;

let nats: TestNatsServer;
let slack: SlackWebApiStandIn;
let workspace: string;
let product: RoleProcess;
let sender: SlackRequestSender;
let nc: NatsConnection;
let store: JetStreamEventStore;
let env: NodeJS.ProcessEnv;

async function makeRepository(name: string): Promise<void> {
  const repo = path.join(workspace, name);
  await mkdir(path.join(repo, 'src'), { recursive: true });
  await mkdir(path.join(repo, 'test'), { recursive: true });
  // FILES - 2 source files of LINES_PER_FILE lines, a package.json (1 line) and one test file.
  for (let i = 0; i < FILES - 2; i++) await writeFile(path.join(repo, 'src', `m${i}.js`), `export const v${i} = ${i};\n// line two\n// line three\n`);
  await writeFile(path.join(repo, 'package.json'), JSON.stringify({ name, private: true, scripts: { test: 'node --test' } }));
  await writeFile(
    path.join(repo, 'test', 'sum.test.js'),
    "const { test } = require('node:test');\nconst assert = require('node:assert');\ntest('one', () => assert.equal(1, 1));\ntest('two', () => assert.equal(2, 2));\n",
  );
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
}

const waitFor = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> =>
  waitUntil(what, probe, { timeoutMs, context: () => product?.output().slice(-3_000) ?? '' });

const taskEvents = async (): Promise<RecordedEvent[]> => [...(await store.readAll({ category: 'task' }))];
const queuedTasks = async (): Promise<RecordedEvent[]> => (await taskEvents()).filter((e) => e.type === 'TaskQueued');
const botMessages = (threadTs: string, kind: 'progress' | 'result', taskId?: string) =>
  slack.thread(ws.channel.id, threadTs).filter((m) => markerOf(m)?.kind === kind && (taskId === undefined || markerOf(m)?.deliveryId === taskId));
const isResultPost = (args: Readonly<Record<string, unknown>>, threadTs: string): boolean =>
  (args.metadata as { event_payload?: { kind?: string } } | undefined)?.event_payload?.kind === 'result' && args.thread_ts === threadTs;

async function startProduct(): Promise<RoleProcess> {
  const started = await startRoleProcess(ROLES, env, 60_000);
  return started;
}

beforeAll(async () => {
  nats = await startTestNatsServer();
  slack = await startSlackWebApiStandIn();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-slack-e2e-'));
  await makeRepository('acme');
  const port = await freePort();
  env = {
    NATS_URL: nats.url,
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: ws.signingSecret,
    SLACK_API_URL: slack.apiUrl,
    PORT: String(port),
    WORKSPACE_ROOT: workspace,
    PROGRESS_UPDATE_INTERVAL: '150',
    DATA_DIR: path.join(workspace, '.data'),
  };
  product = await startProduct();
  sender = slackRequestSender({ url: `http://127.0.0.1:${port}/slack/events`, webApi: slack });
  nc = await connect({ servers: nats.url });
  store = await JetStreamEventStore.connect(nc);
}, 90_000);

afterAll(async () => {
  await product?.stop();
  await nc?.close();
  await slack?.stop();
  await nats?.dispose();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe('a request in Slack', () => {
  let threadTs: string;
  let analysisTask: string;

  it('"analyze repo acme": a progress message updated in place, then the analysis in the same thread', async () => {
    const mention = appMention({ text: 'analyze repo acme' });
    threadTs = mention.ts!;
    const response = await sender.postEvent(eventCallback(mention));
    expect(response.status).toBe(200);

    const [result] = await waitFor('the result reply', () => (botMessages(threadTs, 'result').length > 0 ? botMessages(threadTs, 'result') : undefined));
    analysisTask = markerOf(result!)!.deliveryId!;
    expect(textOf(result!)).toContain(`${FILES} files`);
    expect(textOf(result!)).toContain(`${(FILES - 2) * LINES_PER_FILE + 1 + 4} lines`);

    // One progress message, posted once and edited at least twice, ending at 100 %.
    const progress = botMessages(threadTs, 'progress', analysisTask);
    expect(progress).toHaveLength(1);
    const ts = progress[0]!.ts;
    const final = await waitFor('the final progress state', () => {
      const message = slack.message(ws.channel.id, ts)!;
      return textOf(message).includes('100%') ? message : undefined;
    });
    expect(final.edits).toBeGreaterThanOrEqual(2);
    expect(textOf(final)).toContain('██████████ 100%');
    const edits = slack.calls('chat.update').filter((c) => c.args.ts === ts);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    // At least one edit showed the task under way (a bar short of 100 %), not only its end.
    expect(edits.some((c) => /[█░]{10} \d{1,2}%/.test(JSON.stringify(c.args)))).toBe(true);
  });

  it('"now run the tests" in that thread runs them in the same repository', async () => {
    const reply = threadReply({ text: 'now run the tests', threadTs });
    expect((await sender.postEvent(eventCallback(reply))).status).toBe(200);
    const results = await waitFor(
      'the test-run reply',
      () => (botMessages(threadTs, 'result').length === 2 ? botMessages(threadTs, 'result') : undefined),
      60_000,
    );
    const testRun = results.find((m) => markerOf(m)?.deliveryId !== analysisTask)!;
    expect(textOf(testRun)).toContain('2 passed, 0 failed');
    const queued = (await queuedTasks()).find((e) => e.stream === `task-${markerOf(testRun)!.deliveryId}`)!;
    expect(queued.data).toMatchObject({ taskType: 'run-tests', payload: { repository: 'acme' }, replyTo: { kind: 'slack', channel: ws.channel.id, threadTs } });
  });

  it('a redelivered event_id queues no second task', async () => {
    const envelope = eventCallback(appMention({ text: 'git status of acme' }));
    expect((await sender.postEvent(envelope)).status).toBe(200);
    expect((await sender.postEvent(envelope, { retry: { num: 1, reason: 'http_timeout' } })).status).toBe(200);
    expect((await sender.postEvent(envelope, { retry: { num: 2, reason: 'http_timeout' } })).status).toBe(200);
    await waitFor('the git-status reply', () => (botMessages(envelope.event.ts!, 'result').length > 0 ? true : undefined));
    const forMessage = (await queuedTasks()).filter((e) => e.stream.endsWith(envelope.event.ts!.replace('.', '_')));
    expect(forMessage).toHaveLength(1);
    expect(botMessages(envelope.event.ts!, 'result')).toHaveLength(1);
  });

  it('unsigned and stale requests get 401 and record nothing', async () => {
    const before = (await store.readAll({ category: 'conversation' })).length;
    const unsigned = eventCallback(appMention({ text: 'analyze repo acme' }));
    expect((await sender.postEvent(unsigned, { signature: null })).status).toBe(401);
    const stale = eventCallback(appMention({ text: 'analyze repo acme' }));
    expect((await sender.postEvent(stale, { timestampSeconds: staleTimestamp() })).status).toBe(401);
    const forged = eventCallback(appMention({ text: 'analyze repo acme' }));
    expect((await sender.postEvent(forged, { signingSecret: 'not-the-secret' })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect((await store.readAll({ category: 'conversation' })).length).toBe(before);
  });

  it('a 429 delays progress edits past Retry-After and the final state still lands', async () => {
    const mention = appMention({ text: 'analyze repo acme' });
    slack.rateLimitNext(2, { method: 'chat.update', retryAfterSeconds: 1 });
    await sender.postEvent(eventCallback(mention));
    const [progress] = await waitFor('the progress message', () =>
      botMessages(mention.ts!, 'progress').length ? botMessages(mention.ts!, 'progress') : undefined,
    );
    await waitFor('the final progress state', () => textOf(slack.message(ws.channel.id, progress!.ts)!).includes('100%') || undefined);
    const updates = slack.calls('chat.update').filter((c) => c.args.ts === progress!.ts);
    const limited = updates.filter((c) => c.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    const afterLimit = updates.find((c) => c.status === 200 && c.at > limited[0]!.at)!;
    expect(afterLimit.at - limited[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('unknown slash subcommands answer with usage; /workflow list lists the templates', async () => {
    await sender.postCommand({ command: '/workflow', text: 'frobnicate' });
    await sender.postCommand({ command: '/workflow', text: 'list' });
    await sender.postCommand({ command: '/monitor', text: '' });
    const answers = await waitFor('three slash answers', () => {
      const calls = slack.calls('response_url');
      return calls.length >= 3 ? calls.map((c) => String(c.args.text)) : undefined;
    });
    expect(answers.some((t) => t.includes('I do not know "/workflow frobnicate"') && t.includes('/workflow start <template>'))).toBe(true);
    expect(answers.some((t) => t.includes('• deployment — Deployment') && t.match(/Runs here\./g)?.length === 4 && !t.includes('Cannot run here yet'))).toBe(
      true,
    );
    expect(answers.some((t) => /Tasks: \d+ in all/.test(t))).toBe(true);
  });
});

describe('kill -9 around the reply', () => {
  it('after the task completed and Slack stored the reply, but before it was recorded: one reply after restart', async () => {
    const mention = appMention({ text: 'git status of acme' });
    const held = slack.withholdAnswers('chat.postMessage', { where: (args) => isResultPost(args, mention.ts!) });
    await sender.postEvent(eventCallback(mention));
    await waitFor('the result post to reach Slack', () => (botMessages(mention.ts!, 'result').length === 1 ? true : undefined));
    product.child.kill('SIGKILL');
    await new Promise<void>((resolve) =>
      product.child.exitCode !== null || product.child.signalCode !== null ? resolve() : product.child.once('exit', () => resolve()),
    );
    held.release();
    product = await startProduct();
    const taskId = markerOf(botMessages(mention.ts!, 'result')[0]!)!.deliveryId!;
    await waitFor('the reply recorded on the delivery', async () =>
      (await store.read(`delivery-${taskId}` as never)).events.some((e) => e.type === 'ReplyPosted') ? true : undefined,
    );
    expect(botMessages(mention.ts!, 'result')).toHaveLength(1);
    expect(botMessages(mention.ts!, 'progress')).toHaveLength(1);
  });

  it('after the task completed, while the reply waited out a rate limit: one reply after restart', async () => {
    const mention = appMention({ text: 'git status of acme' });
    // The first result post is refused with a long Retry-After; the process dies while it waits.
    slack.rateLimitNext(1, { method: 'chat.postMessage', retryAfterSeconds: 60, where: (args) => isResultPost(args, mention.ts!) });
    await sender.postEvent(eventCallback(mention));
    const task = await waitFor('the task to complete', async () => {
      const done = (await taskEvents()).find((e) => e.type === 'TaskCompleted' && e.stream.endsWith(mention.ts!.replace('.', '_')));
      return done;
    });
    // Kill only once the refused post has been answered, so the product is truly waiting it out.
    await waitFor(
      'the result post to be refused',
      () => slack.calls('chat.postMessage').some((c) => c.status === 429 && isResultPost(c.args, mention.ts!)) || undefined,
    );
    expect(task.type).toBe('TaskCompleted');
    expect(botMessages(mention.ts!, 'result')).toHaveLength(0);
    product.child.kill('SIGKILL');
    await new Promise<void>((resolve) =>
      product.child.exitCode !== null || product.child.signalCode !== null ? resolve() : product.child.once('exit', () => resolve()),
    );
    product = await startProduct();
    const results = await waitFor('the reply after restart', () =>
      botMessages(mention.ts!, 'result').length > 0 ? botMessages(mention.ts!, 'result') : undefined,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(botMessages(mention.ts!, 'result')).toHaveLength(1);
    expect(markerOf(results[0]!)!.deliveryId).toBe(task.stream.slice('task-'.length));
  });
});

import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { RUN_PLAN_ACTION } from '../../domain/replies/plan-preview-reply.ts';
import { APPROVE_GATE_ACTION } from '../../domain/replies/workflow-replies.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';
import { appMention, eventCallback, nowSeconds, slackRequestSender, type SlackRequestSender } from '../support/slack-signed-requests.ts';
import { markerOf } from '../support/slack-standin-messages.ts';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { nextSlackTs, standInWorkspace as ws } from '../support/slack-workspace.ts';
import { freePort, waitFor as waitUntil } from '../support/waiting.ts';

// Signed requests Slack would never send, and events with fields missing, into the product's
// own HTTP port: each gets a named answer, nothing is recorded for it, and the process still
// takes a normal mention afterwards.

const ROLES = ['aggregates', 'dispatcher', 'projections', 'reactors', 'slack', 'workers:local-ops'];
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

let nats: TestNatsServer;
let slack: SlackWebApiStandIn;
let workspace: string;
let product: RoleProcess;
let sender: SlackRequestSender;
let nc: NatsConnection;
let store: JetStreamEventStore;
let port: number;

const waitFor = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> =>
  waitUntil(what, probe, { timeoutMs, context: () => product?.output().slice(-3_000) ?? '' });
const eventCount = async (): Promise<number> => (await store.readAll()).length;
const alive = (): boolean => product.child.exitCode === null && product.child.signalCode === null;
const settle = () => new Promise((r) => setTimeout(r, 300));

beforeAll(async () => {
  nats = await startTestNatsServer();
  slack = await startSlackWebApiStandIn();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-slack-bad-input-'));
  const repo = path.join(workspace, 'acme');
  await mkdir(repo, { recursive: true });
  await writeFile(path.join(repo, 'README.md'), 'acme\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
  port = await freePort();
  product = await startRoleProcess(
    ROLES,
    {
      NATS_URL: nats.url,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: ws.signingSecret,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      WORKSPACE_ROOT: workspace,
      DATA_DIR: path.join(workspace, '.data'),
    },
    60_000,
  );
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

const envelope = () => eventCallback(appMention({ text: 'git status of acme' })) as unknown as Record<string, unknown>;
const without = (key: string) => {
  const e = envelope();
  delete e[key];
  return JSON.stringify(e);
};
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe('signed bodies Slack never sends get 400 with a named reason', () => {
  const cases: [string, string, string, string][] = [
    ['JSON null', 'null', JSON_TYPE, 'BodyNotAnObject'],
    ['an empty array', '[]', JSON_TYPE, 'BodyNotAnObject'],
    ['an array of envelopes', `[${JSON.stringify(envelope())}]`, JSON_TYPE, 'BodyNotAnObject'],
    ['a number', '42', JSON_TYPE, 'BodyNotAnObject'],
    ['a string', '"hello"', JSON_TYPE, 'BodyNotAnObject'],
    ['true', 'true', JSON_TYPE, 'BodyNotAnObject'],
    ['not JSON', 'hello there', JSON_TYPE, 'BodyNotJson'],
    ['an object without type', '{}', JSON_TYPE, 'UnknownRequestType'],
    ['an unknown type', '{"type":"block_actions"}', JSON_TYPE, 'UnknownRequestType'],
    ['an envelope without event', without('event'), JSON_TYPE, 'InvalidEventEnvelope'],
    ['an envelope without event_id', without('event_id'), JSON_TYPE, 'InvalidEventEnvelope'],
    ['an envelope without team_id', without('team_id'), JSON_TYPE, 'InvalidEventEnvelope'],
    ['an envelope whose event is null', JSON.stringify({ ...envelope(), event: null }), JSON_TYPE, 'InvalidEventEnvelope'],
    ['an envelope whose event is an array', JSON.stringify({ ...envelope(), event: [] }), JSON_TYPE, 'InvalidEventEnvelope'],
    ['an envelope with authorizations [null]', JSON.stringify({ ...envelope(), authorizations: [null] }), JSON_TYPE, 'InvalidEventEnvelope'],
    ['url_verification without challenge', '{"type":"url_verification"}', JSON_TYPE, 'InvalidUrlVerification'],
    ['payload=null', form({ payload: 'null' }), FORM, 'InvalidPayload'],
    ['payload=[]', form({ payload: '[]' }), FORM, 'InvalidPayload'],
    ['payload=7', form({ payload: '7' }), FORM, 'InvalidPayload'],
    ['payload that is not JSON', form({ payload: '{oops' }), FORM, 'InvalidPayload'],
    ['payload given twice', 'payload=%7B%7D&payload=%7B%7D', FORM, 'InvalidPayload'],
    ['payload={}', form({ payload: '{}' }), FORM, 'InvalidInteraction'],
    ['block_actions without user', form({ payload: JSON.stringify({ type: 'block_actions', actions: [] }) }), FORM, 'InvalidInteraction'],
    ['a form without payload or command', form({ text: 'hello' }), FORM, 'UnknownFormBody'],
    ['an empty form', '', FORM, 'UnknownFormBody'],
    ['a slash command without user_id', form({ command: '/workflow', channel_id: 'C0GENERAL', text: 'list' }), FORM, 'InvalidSlashCommand'],
  ];

  it.each(cases)('%s', async (_, body, contentType, code) => {
    const before = await eventCount();
    const response = await sender.post(body, contentType);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: code });
    await settle();
    expect(alive()).toBe(true);
    expect(await eventCount()).toBe(before);
  });
});

describe('request timestamps outside five minutes either way get 401', () => {
  const mention = () => JSON.stringify(eventCallback(appMention({ text: 'git status of acme' })));
  const cases: [string, number, string][] = [
    ['6 minutes ahead', nowSeconds() + 6 * 60, 'TimestampInFuture'],
    ['28 hours ahead', nowSeconds() + 28 * 3600, 'TimestampInFuture'],
    ['6 minutes old', nowSeconds() - 6 * 60, 'TimestampTooOld'],
  ];
  it.each(cases)('%s', async (_, timestampSeconds, code) => {
    const before = await eventCount();
    const response = await sender.post(mention(), JSON_TYPE, { timestampSeconds });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: code });
    await settle();
    expect(await eventCount()).toBe(before);
  });

  it('a timestamp that is not a number', async () => {
    const body = mention();
    const signature = `v0=${createHmac('sha256', ws.signingSecret).update(`v0:soon:${body}`).digest('hex')}`;
    const response = await fetch(sender.url, {
      method: 'POST',
      headers: { 'content-type': JSON_TYPE, 'x-slack-request-timestamp': 'soon', 'x-slack-signature': signature },
      body,
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'InvalidTimestamp' });
  });

  it('4 minutes ahead is still inside the window', async () => {
    const response = await sender.post(JSON.stringify({ type: 'url_verification', challenge: 'c-4min' }), JSON_TYPE, {
      timestampSeconds: nowSeconds() + 4 * 60,
    });
    expect(response.status).toBe(200);
    expect(response.body).toContain('c-4min');
  });
});

describe('malformed events in a signed envelope', () => {
  it('an app_mention without user is answered in its thread, and nothing is recorded', async () => {
    const before = await eventCount();
    const mention = appMention({ text: 'git status of acme' }) as Record<string, unknown>;
    delete mention.user;
    expect((await sender.postEvent(eventCallback(mention as never))).status).toBe(200);
    const [answer] = await waitFor('the answer in the thread', () => {
      const found = slack.thread(ws.channel.id, mention.ts as string).filter((m) => m.user === ws.botUserId);
      return found.length > 0 ? found : undefined;
    });
    expect(answer!.text).toBe('I could not read that mention: it has no user.');
    expect(await eventCount()).toBe(before);
  });

  it('an app_mention whose text is a number says so', async () => {
    const mention = { ...appMention({ text: 'x' }), text: 12 } as never as Record<string, unknown>;
    await sender.postEvent(eventCallback(mention as never));
    const [answer] = await waitFor('the answer', () => {
      const found = slack.thread(ws.channel.id, mention.ts as string).filter((m) => m.user === ws.botUserId);
      return found.length > 0 ? found : undefined;
    });
    expect(answer!.text).toBe('I could not read that mention: text is not text.');
  });

  it('a button whose value is not ours is answered to the one who pressed it, never with "something went wrong"', async () => {
    const before = await eventCount();
    const messageTs = slack.seedMessage({ channel: ws.channel.id, user: ws.botUserId, text: 'a plan', ts: nextSlackTs() });
    const callsBefore = slack.calls('response_url').length;
    expect((await sender.postBlockAction({ actionId: RUN_PLAN_ACTION, value: '../../etc', messageTs })).status).toBe(200);
    expect((await sender.postBlockAction({ actionId: APPROVE_GATE_ACTION, value: 'not-a-gate', messageTs })).status).toBe(200);
    expect((await sender.postBlockAction({ actionId: RUN_PLAN_ACTION, messageTs })).status).toBe(200);
    const answers = await waitFor('three ephemeral answers', () => {
      const calls = slack.calls('response_url').slice(callsBefore);
      return calls.length >= 3 ? calls.map((c) => String(c.args.text)) : undefined;
    });
    expect(answers.sort()).toEqual(
      [
        'That button is not one of ours (it carries no value); nothing was done.',
        'That button is not one of ours; nothing was done.',
        'That button is not one of ours; nothing was done.',
      ].sort(),
    );
    expect(answers.join(' ')).not.toContain('something went wrong');
    expect(await eventCount()).toBe(before);
  });
});

describe('afterwards', () => {
  it('the same process still takes a normal mention and answers it', async () => {
    expect(alive()).toBe(true);
    const mention = appMention({ text: 'git status of acme' });
    expect((await sender.postEvent(eventCallback(mention))).status).toBe(200);
    await waitFor('the git-status result', () => slack.thread(ws.channel.id, mention.ts!).some((m) => markerOf(m)?.kind === 'result') || undefined, 60_000);
    expect(product.output()).not.toMatch(/unhandled|UnhandledPromiseRejection/i);
  }, 90_000);
});

// Self-test of the signed-request builder (test fixture) against a real Bolt App on its default
// HTTPReceiver: what Bolt accepts and refuses here is what it will accept and refuse from
// Slack, as far as signing and payload shapes go. Bolt's own Web API calls (auth.test at
// construction, say(), respond(), client.*) go to the Web API stand-in.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { App, LogLevel } from '@slack/bolt';
import {
  appMention,
  badSignature,
  blockActionsPayload,
  directMessage,
  eventCallback,
  slackRequestSender,
  slackSignature,
  staleTimestamp,
  threadReply,
  type SlackRequestSender,
} from './slack-signed-requests.ts';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from './slack-web-api-standin.ts';
import { standInWorkspace as ws } from './slack-workspace.ts';

interface Received {
  readonly listener: 'app_mention' | 'message' | 'command' | 'action';
  readonly payload: Record<string, unknown>;
  readonly retryNum?: number | undefined;
  readonly retryReason?: string | undefined;
}

let slack: SlackWebApiStandIn;
let app: App;
let sender: SlackRequestSender;
const received: Received[] = [];

async function waitFor(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const receivedBy = (listener: Received['listener']) => received.filter((r) => r.listener === listener);

beforeAll(async () => {
  slack = await startSlackWebApiStandIn();
  app = new App({
    token: slack.token,
    signingSecret: ws.signingSecret,
    clientOptions: { slackApiUrl: slack.apiUrl },
    logLevel: LogLevel.ERROR,
  });

  app.event('app_mention', async ({ event, say, context }) => {
    received.push({ listener: 'app_mention', payload: { ...event }, retryNum: context.retryNum, retryReason: context.retryReason });
    await say({ text: 'On it', thread_ts: event.thread_ts ?? event.ts });
  });
  app.message(async ({ message, say }) => {
    received.push({ listener: 'message', payload: { ...message } });
    if ('channel_type' in message && message.channel_type === 'im') await say({ text: 'Got your message', thread_ts: message.ts });
  });
  app.command('/workflow', async ({ command, ack, respond }) => {
    received.push({ listener: 'command', payload: { ...command } });
    await ack({ text: `Starting ${command.text}` });
    await respond({ response_type: 'in_channel', text: `Workflow ${command.text} started by <@${command.user_id}>` });
  });
  app.action('approve', async ({ ack, body, action, client }) => {
    await ack();
    received.push({ listener: 'action', payload: { body, action } });
    if (body.type === 'block_actions' && body.channel && body.message) {
      await client.chat.update({ channel: body.channel.id, ts: body.message.ts, text: `Approved by <@${body.user.id}>`, blocks: [] });
    }
  });

  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  sender = slackRequestSender({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`, webApi: slack });
});

afterAll(async () => {
  await app?.stop();
  await slack?.stop();
});

beforeEach(() => {
  received.length = 0;
});

describe('a Bolt app wired to the stand-ins', () => {
  it('checked its token with auth.test against the Web API stand-in', async () => {
    const [call] = await slack.waitForCalls('auth.test');
    expect(call).toMatchObject({ token: ws.botToken, response: { ok: true, user_id: ws.botUserId } });
  });

  it('answers url_verification with the challenge', async () => {
    const response = await sender.postUrlVerification('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
    expect(response.status).toBe(200);
    expect(response.body).toContain('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
  });
});

describe('events', () => {
  it('delivers a signed app_mention to app.event, whose say() lands in the thread', async () => {
    const envelope = eventCallback(appMention({ text: 'analyze repo acme' }));
    const response = await sender.postEvent(envelope);
    expect(response.status).toBe(200);

    await waitFor(() => receivedBy('app_mention').length === 1, 'the app_mention listener');
    const mention = envelope.event;
    expect(receivedBy('app_mention')[0]).toMatchObject({
      payload: { type: 'app_mention', text: `<@${ws.botUserId}> analyze repo acme`, user: ws.user.id, channel: ws.channel.id },
      retryNum: undefined,
    });
    await waitFor(() => slack.thread(ws.channel.id, mention.ts!).length === 2, "the reply in the request's thread");
    expect(slack.thread(ws.channel.id, mention.ts!).map((m) => [m.user, m.text])).toEqual([
      [ws.user.id, `<@${ws.botUserId}> analyze repo acme`],
      [ws.botUserId, 'On it'],
    ]);
  });

  it('marks a redelivery with the retry number and reason, keeping the event_id', async () => {
    const envelope = eventCallback(appMention({ text: 'git status of acme' }));
    await sender.postEvent(envelope);
    await sender.postEvent(envelope, { retry: { num: 1, reason: 'http_timeout' } });
    await waitFor(() => receivedBy('app_mention').length === 2, 'both deliveries');
    expect(receivedBy('app_mention').map((r) => [r.payload.ts, r.retryNum, r.retryReason])).toEqual([
      [envelope.event.ts, undefined, undefined],
      [envelope.event.ts, 1, 'http_timeout'],
    ]);
  });

  it('delivers a direct message (channel_type im) and a thread reply to app.message', async () => {
    const dm = eventCallback(directMessage({ text: 'lint acme' }));
    const reply = eventCallback(threadReply({ text: 'now run the tests', threadTs: '1732183200.000100' }));
    await sender.postEvent(dm);
    await sender.postEvent(reply);
    await waitFor(() => receivedBy('message').length === 2, 'both messages');
    expect(receivedBy('message').map((r) => r.payload)).toMatchObject([
      { channel: ws.dmChannel.id, channel_type: 'im', text: 'lint acme' },
      { channel: ws.channel.id, thread_ts: '1732183200.000100', text: 'now run the tests' },
    ]);
    await waitFor(() => slack.thread(ws.dmChannel.id, dm.event.ts!).length === 2, 'the DM reply');
  });

  describe('refused with 401 before any listener runs', () => {
    const cases: [string, (body: string) => Promise<{ status: number }>][] = [
      ['unsigned', (body) => sender.post(body, 'application/json', { signature: null })],
      ['6 minutes old', (body) => sender.post(body, 'application/json', { timestampSeconds: staleTimestamp(6) })],
      ['with a wrong signature', (body) => sender.post(body, 'application/json', { signature: badSignature })],
      ['signed with another secret', (body) => sender.post(body, 'application/json', { signingSecret: 'not-the-secret' })],
      [
        'with a signature for a different body',
        (body) => sender.post(body, 'application/json', { signature: slackSignature(ws.signingSecret, Math.floor(Date.now() / 1000), `${body} `) }),
      ],
    ];
    it.each(cases)('%s', async (_, send) => {
      const postsBefore = slack.calls('chat.postMessage').length;
      const response = await send(JSON.stringify(eventCallback(appMention({ text: 'deploy everything' }))));
      expect(response.status).toBe(401);
      // A listener would have run within milliseconds of an accepted request.
      await new Promise((r) => setTimeout(r, 100));
      expect(received).toEqual([]);
      expect(slack.calls('chat.postMessage')).toHaveLength(postsBefore);
    });

    it('while the same request signed now is accepted', async () => {
      const response = await sender.post(JSON.stringify(eventCallback(appMention({ text: 'deploy everything' }))), 'application/json', {});
      expect(response.status).toBe(200);
      await waitFor(() => receivedBy('app_mention').length === 1, 'the listener');
    });
  });
});

describe('slash commands', () => {
  it('delivers a form-encoded command to app.command, acks in the HTTP answer and respond()s via response_url', async () => {
    const response = await sender.postCommand({ command: '/workflow', text: 'start deploy-staging' });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ text: 'Starting start deploy-staging' });
    expect(receivedBy('command')[0]?.payload).toMatchObject({
      command: '/workflow',
      text: 'start deploy-staging',
      user_id: ws.user.id,
      channel_id: ws.channel.id,
      team_id: ws.teamId,
    });
    expect(receivedBy('command')[0]?.payload.trigger_id).toEqual(expect.any(String));

    const [respondCall] = await slack.waitForCalls('response_url');
    expect(respondCall?.args).toMatchObject({ response_type: 'in_channel', text: `Workflow start deploy-staging started by <@${ws.user.id}>` });
    expect(slack.channelMessages(ws.channel.id).at(-1)).toMatchObject({
      user: ws.botUserId,
      text: `Workflow start deploy-staging started by <@${ws.user.id}>`,
    });
  });
});

describe('interactivity', () => {
  it('delivers a block_actions button press to app.action, which updates the message', async () => {
    const gate = await app.client.chat.postMessage({
      channel: ws.channel.id,
      text: 'Approve deploy to production?',
      blocks: [{ type: 'actions', elements: [] }],
    });
    const response = await sender.postBlockAction({
      actionId: 'approve',
      value: 'approval-42',
      messageTs: gate.ts!,
      messageText: 'Approve deploy to production?',
    });
    expect(response.status).toBe(200);

    await waitFor(() => receivedBy('action').length === 1, 'the action listener');
    expect(receivedBy('action')[0]?.payload).toMatchObject({
      action: { action_id: 'approve', value: 'approval-42', type: 'button' },
      body: {
        type: 'block_actions',
        user: { id: ws.user.id },
        channel: { id: ws.channel.id },
        message: { ts: gate.ts },
        container: { type: 'message', message_ts: gate.ts, channel_id: ws.channel.id },
      },
    });
    await waitFor(() => slack.message(ws.channel.id, gate.ts!)?.edits === 1, 'the update');
    expect(slack.message(ws.channel.id, gate.ts!)).toMatchObject({ text: `Approved by <@${ws.user.id}>`, blocks: [] });
  });

  it('builds the documented payload shape', () => {
    const payload = blockActionsPayload({ actionId: 'cancel', value: 'wf-7', messageTs: '1732183200.000200', threadTs: '1732183200.000100' });
    expect(payload).toMatchObject({
      type: 'block_actions',
      actions: [{ action_id: 'cancel', value: 'wf-7' }],
      container: { message_ts: '1732183200.000200', thread_ts: '1732183200.000100', channel_id: ws.channel.id },
      message: { ts: '1732183200.000200', thread_ts: '1732183200.000100' },
    });
  });
});

// Self-test of the Slack Web API stand-in (test fixture): the real @slack/web-api WebClient
// talks to it over HTTP, so these assertions pin down the wire behaviour other tests rely on
// (form bodies, tokens, 429 + Retry-After, the three-step file upload). It proves nothing
// about real Slack.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, LogLevel, WebClient, WebClientEvent, type WebClientOptions } from '@slack/web-api';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from './slack-web-api-standin.ts';
import { compareSlackTs, standInWorkspace as ws } from './slack-workspace.ts';

let slack: SlackWebApiStandIn;

// No back-off of WebClient's own between attempts, so a measured wait is the Retry-After alone.
const clientOptions = (): WebClientOptions => ({
  slackApiUrl: slack.apiUrl,
  logLevel: LogLevel.ERROR,
  retryConfig: { retries: 3, minTimeout: 0, maxTimeout: 0 },
});
const client = (token: string = slack.token, options: WebClientOptions = {}) => new WebClient(token, { ...clientOptions(), ...options });

/** The Slack error code of a rejected call (`WebAPIPlatformError.data.error`). */
async function slackError(call: Promise<unknown>): Promise<string> {
  const error = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; data?: { error?: string } } | undefined;
  expect(error?.code, 'the call should have failed with a Slack platform error').toBe(ErrorCode.PlatformError);
  return error?.data?.error ?? '';
}

beforeAll(async () => {
  slack = await startSlackWebApiStandIn();
});
afterAll(async () => {
  await slack.stop();
});
beforeEach(() => slack.reset());

const channel = ws.channel.id;

describe('authentication', () => {
  it('answers auth.test with the bot identity, recording the bearer token', async () => {
    const result = await client().auth.test();
    expect(result).toMatchObject({ ok: true, team_id: ws.teamId, user_id: ws.botUserId, bot_id: ws.botId });
    expect(slack.calls('auth.test')).toMatchObject([{ token: ws.botToken, contentType: 'application/x-www-form-urlencoded', status: 200 }]);
  });

  it('answers invalid_auth for another token and not_authed for none', async () => {
    expect(await slackError(client('xoxb-someone-else').chat.postMessage({ channel, text: 'hi' }))).toBe('invalid_auth');
    expect(await slackError(new WebClient(undefined, clientOptions()).chat.postMessage({ channel, text: 'hi' }))).toBe('not_authed');
    expect(slack.channelMessages(channel)).toEqual([]);
  });

  it('accepts JSON bodies with the token in the Authorization header', async () => {
    const response = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${slack.token}` },
      body: JSON.stringify({ channel, text: 'as JSON', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*as JSON*' } }] }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel });
    expect(slack.calls('chat.postMessage')[0]?.args).toMatchObject({ text: 'as JSON', blocks: [{ type: 'section' }] });
  });

  it('answers unknown_method for a method it does not implement', async () => {
    expect(await slackError(client().apiCall('admin.teams.create', { team_name: 'x' }))).toBe('unknown_method');
  });
});

describe('messages', () => {
  it('posts messages with unique, increasing ts and records the parsed arguments', async () => {
    const web = client();
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Analysis* started' } }];
    const first = await web.chat.postMessage({ channel, text: 'Analysis started', blocks });
    const second = await web.chat.postMessage({ channel, text: 'second' });
    const third = await web.chat.postMessage({ channel: ws.dmChannel.id, text: 'elsewhere' });

    expect(first).toMatchObject({ ok: true, channel, message: { text: 'Analysis started', user: ws.botUserId, bot_id: ws.botId, blocks } });
    const stamps = [first.ts!, second.ts!, third.ts!];
    expect(new Set(stamps).size).toBe(3);
    expect([...stamps].sort(compareSlackTs)).toEqual(stamps);
    expect(stamps.every((ts) => /^\d{10}\.\d{6}$/.test(ts))).toBe(true);
    // Form bodies carry blocks as a JSON string; the recording holds them parsed.
    expect(slack.calls('chat.postMessage').map((c) => c.args)).toMatchObject([
      { channel, text: 'Analysis started', blocks },
      { text: 'second' },
      { channel: ws.dmChannel.id },
    ]);
    expect(slack.channelMessages(channel).map((m) => m.text)).toEqual(['Analysis started', 'second']);
  });

  it('refuses a message with nothing to show', async () => {
    expect(await slackError(client().chat.postMessage({ channel, text: '' }))).toBe('no_text');
  });

  it('shows a thread with its latest edits, counting the edits', async () => {
    const web = client();
    const requestTs = slack.seedMessage({ channel, user: ws.user.id, text: `<@${ws.botUserId}> analyze repo acme` });
    const progress = await web.chat.postMessage({ channel, thread_ts: requestTs, text: 'Analyzing ░░░░░░░░░░ 0%' });
    await web.chat.update({ channel, ts: progress.ts!, text: 'Analyzing ████░░░░░░ 40%' });
    await web.chat.update({ channel, ts: progress.ts!, text: 'Analyzing ██████████ 100%' });
    await web.chat.postMessage({ channel, thread_ts: requestTs, text: 'Done: 3 findings' });

    const thread = slack.thread(channel, requestTs);
    expect(thread.map((m) => m.text)).toEqual([`<@${ws.botUserId}> analyze repo acme`, 'Analyzing ██████████ 100%', 'Done: 3 findings']);
    expect(thread[0]).toMatchObject({ user: ws.user.id, reply_count: 2, thread_ts: requestTs });
    expect(thread[1]).toMatchObject({ thread_ts: requestTs, edited: { user: ws.botUserId } });
    expect(slack.message(channel, progress.ts!)?.edits).toBe(2);
    // Replies stay in the thread; the channel shows only the parent.
    expect(slack.channelMessages(channel).map((m) => m.ts)).toEqual([requestTs]);

    const replies = await web.conversations.replies({ channel, ts: requestTs });
    expect(replies.messages?.map((m) => m.text)).toEqual(thread.map((m) => m.text));
  });

  it('answers message_not_found when updating a ts it never posted, and cant_update_message for a person’s message', async () => {
    const web = client();
    expect(await slackError(web.chat.update({ channel, ts: '1700000000.000001', text: 'x' }))).toBe('message_not_found');
    const posted = await web.chat.postMessage({ channel, text: 'mine' });
    expect(await slackError(web.chat.update({ channel: ws.dmChannel.id, ts: posted.ts!, text: 'x' }))).toBe('message_not_found');
    const theirs = slack.seedMessage({ channel, user: ws.user.id, text: 'theirs' });
    expect(await slackError(web.chat.update({ channel, ts: theirs, text: 'x' }))).toBe('cant_update_message');
    expect(slack.calls('chat.update').map((c) => c.response.error)).toEqual(['message_not_found', 'message_not_found', 'cant_update_message']);
  });

  it('keeps ephemeral messages out of the channel and records reactions', async () => {
    const web = client();
    const requestTs = slack.seedMessage({ channel, user: ws.user.id, text: 'lint acme' });
    const ephemeral = await web.chat.postEphemeral({ channel, user: ws.user.id, text: 'Only you can see this', thread_ts: requestTs });
    await web.reactions.add({ channel, timestamp: requestTs, name: 'eyes' });

    expect(ephemeral.message_ts).toMatch(/^\d+\.\d{6}$/);
    expect(slack.ephemerals(channel)).toMatchObject([{ user: ws.user.id, text: 'Only you can see this', threadTs: requestTs }]);
    expect(slack.thread(channel, requestTs)).toMatchObject([{ text: 'lint acme', reactions: [{ name: 'eyes', users: [ws.botUserId], count: 1 }] }]);
    expect(await slackError(web.reactions.add({ channel, timestamp: requestTs, name: 'eyes' }))).toBe('already_reacted');
  });
});

describe('scripted faults', () => {
  it('rate-limits with 429 and Retry-After, which WebClient honours before retrying', async () => {
    const web = client();
    const announced: number[] = [];
    web.on(WebClientEvent.RATE_LIMITED, (seconds: number) => announced.push(seconds));
    slack.rateLimitNext(1, { method: 'chat.postMessage', retryAfterSeconds: 1 });

    const started = Date.now();
    const result = await web.chat.postMessage({ channel, text: 'after the limit' });
    const waited = Date.now() - started;

    expect(result.ok).toBe(true);
    expect(announced).toEqual([1]);
    const [limited, retried] = slack.calls('chat.postMessage');
    expect(limited).toMatchObject({ status: 429, response: { ok: false, error: 'ratelimited' } });
    expect(retried).toMatchObject({ status: 200, response: { ok: true } });
    // Timers may fire a few ms early; anything near zero would mean Retry-After was ignored.
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(950);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(slack.channelMessages(channel)).toHaveLength(1);
  });

  it('limits only the named method, and any method when none is named', async () => {
    const web = client(slack.token, { rejectRateLimitedCalls: true });
    slack.rateLimitNext(1, { method: 'chat.update', retryAfterSeconds: 7 });
    const posted = await web.chat.postMessage({ channel, text: 'not limited' });
    const error = (await web.chat.update({ channel, ts: posted.ts!, text: 'limited' }).catch((e: unknown) => e)) as { code?: string; retryAfter?: number };
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });

    slack.rateLimitNext(1, { retryAfterSeconds: 2 });
    const anyMethod = (await web.auth.test().catch((e: unknown) => e)) as { retryAfter?: number };
    expect(anyMethod.retryAfter).toBe(2);
    expect((await web.auth.test()).ok).toBe(true);
  });

  it('fails the next calls of a method with the given error, then recovers', async () => {
    const web = client();
    slack.failNext('chat.postMessage', 'channel_not_found', 2);
    expect(await slackError(web.chat.postMessage({ channel, text: '1' }))).toBe('channel_not_found');
    expect((await web.auth.test()).ok).toBe(true);
    expect(await slackError(web.chat.postMessage({ channel, text: '2' }))).toBe('channel_not_found');
    expect((await web.chat.postMessage({ channel, text: '3' })).ok).toBe(true);
    expect(slack.channelMessages(channel).map((m) => m.text)).toEqual(['3']);
  });
});

describe('files.uploadV2', () => {
  it('takes the three steps WebClient performs and shares the file into the thread', async () => {
    const web = client();
    const requestTs = slack.seedMessage({ channel, user: ws.user.id, text: 'run the tests in acme' });
    const report = 'PASS 41\nFAIL 1: parser handles empty input\n';

    const result = await web.filesUploadV2({
      channel_id: channel,
      thread_ts: requestTs,
      filename: 'test-report.txt',
      title: 'Test report',
      content: report,
      initial_comment: 'Full report attached',
    });

    expect(result.ok).toBe(true);
    expect(slack.calls().map((c) => c.method)).toEqual(['files.getUploadURLExternal', 'upload_url', 'files.completeUploadExternal']);
    const [urlCall, upload, complete] = slack.calls();
    expect(urlCall?.args).toMatchObject({ filename: 'test-report.txt', length: String(Buffer.byteLength(report)) });
    const fileId = urlCall?.response.file_id as string;
    expect(upload?.args).toEqual({ file_id: fileId, bytes: Buffer.byteLength(report) });
    expect(complete?.args).toMatchObject({
      channel_id: channel,
      thread_ts: requestTs,
      initial_comment: 'Full report attached',
      files: [{ id: fileId, title: 'Test report' }],
    });

    expect(slack.file(fileId)?.bytes?.toString('utf8')).toBe(report);
    expect(slack.file(fileId)).toMatchObject({ completed: true, title: 'Test report', sharedTo: [{ channel, threadTs: requestTs }] });
    expect(slack.thread(channel, requestTs)[1]).toMatchObject({
      text: 'Full report attached',
      files: [{ id: fileId, name: 'test-report.txt', title: 'Test report' }],
    });
  });

  it('refuses to complete a file whose bytes never arrived', async () => {
    const web = client();
    const { file_id } = await web.files.getUploadURLExternal({ filename: 'x.txt', length: 3 });
    expect(await slackError(web.files.completeUploadExternal({ files: [{ id: file_id! }] }))).toBe('file_not_found');
  });
});

describe('response_url', () => {
  const respond = (url: string, body: object) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('replaces the original message, posts in channel, or answers ephemerally', async () => {
    const web = client();
    const gate = await web.chat.postMessage({ channel, text: 'Approve deploy?', blocks: [{ type: 'actions', elements: [] }] });
    const url = slack.responseUrl({ channel, user: ws.user.id, messageTs: gate.ts! });

    expect((await respond(url, { replace_original: true, text: 'Approved by <@U0ALICE>', blocks: [] })).status).toBe(200);
    await respond(url, { response_type: 'in_channel', text: 'Deploying' });
    await respond(url, { text: 'Only for you' });

    expect(slack.message(channel, gate.ts!)).toMatchObject({ text: 'Approved by <@U0ALICE>', blocks: [], edits: 1 });
    expect(slack.channelMessages(channel).map((m) => m.text)).toEqual(['Approved by <@U0ALICE>', 'Deploying']);
    expect(slack.ephemerals(channel)).toMatchObject([{ user: ws.user.id, text: 'Only for you' }]);
    expect(slack.calls('response_url').map((c) => c.args)).toMatchObject([
      { replace_original: true },
      { response_type: 'in_channel' },
      { text: 'Only for you' },
    ]);
  });
});

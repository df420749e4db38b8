import { describe, expect, it } from 'vitest';
import { readMessageFields, replyPlaceOf } from '../../adapters/slack/slack-message-fields.ts';
import { timestampRefusal } from '../../adapters/slack/slack-request-guard.ts';
import { checkSlackBody, FORM_CONTENT_TYPE } from '../../adapters/slack/slack-request-shapes.ts';

// The pure parts of the Slack guard: which bodies, timestamps and event fields are refused, by name.

const NOW_MS = 1_800_000_000_000;
const now = NOW_MS / 1000;
const envelope = { type: 'event_callback', team_id: 'T1', api_app_id: 'A1', event_id: 'Ev1', event_time: now, event: { type: 'app_mention' } };

describe('request timestamps', () => {
  it.each([
    [undefined, 'Unsigned'],
    ['', 'InvalidTimestamp'],
    ['abc', 'InvalidTimestamp'],
    ['1e9', 'InvalidTimestamp'],
    ['-5', 'InvalidTimestamp'],
    [String(now + 301), 'TimestampInFuture'],
    [String(now + 28 * 3600), 'TimestampInFuture'],
    [String(now - 301), 'TimestampTooOld'],
  ])('%j: %s', (value, code) => {
    expect(timestampRefusal(value, NOW_MS)).toMatchObject({ status: 401, code });
  });

  it.each([[String(now)], [String(now + 300)], [String(now - 300)]])('%s is inside the window', (value) => {
    expect(timestampRefusal(value, NOW_MS)).toBeUndefined();
  });
});

describe('bodies', () => {
  it.each([
    ['null', 'BodyNotAnObject'],
    ['[]', 'BodyNotAnObject'],
    ['3.5', 'BodyNotAnObject'],
    ['"s"', 'BodyNotAnObject'],
    ['{', 'BodyNotJson'],
    ['{"type":"x"}', 'UnknownRequestType'],
    [JSON.stringify({ ...envelope, event: { text: 'no type' } }), 'InvalidEventEnvelope'],
    [JSON.stringify({ ...envelope, event_time: 'now' }), 'InvalidEventEnvelope'],
  ])('JSON %s: %s', (body, code) => {
    expect(checkSlackBody(body, 'application/json')).toMatchObject({ code });
  });

  it('a whole envelope, url_verification and app_rate_limited pass', () => {
    expect(checkSlackBody(JSON.stringify(envelope), 'application/json')).toBeUndefined();
    expect(checkSlackBody('{"type":"url_verification","challenge":"c"}', 'application/json')).toBeUndefined();
    expect(checkSlackBody('{"type":"app_rate_limited","team_id":"T1","minute_rate_limited":1,"api_app_id":"A1"}', 'application/json')).toBeUndefined();
  });

  it.each([
    ['payload=null', 'InvalidPayload'],
    ['payload=%5B%5D', 'InvalidPayload'],
    ['payload=', 'InvalidPayload'],
    [`payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, actions: [{}] }))}`, 'InvalidInteraction'],
    ['token=x', 'UnknownFormBody'],
    ['command=workflow&user_id=U1&channel_id=C1', 'InvalidSlashCommand'],
  ])('form %s: %s', (body, code) => {
    expect(checkSlackBody(body, FORM_CONTENT_TYPE)).toMatchObject({ code });
  });

  it('a block action, a slash command and ssl_check pass', () => {
    expect(
      checkSlackBody(
        `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, actions: [{ action_id: 'a' }] }))}`,
        FORM_CONTENT_TYPE,
      ),
    ).toBeUndefined();
    expect(checkSlackBody('command=%2Fworkflow&user_id=U1&channel_id=C1&text=list', FORM_CONTENT_TYPE)).toBeUndefined();
    expect(checkSlackBody('ssl_check=1', FORM_CONTENT_TYPE)).toBeUndefined();
  });
});

describe('message fields', () => {
  const mention = { type: 'app_mention', user: 'U1', channel: 'C1', ts: '1700000000.000100', text: 'hi' };

  it('reads a whole mention', () => {
    expect(readMessageFields(mention)).toEqual({ ok: true, fields: { user: 'U1', channel: 'C1', ts: '1700000000.000100', text: 'hi' } });
  });

  it('names what is missing or malformed', () => {
    expect(readMessageFields({ ...mention, user: undefined })).toEqual({ ok: false, problem: 'it has no user' });
    expect(readMessageFields({ ...mention, text: 12 })).toEqual({ ok: false, problem: 'text is not text' });
    expect(readMessageFields({ ...mention, ts: 'yesterday', user: undefined })).toEqual({ ok: false, problem: 'it has no user; ts is not a Slack timestamp' });
    expect(readMessageFields(null)).toMatchObject({ ok: false });
  });

  it('answers in the thread when channel and ts are readable', () => {
    expect(replyPlaceOf({ ...mention, user: undefined })).toEqual({ channel: 'C1', threadTs: '1700000000.000100' });
    expect(replyPlaceOf({ ...mention, thread_ts: '1600000000.000001' })).toEqual({ channel: 'C1', threadTs: '1600000000.000001' });
    expect(replyPlaceOf({ ...mention, channel: undefined })).toBeUndefined();
  });
});

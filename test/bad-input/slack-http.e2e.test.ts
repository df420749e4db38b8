import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appMention, badSignature, eventCallback, nowSeconds, slackRequestSender, type SlackRequestSender } from '../support/slack-signed-requests.ts';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { standInWorkspace as ws } from '../support/slack-workspace.ts';
import { freePort, waitFor } from '../support/waiting.ts';
import { BIG_NASTY_JSON, garbageText, inChunks, NOT_JSON, nonObjectJson, randomObject, sample, SMALL_NASTY_JSON } from './generators.ts';
import { startProductUnderTest, type ProductUnderTest } from './product-under-test.ts';
import { fail, pass, report, type BadInputCase, type Verdict } from './verdicts.ts';

// Bad requests into the real Slack front end (Bolt's HTTP receiver in the `slack` role, with
// the `aggregates` role behind it, one child process): correctly signed bodies that are not a
// Slack request get 400 with a reason in the body; requests whose signature or timestamp is
// wrong (missing, forged, more than five minutes off either way, not a number) get 401, even
// when the body is a perfectly good mention. The process lives, the event log holds nothing
// more, and a normal signed mention is still answered in its thread.

interface SlackCase extends BadInputCase {
  readonly body: string;
  readonly contentType: string;
  /** Header values to send; a missing one is not sent. */
  readonly headers: (body: string) => Record<string, string>;
  readonly status: 400 | 401;
}

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

let product: ProductUnderTest;
let slack: SlackWebApiStandIn;
let sender: SlackRequestSender;
let url: string;

const sign = (secret: string, timestamp: string, body: string): string => `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
/** Slack's headers, signed with the right secret at `timestamp` (now unless given). */
const signed =
  (timestamp?: string) =>
  (body: string): Record<string, string> => {
    const ts = timestamp ?? String(nowSeconds());
    return { 'x-slack-request-timestamp': ts, 'x-slack-signature': sign(ws.signingSecret, ts, body) };
  };

/** A good mention: were it let through, it would write a conversation's events. */
const goodMention = (text = 'git status of acme'): string => JSON.stringify(eventCallback(appMention({ text })));

function badBodies(): SlackCase[] {
  const cases: SlackCase[] = [];
  const add = (group: string, contentType: string, bodies: readonly string[]) =>
    bodies.forEach((body) => cases.push({ group, name: body.slice(0, 40), body, contentType, headers: signed(), status: 400 }));
  add('signed JSON that is not an object (null, arrays, numbers, strings)', JSON_TYPE, [
    ...sample(nonObjectJson, 150, 21).map((v) => JSON.stringify(v)),
    ...SMALL_NASTY_JSON.filter((v) => !v.json.startsWith('{')).map((v) => v.json),
  ]);
  add('signed body that is not JSON', JSON_TYPE, [...NOT_JSON.filter((b) => b !== ''), ...sample(garbageText, 100, 22)]);
  add('signed form whose payload is not an object', FORM_TYPE, [
    ...['null', '[]', '42', '"x"', 'true', '', '{', 'undefined'].map((p) => new URLSearchParams({ payload: p }).toString()),
    ...sample(nonObjectJson, 60, 23).map((v) => new URLSearchParams({ payload: JSON.stringify(v) }).toString()),
    ...sample(garbageText, 40, 24).map((g) => new URLSearchParams({ payload: g }).toString()),
  ]);
  const formFields = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !['payload', 'command', 'ssl_check'].includes(k)),
    fc.string({ maxLength: 20 }),
    { minKeys: 1, maxKeys: 5 },
  );
  add('signed form without payload or command', FORM_TYPE, [
    'a=b',
    'x',
    '=',
    '&&&',
    ...sample(formFields, 60, 25).map((f) => new URLSearchParams(f).toString()),
  ]);
  add('signed event envelope missing fields', JSON_TYPE, [
    '{}',
    '{"type":"event_callback"}',
    ...['null', '[]', '42', '"app_mention"', '{}', '{"type":42}', '{"type":null}', '{"type":"app_mention"}'].map(
      (event) => `{"type":"event_callback","team_id":"${ws.teamId}","event_id":"Ev1","event":${event}}`,
    ),
    '{"type":null}',
    '{"type":42}',
    '{"type":["event_callback"]}',
    '{"type":"no_such_envelope"}',
    '{"type":"url_verification"}',
    '{"type":"url_verification","challenge":{"a":1}}',
    ...sample(
      randomObject.filter((o) => !('type' in o) && !('command' in o) && !('ssl_check' in o) && !('payload' in o)),
      80,
      26,
    ).map((o) => JSON.stringify(o)),
  ]);
  add('signed body with prototype-pollution keys', JSON_TYPE, [
    '{"__proto__":{"type":"event_callback","event":{"type":"app_mention","user":"U0ALICE","text":"git status of acme","ts":"1.1","channel":"C0GENERAL"}}}',
    '{"constructor":{"prototype":{"type":"event_callback"}}}',
    '{"__proto__":{"type":"url_verification","challenge":"x"}}',
  ]);
  add(
    'signed huge or deep body',
    JSON_TYPE,
    BIG_NASTY_JSON.filter((v) => !v.json.startsWith('{')).map((v) => v.json),
  );
  return cases;
}

function badCredentials(): SlackCase[] {
  const cases: SlackCase[] = [];
  const add = (group: string, name: string, headers: SlackCase['headers'], body = goodMention()) =>
    cases.push({ group, name, body, contentType: JSON_TYPE, headers, status: 401 });
  // At least 10 s past the limit: the request may reach the product a few seconds after its timestamp was made on a loaded machine.
  const offsets = [6 * 60, 60 * 60, 28 * 3_600, 10 * 365 * 86_400, ...sample(fc.integer({ min: 310, max: 100_000_000 }), 40, 27)];
  for (const ahead of offsets) add('timestamp more than 5 minutes in the future', `+${ahead} s`, (body) => signed(String(nowSeconds() + ahead))(body));
  for (const behind of offsets) add('timestamp more than 5 minutes in the past', `-${behind} s`, (body) => signed(String(nowSeconds() - behind))(body));
  // Header values are bytes: a client cannot send non-Latin-1 digits, so none are tried.
  for (const ts of ['abc', '', ' ', '1e9', '12.5', '-1', '0', '0x10', 'NaN', 'Infinity', '99999999999999999999999', `${nowSeconds()}abc`, `${nowSeconds()}.5`])
    add('timestamp not a number of seconds', JSON.stringify(ts), signed(ts));
  add('no Slack headers', 'unsigned', () => ({}));
  add('no timestamp header', 'signature only', (body) => ({ 'x-slack-signature': signed()(body)['x-slack-signature']! }));
  add('no signature header', 'timestamp only', () => ({ 'x-slack-request-timestamp': String(nowSeconds()) }));
  const forged = (signature: (body: string, ts: string) => string) => (body: string) => {
    const ts = String(nowSeconds());
    return { 'x-slack-request-timestamp': ts, 'x-slack-signature': signature(body, ts) };
  };
  add(
    'forged signature',
    'zeros',
    forged(() => badSignature),
  );
  add(
    'forged signature',
    'another secret',
    forged((body, ts) => sign('not-the-secret', ts, body)),
  );
  add(
    'forged signature',
    'v1 scheme',
    forged((body, ts) => sign(ws.signingSecret, ts, body).replace('v0=', 'v1=')),
  );
  add(
    'forged signature',
    'upper-case hex',
    forged((body, ts) => `v0=${sign(ws.signingSecret, ts, body).slice(3).toUpperCase()}`),
  );
  add(
    'forged signature',
    'truncated',
    forged((body, ts) => sign(ws.signingSecret, ts, body).slice(0, 40)),
  );
  add(
    'forged signature',
    'empty',
    forged(() => ''),
  );
  add(
    'forged signature',
    'another body',
    forged((_body, ts) => sign(ws.signingSecret, ts, goodMention('deploy everything'))),
  );
  add(
    'forged signature',
    'signed with another timestamp',
    forged((body, ts) => sign(ws.signingSecret, String(Number(ts) - 1), body)),
  );
  for (const [i, junk] of sample(
    fc.string({ maxLength: 90 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
    40,
    28,
  ).entries())
    add(
      'forged signature',
      `random #${i}`,
      forged(() => junk),
    );
  return cases;
}

async function send(c: SlackCase): Promise<Verdict> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': c.contentType, ...c.headers(c.body) },
      body: c.body,
      signal: AbortSignal.timeout(15_000),
    });
    const body = await response.text();
    if (response.status !== c.status) return fail(c, `expected ${c.status}, got ${response.status}`);
    if (c.status === 400 && body.trim() === '') return fail(c, '400 without a reason in the body');
    return pass(c);
  } catch (error) {
    return fail(c, `request failed: ${(error as Error).name}`);
  }
}

beforeAll(async () => {
  slack = await startSlackWebApiStandIn();
  const port = await freePort();
  product = await startProductUnderTest(['aggregates', 'slack'], {
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: ws.signingSecret,
    SLACK_API_URL: slack.apiUrl,
    PORT: String(port),
  });
  url = `http://127.0.0.1:${port}/slack/events`;
  sender = slackRequestSender({ url, webApi: slack });
}, 120_000);

afterAll(async () => {
  await product?.stop();
  await slack?.stop();
});

describe('bad requests into the Slack front end', () => {
  it('each is refused (400 or 401), nothing is written, the process lives and still answers a signed mention', async () => {
    const started = Date.now();
    const verdicts: Verdict[] = [];
    const written: string[] = [];
    for (const [name, batch] of [
      ['bodies', badBodies()],
      ['credentials', badCredentials()],
    ] as const) {
      const before = await product.eventCount();
      verdicts.push(...(await inChunks(batch, 32, send)));
      const after = await product.eventCount();
      if (after !== before) written.push(`${name}: ${after - before} event(s) written`);
    }
    const failures = report('Slack HTTP', verdicts, Date.now() - started);
    expect(verdicts.length).toBeGreaterThanOrEqual(700);
    expect(product.unhealthy(), product.role.output().slice(-3_000)).toBeUndefined();
    expect(written).toEqual([]);

    // Still serving: a signed mention is answered in its thread.
    const mention = appMention({ text: 'please juggle the flux capacitor' });
    expect((await sender.postEvent(eventCallback(mention))).status).toBe(200);
    await waitFor('an answer in the thread', () => slack.calls('chat.postMessage').find((c) => c.args.thread_ts === mention.ts), {
      timeoutMs: 20_000,
      context: () => product.role.output().slice(-3_000),
    });
    expect(failures).toEqual([]);
  });
});

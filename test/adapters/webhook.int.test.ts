import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpWebhookSender, MAX_WEBHOOK_BODY_BYTES } from '../../adapters/webhook/http-webhook-sender.ts';
import { signWebhook, verifyWebhookSignature } from '../../adapters/webhook/webhook-signature.ts';
import type { WebhookAttemptOutcome, WebhookRequest } from '../../domain/ports/webhook-sender.ts';

const SECRET = 'whsec-test-4f1c9a7e2b';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** What a receiver does with a delivery: check the signature over the raw bytes. */
const verify = (received: Received, secret = SECRET, nowSeconds?: number) =>
  verifyWebhookSignature({
    secret,
    signature: header(received.headers, 'x-orch-signature'),
    timestamp: header(received.headers, 'x-orch-timestamp'),
    body: received.body,
    ...(nowSeconds === undefined ? {} : { nowSeconds }),
  });

// Whole seconds, so an HTTP-date (second precision) round-trips exactly.
const FIXED_NOW_MS = Math.floor(Date.now() / 1000) * 1000;

type Route = (res: ServerResponse) => void;

const routes: Record<string, Route> = {
  '/ok': (res) => res.writeHead(204).end(),
  '/status/500': (res) => res.writeHead(500).end('boom'),
  '/status/503-date': (res) => res.writeHead(503, { 'retry-after': new Date(FIXED_NOW_MS + 3000).toUTCString() }).end(),
  '/status/404': (res) => res.writeHead(404).end('no such hook'),
  '/status/429': (res) => res.writeHead(429, { 'retry-after': '2' }).end(),
  '/hang': () => undefined,
  '/redirect': (res) => res.writeHead(302, { location: '/elsewhere' }).end(),
  '/elsewhere': (res) => res.writeHead(200).end(),
  '/echo-secret': (res) => res.writeHead(301, `moved ${SECRET}`, { location: `https://evil.example/${SECRET}` }).end(),
  '/echo-secret-500': (res) => res.writeHead(500, `broken ${SECRET}`).end(),
};

let server: Server;
let base: string;
let received: Received[] = [];
const outcomes: WebhookAttemptOutcome[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks) });
      (routes[path] ?? ((r: ServerResponse) => r.writeHead(418).end()))(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  received = [];
});

const result = { taskId: 'task-7', type: 'git-status', summary: 'clean, 2 ahead', files: ['a.ts', 'ü.md'] };

async function send(path: string, overrides: Partial<WebhookRequest> = {}, sender = new HttpWebhookSender({ secret: SECRET })) {
  const outcome = await sender.send({ url: `${base}${path}`, deliveryId: 'dlv-1', attempt: 1, body: result, ...overrides });
  outcomes.push(outcome);
  return outcome;
}

describe('HttpWebhookSender against a real receiver', () => {
  it('delivers a signed POST the receiver verifies, with every header and the JSON body', async () => {
    const sender = new HttpWebhookSender({ secret: SECRET, userAgent: 'orch-test/1' });
    expect(await send('/ok', { deliveryId: 'dlv-42', attempt: 3 }, sender)).toEqual({ delivered: true, status: 204 });

    expect(received).toHaveLength(1);
    const [delivery] = received as [Received];
    expect(verify(delivery)).toEqual({ ok: true });
    expect(delivery.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'orch-test/1',
      'x-orch-delivery': 'dlv-42',
      'x-orch-attempt': '3',
    });
    const timestamp = Number(header(delivery.headers, 'x-orch-timestamp'));
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(5);
    expect(header(delivery.headers, 'x-orch-signature')).toBe(signWebhook(SECRET, timestamp, delivery.body.toString('utf8')));
    expect(JSON.parse(delivery.body.toString('utf8'))).toEqual(result);
  });

  it('fails verification for a tampered body or the wrong secret', async () => {
    await send('/ok');
    const [delivery] = received as [Received];
    const tampered = { ...delivery, body: Buffer.from(delivery.body.toString('utf8').replace('clean', 'dirty')) };
    expect(verify(tampered)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verify(delivery, 'whsec-someone-else')).toEqual({ ok: false, reason: 'mismatch' });
    const moved = { ...delivery, headers: { ...delivery.headers, 'x-orch-timestamp': String(Number(header(delivery.headers, 'x-orch-timestamp')) + 1) } };
    expect(verify(moved)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('fails verification for a timestamp more than five minutes old', async () => {
    const sixMinutesAgo = new HttpWebhookSender({ secret: SECRET, clock: () => Date.now() - 6 * 60_000 });
    expect(await send('/ok', {}, sixMinutesAgo)).toMatchObject({ delivered: true });
    const [delivery] = received as [Received];
    expect(verify(delivery)).toEqual({ ok: false, reason: 'stale' });
    const signedAt = Number(header(delivery.headers, 'x-orch-timestamp'));
    expect(verify(delivery, SECRET, signedAt + 299)).toEqual({ ok: true });
    expect(verify(delivery, SECRET, signedAt - 301)).toEqual({ ok: false, reason: 'stale' });
  });

  it('500 is retryable, with the status', async () => {
    expect(await send('/status/500')).toEqual({
      delivered: false,
      status: 500,
      retryable: true,
      error: 'the receiver could not take it now (HTTP 500 Internal Server Error)',
    });
  });

  it('404 is not retryable', async () => {
    expect(await send('/status/404')).toEqual({ delivered: false, status: 404, retryable: false, error: 'refused by the receiver (HTTP 404 Not Found)' });
  });

  it('429 with Retry-After: 2 gives retryAfterMs 2000', async () => {
    expect(await send('/status/429')).toMatchObject({ delivered: false, status: 429, retryable: true, retryAfterMs: 2000 });
  });

  it('503 with an HTTP-date Retry-After gives the time until then', async () => {
    const sender = new HttpWebhookSender({ secret: SECRET, clock: () => FIXED_NOW_MS });
    expect(await send('/status/503-date', {}, sender)).toMatchObject({ delivered: false, status: 503, retryable: true, retryAfterMs: 3000 });
  });

  it('a receiver that never answers times out, retryable', async () => {
    const impatient = new HttpWebhookSender({ secret: SECRET, timeoutMs: 200 });
    const started = Date.now();
    expect(await send('/hang', {}, impatient)).toEqual({ delivered: false, retryable: true, error: 'no answer within 200 ms' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a closed port is connection refused, retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const outcome = await new HttpWebhookSender({ secret: SECRET }).send({
      url: `http://127.0.0.1:${port}/hook`,
      deliveryId: 'dlv-1',
      attempt: 1,
      body: result,
    });
    outcomes.push(outcome);
    expect(outcome).toEqual({ delivered: false, retryable: true, error: 'connection refused (ECONNREFUSED)' });
  });

  it('a 302 is not retryable and not followed', async () => {
    expect(await send('/redirect')).toEqual({
      delivered: false,
      status: 302,
      retryable: false,
      error: 'redirected (HTTP 302 Found) to /elsewhere; redirects are not followed',
    });
    expect(received.map((r) => r.path)).toEqual(['/redirect']);
  });

  it('refuses a body over 1 MiB before any request reaches the receiver', async () => {
    const big = { log: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES) };
    const outcome = await send('/ok', { body: big });
    expect(outcome).toMatchObject({ delivered: false, retryable: false });
    expect(outcome.delivered === false && outcome.error).toContain('over the 1 MiB');
    expect(outcome).not.toHaveProperty('status');
    expect(received).toHaveLength(0);
  });

  it('refuses what is not a JSON body or not an http(s) URL, without sending', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(await send('/ok', { body: cyclic })).toMatchObject({
      delivered: false,
      retryable: false,
      error: expect.stringContaining('could not be serialized as JSON'),
    });
    expect(await send('/ok', { body: undefined })).toMatchObject({ delivered: false, retryable: false });
    const sender = new HttpWebhookSender({ secret: SECRET });
    for (const url of ['not a url', 'ftp://127.0.0.1/hook', `http://user:${SECRET}@127.0.0.1/hook`]) {
      const outcome = await sender.send({ url, deliveryId: 'dlv-1', attempt: 1, body: result });
      outcomes.push(outcome);
      expect(outcome).toMatchObject({ delivered: false, retryable: false });
    }
    expect(received).toHaveLength(0);
  });

  it('masks the secret where the receiver echoes it', async () => {
    const redirected = await send('/echo-secret');
    expect(redirected).toMatchObject({ delivered: false, status: 301, retryable: false });
    expect(redirected.delivered === false && redirected.error).toBe(
      'redirected (HTTP 301 moved [redacted]) to https://evil.example/[redacted]; redirects are not followed',
    );
    expect(await send('/echo-secret-500')).toMatchObject({
      delivered: false,
      status: 500,
      retryable: true,
      error: 'the receiver could not take it now (HTTP 500 broken [redacted])',
    });
  });

  it('never puts the secret in any outcome', () => {
    expect(outcomes.filter((o) => !o.delivered).length).toBeGreaterThanOrEqual(12);
    for (const outcome of outcomes) expect(JSON.stringify(outcome)).not.toContain(SECRET);
  });
});

describe('verifyWebhookSignature', () => {
  const body = '{"taskId":"task-7"}';
  const now = 1_700_000_000;
  const signature = signWebhook(SECRET, now, body);

  it('accepts the signature made for the same secret, timestamp and body', () => {
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature({ secret: SECRET, signature, timestamp: String(now), body, nowSeconds: now })).toEqual({ ok: true });
    expect(verifyWebhookSignature({ secret: SECRET, signature, timestamp: now, body: Buffer.from(body), nowSeconds: now + 300 })).toEqual({ ok: true });
  });

  it('names what is wrong', () => {
    const check = (overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({ secret: SECRET, signature, timestamp: String(now), body, nowSeconds: now, ...overrides });
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: 'missing-signature' });
    expect(check({ signature: '' })).toEqual({ ok: false, reason: 'missing-signature' });
    expect(check({ timestamp: undefined })).toEqual({ ok: false, reason: 'bad-timestamp' });
    expect(check({ timestamp: '17e8' })).toEqual({ ok: false, reason: 'bad-timestamp' });
    expect(check({ timestamp: -5 })).toEqual({ ok: false, reason: 'bad-timestamp' });
    expect(check({ nowSeconds: now + 301 })).toEqual({ ok: false, reason: 'stale' });
    expect(check({ nowSeconds: now - 301 })).toEqual({ ok: false, reason: 'stale' });
    expect(check({ nowSeconds: now + 301, toleranceSeconds: 600 })).toEqual({ ok: true });
    expect(check({ signature: 'v1=abc' })).toEqual({ ok: false, reason: 'mismatch' });
    expect(check({ signature: signature.replace('v1=', 'v0=') })).toEqual({ ok: false, reason: 'mismatch' });
  });
});

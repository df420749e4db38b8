import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpWebhookSender } from '../../adapters/webhook/http-webhook-sender.ts';
import { verifyWebhookSignature } from '../../adapters/webhook/webhook-signature.ts';

// The webhook sender as a last line of defence (SE4): a body holding a token shape, a known
// secret or the signing secret itself goes out scrubbed, and signed as it was sent.

const SECRET = 'whsec-scrub-test-0a1b2c3d';
const KNOWN = 'configured-bot-password-77';
let server: Server;
let url: string;
const received: { body: string; headers: IncomingMessage['headers'] }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('HttpWebhookSender scrubs bodies', () => {
  it('hides shapes, known values and its own secret, and the signature verifies over what was sent', async () => {
    const sender = new HttpWebhookSender({ secret: SECRET, secretValues: [KNOWN] });
    const body = {
      taskId: 't-1',
      error: { code: 'SalesforceAuthFailed', message: `session 00D5g000004XYZAB!AQ0AQHk3bNUfZr2lPqkq7gMv1xOq refused; pw ${KNOWN}; echo ${SECRET}` },
    };
    expect(await sender.send({ url, deliveryId: 'd-1', attempt: 1, body })).toEqual({ delivered: true, status: 204 });
    const [got] = received;
    expect(JSON.parse(got!.body)).toEqual({
      taskId: 't-1',
      error: { code: 'SalesforceAuthFailed', message: 'session [redacted:salesforce-token] refused; pw [redacted]; echo [redacted]' },
    });
    const verified = verifyWebhookSignature({
      secret: SECRET,
      signature: got!.headers['x-orch-signature'] as string,
      timestamp: got!.headers['x-orch-timestamp'] as string,
      body: got!.body,
    });
    expect(verified.ok).toBe(true);
  });
});

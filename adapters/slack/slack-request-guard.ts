import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HTTPModuleFunctions, verifySlackRequest } from '@slack/bolt';
import type { Logger } from 'pino';
import { checkSlackBody, isSslCheck } from './slack-request-shapes.ts';

// In front of Bolt's HTTPReceiver request listener, on its events endpoint: what Bolt 5 lets
// through and should not. Bolt refuses timestamps older than five minutes but takes any from
// the future (a request signed once could be replayed for as long as its date is ahead), and
// it crashes on a signed `null` body. Here a request is read once (Bolt reuses the buffered
// body), its timestamp held to five minutes either way, its signature checked with Bolt's own
// `verifySlackRequest`, and its body held to the shapes Slack sends; only then does Bolt see it.

/** Slack's documented window, applied both ways. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export interface SlackRequestGuardOptions {
  readonly signingSecret: string;
  readonly endpoint: string;
  readonly logger: Logger;
  /** Bolt's default (4 MB): larger bodies get 413. */
  readonly bodyLimit?: number;
  readonly nowMs?: () => number;
}

type Refusal = { readonly status: 400 | 401 | 413; readonly code: string; readonly message: string };

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** Not a whole number of seconds, or more than five minutes away from now in either direction. */
export function timestampRefusal(value: string | undefined, nowMs: number): Refusal | undefined {
  if (value === undefined) return { status: 401, code: 'Unsigned', message: 'X-Slack-Request-Timestamp is missing' };
  if (!/^\d{1,12}$/.test(value)) return { status: 401, code: 'InvalidTimestamp', message: 'X-Slack-Request-Timestamp is not a number of seconds' };
  const skew = Number(value) - Math.floor(nowMs / 1000);
  if (skew > MAX_CLOCK_SKEW_SECONDS)
    return { status: 401, code: 'TimestampInFuture', message: `the request is dated ${skew} s ahead; at most ${MAX_CLOCK_SKEW_SECONDS} s are allowed` };
  if (skew < -MAX_CLOCK_SKEW_SECONDS)
    return { status: 401, code: 'TimestampTooOld', message: `the request is dated ${-skew} s ago; at most ${MAX_CLOCK_SKEW_SECONDS} s are allowed` };
  return undefined;
}

function respond(res: ServerResponse, refusal: Refusal): void {
  if (res.headersSent) return;
  res.writeHead(refusal.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: refusal.code, message: refusal.message }));
}

async function refusalOf(req: IncomingMessage, options: SlackRequestGuardOptions): Promise<Refusal | undefined> {
  let raw: string;
  try {
    raw = (await HTTPModuleFunctions.bufferIncomingMessage(req, options.bodyLimit ?? HTTPModuleFunctions.defaultBodyLimit)).rawBody.toString();
  } catch (error) {
    if (HTTPModuleFunctions.isRawBodyError(error) && error.statusCode === 413)
      return { status: 413, code: 'BodyTooLarge', message: 'the body is larger than Slack sends' };
    return { status: 400, code: 'BodyUnreadable', message: 'the body could not be read' };
  }
  const contentType = header(req, 'content-type');
  // Bolt answers Slack's unsigned probe itself, dropping anything else in the body.
  if (isSslCheck(raw, contentType)) return undefined;
  const timestamp = header(req, 'x-slack-request-timestamp');
  const nowMs = (options.nowMs ?? Date.now)();
  const late = timestampRefusal(timestamp, nowMs);
  if (late) return late;
  try {
    verifySlackRequest({
      signingSecret: options.signingSecret,
      body: raw,
      headers: { 'x-slack-signature': header(req, 'x-slack-signature') ?? '', 'x-slack-request-timestamp': Number(timestamp) },
      nowMilliseconds: nowMs,
    });
  } catch {
    return { status: 401, code: 'BadSignature', message: 'the signature does not match' };
  }
  const shape = checkSlackBody(raw, contentType);
  return shape ? { status: 400, ...shape } : undefined;
}

/** Bolt's listener behind the checks above, for its events endpoint; other paths go straight to Bolt. */
export function guardSlackRequests(bolt: RequestListener, options: SlackRequestGuardOptions): RequestListener {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    // Anything else (404s, custom routes) is Bolt's, thrown synchronously to its dispatch handler.
    if (path !== options.endpoint || req.method?.toUpperCase() !== 'POST') return bolt(req, res);
    void refusalOf(req, options)
      .then((refusal) => {
        if (!refusal) return bolt(req, res);
        options.logger.warn({ status: refusal.status, reason: refusal.code, detail: refusal.message }, 'Slack request refused');
        respond(res, refusal);
      })
      .catch((error: unknown) => {
        options.logger.error({ err: error }, 'Slack request failed before Bolt took it');
        respond(res, { status: 400, code: 'BadRequest', message: 'the request could not be handled' });
      });
  };
}

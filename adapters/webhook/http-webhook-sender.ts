import type { WebhookAttemptOutcome, WebhookRequest, WebhookSender } from '../../domain/ports/webhook-sender.ts';
import { scrubValueWith, secretScrubber, type Scrub } from '../../domain/secrets/scrub-secrets.ts';
import { signWebhook } from './webhook-signature.ts';

// One delivery attempt: a signed JSON POST (headers in webhook-signature.ts). Every failure
// becomes an outcome, none a thrown error. What another attempt could fix is retryable: no
// answer, a dropped connection, 408 / 425 / 429 / 5xx. What it cannot is not: other 4xx, a
// body that is too big or not JSON, a bad URL. Redirects are not followed, because the
// signed body would then go to a place the requester never named; a 3xx is reported with
// where it pointed. Error text is built from the status, the reason phrase, the Location and
// system error codes, and any occurrence of the secret in it is masked (SE4). The body is
// scrubbed before it is signed and sent: known secret values and credential shapes never leave.

export interface HttpWebhookSenderOptions {
  readonly secret: string;
  /** Per attempt, until the response headers arrive. Default 10 seconds. */
  readonly timeoutMs?: number;
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly clock?: () => number;
  readonly userAgent?: string;
  /** Secret values to hide in bodies besides the signing secret (from `secretValuesOf(config)`). */
  readonly secretValues?: readonly string[];
}

export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

const DEFAULT_USER_AGENT = 'slack-orchestrator-webhook/1';

type Failure = Extract<WebhookAttemptOutcome, { delivered: false }>;

const networkFailures: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed for now',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed by the receiver',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
};

const retryableStatus = (status: number): boolean => status === 408 || status === 425 || status === 429 || status >= 500;

/** `Retry-After` as delay-seconds or an HTTP-date; undefined when absent or unreadable. */
function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

const codeOf = (error: unknown): string | undefined => {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Connecting to every address of a host fails as one AggregateError.
  const errors = (error as { errors?: unknown }).errors;
  return Array.isArray(errors) ? errors.map(codeOf).find((c) => c !== undefined) : undefined;
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class HttpWebhookSender implements WebhookSender {
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly clock: () => number;
  private readonly userAgent: string;
  private readonly scrub: Scrub;

  constructor(options: HttpWebhookSenderOptions) {
    if (options.secret === '') throw new Error('HttpWebhookSender needs a signing secret');
    this.secret = options.secret;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.clock = options.clock ?? Date.now;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.scrub = secretScrubber([options.secret, ...(options.secretValues ?? [])]);
  }

  async send(request: WebhookRequest): Promise<WebhookAttemptOutcome> {
    const target = this.checkUrl(request.url);
    if (typeof target !== 'string') return target;
    const body = this.serialize(scrubValueWith(request.body, this.scrub));
    if (typeof body !== 'string') return body;

    const nowMs = this.clock();
    const timestamp = Math.floor(nowMs / 1000);
    let response: Response;
    try {
      response = await fetch(target, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': this.userAgent,
          'x-orch-delivery': request.deliveryId,
          'x-orch-attempt': String(request.attempt),
          'x-orch-timestamp': String(timestamp),
          'x-orch-signature': signWebhook(this.secret, timestamp, body),
        },
        body,
      });
    } catch (error) {
      return this.unreachable(error);
    }
    // Only the status matters; dropping the body frees the connection.
    await response.body?.cancel().catch(() => undefined);
    return this.outcomeOf(response, nowMs);
  }

  private outcomeOf(response: Response, nowMs: number): WebhookAttemptOutcome {
    const { status } = response;
    if (status >= 200 && status < 300) return { delivered: true, status };
    const answered = `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location');
      const where = location === null ? 'without a Location' : `to ${location}`;
      return this.failure(`redirected (${answered}) ${where}; redirects are not followed`, false, status);
    }
    if (!retryableStatus(status)) return this.failure(`refused by the receiver (${answered})`, false, status);
    const after = status === 429 || status === 503 ? retryAfterMs(response.headers.get('retry-after'), nowMs) : undefined;
    return this.failure(`the receiver could not take it now (${answered})`, true, status, after);
  }

  private unreachable(error: unknown): Failure {
    if (error instanceof DOMException && error.name === 'TimeoutError') return this.failure(`no answer within ${this.timeoutMs} ms`, true);
    // fetch reports network trouble as TypeError('fetch failed') with the system error as cause.
    const cause = error instanceof TypeError && error.cause !== undefined ? error.cause : undefined;
    if (cause === undefined) return this.failure(`could not send: ${messageOf(error)}`, false);
    const code = codeOf(cause);
    const known = code === undefined ? undefined : networkFailures[code];
    const text = known ?? messageOf(cause);
    return this.failure(code === undefined ? text : `${text} (${code})`, true);
  }

  private checkUrl(url: string): string | Failure {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return this.failure('the webhook URL is not a valid URL', false);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      return this.failure(`the webhook URL must be http or https, not ${parsed.protocol}`, false);
    if (parsed.username !== '' || parsed.password !== '') return this.failure('the webhook URL must not contain credentials', false);
    return parsed.href;
  }

  private serialize(body: unknown): string | Failure {
    let json: string | undefined;
    try {
      json = JSON.stringify(body);
    } catch (error) {
      return this.failure(`the body could not be serialized as JSON: ${messageOf(error)}`, false);
    }
    if (json === undefined) return this.failure('the body could not be serialized as JSON', false);
    const bytes = Buffer.byteLength(json);
    if (bytes > MAX_WEBHOOK_BODY_BYTES) {
      return this.failure(`the body is ${bytes} bytes as JSON, over the 1 MiB (${MAX_WEBHOOK_BODY_BYTES} bytes) limit; not sent`, false);
    }
    return json;
  }

  private failure(error: string, retryable: boolean, status?: number, retryAfter?: number): Failure {
    const masked = this.scrub(error);
    return {
      delivered: false,
      ...(status === undefined ? {} : { status }),
      error: masked,
      retryable,
      ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
    };
  }
}

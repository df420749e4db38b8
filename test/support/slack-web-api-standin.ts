/**
 * TEST FIXTURE ONLY: a local HTTP server standing in for Slack's Web API, for tests.
 *
 * Built from Slack's documented wire format (docs.slack.dev/apis/web-api): every method is
 * `POST /api/<method>` with an `application/x-www-form-urlencoded`, `application/json` or
 * `multipart/form-data` body; the token comes as `Authorization: Bearer xoxb-...` (or a
 * `token` argument); the answer is HTTP 200 with `{ "ok": true, ... }` or
 * `{ "ok": false, "error": "<code>" }`, and rate limiting is HTTP 429 with `Retry-After:
 * <seconds>`. In form bodies, structured arguments (`blocks`, `attachments`, `files`,
 * `metadata`) are JSON strings, as the docs specify. The real `@slack/web-api` `WebClient`
 * talks to it with `slackApiUrl: standIn.apiUrl`; Bolt with `clientOptions: { slackApiUrl }`.
 *
 * Methods: auth.test, chat.postMessage, chat.update, chat.delete, chat.postEphemeral,
 * reactions.add, conversations.replies, conversations.history, and the three steps of
 * `files.uploadV2` as WebClient performs them (files.getUploadURLExternal, a POST of the
 * bytes to the returned `upload_url`, files.completeUploadExternal). Any other method answers
 * `unknown_method`. It also serves `response_url`s (`standIn.responseUrl(...)`) for slash
 * commands and interactions, honouring `replace_original`, `delete_original` and
 * `response_type`.
 *
 * Every request is recorded (method, parsed arguments, token, time, answer); the two non-API
 * URLs are recorded under the pseudo-methods `upload_url` and `response_url`. What each method
 * does is in slack-standin-methods.ts; what the workspace holds, in slack-standin-messages.ts.
 *
 * What it cannot prove: anything about real Slack beyond this subset: real rate-limit tiers
 * (it limits only when told to), permissions and scopes, channel membership, message length
 * limits, mrkdwn rendering, Block Kit validation, and errors it was not told to produce.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SlackApiError, standInMethods, str, type Answer, type Args, type ResponseTarget } from './slack-standin-methods.ts';
import { StandInMessages, type SlackMessageView, type UploadedFile } from './slack-standin-messages.ts';
import { standInWorkspace } from './slack-workspace.ts';

export type { SlackMessageView, UploadedFile } from './slack-standin-messages.ts';

export interface RecordedCall {
  /** A Web API method name, or `upload_url` / `response_url` for those two URLs. */
  readonly method: string;
  /** The arguments as Slack would parse them (the `token` argument is moved to `token`). */
  readonly args: Readonly<Record<string, unknown>>;
  readonly token: string | undefined;
  readonly contentType: string;
  /** `Date.now()` when the request arrived. */
  readonly at: number;
  readonly status: number;
  readonly response: Readonly<Record<string, unknown>>;
}

export interface SlackWebApiStandIn {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `http://127.0.0.1:<port>/api/`: give this to WebClient as `slackApiUrl`. */
  readonly apiUrl: string;
  /** The one bot token it accepts; anything else is `invalid_auth`. */
  readonly token: string;
  calls(method?: string): RecordedCall[];
  /** Resolves once `count` calls of `method` have been recorded (answered ok or not). */
  waitForCalls(method: string, count?: number, timeoutMs?: number): Promise<RecordedCall[]>;
  /** The thread as Slack shows it: the parent (when known) and its replies, oldest first, latest edits applied. */
  thread(channel: string, threadTs: string): SlackMessageView[];
  /** What the channel shows: top-level messages and broadcast replies, oldest first. */
  channelMessages(channel: string): SlackMessageView[];
  message(channel: string, ts: string): (SlackMessageView & { readonly edits: number }) | undefined;
  ephemerals(channel?: string): { channel: string; user: string; messageTs: string; threadTs?: string; text: string; blocks?: unknown }[];
  file(fileId: string): Readonly<UploadedFile> | undefined;
  /** Puts a message there as if a person had posted it (e.g. the user's own request). */
  seedMessage(message: { channel: string; user: string; text: string; ts?: string; threadTs?: string }): string;
  /** A `response_url` for a slash command or an interaction in `channel` (from message `messageTs`). */
  responseUrl(target: { channel: string; user: string; messageTs?: string; threadTs?: string }): string;
  /** The next `count` calls (of `method`, or of any method) get HTTP 429 with `Retry-After`. */
  rateLimitNext(count: number, options?: { method?: string; retryAfterSeconds?: number; where?: (args: Readonly<Record<string, unknown>>) => boolean }): void;
  /** The next `count` calls of `method` answer `{ ok: false, error }`. */
  failNext(method: string, error: string, count?: number): void;
  /**
   * The next `count` calls of `method` matching `where` are carried out and recorded, but their
   * HTTP answers are withheld until `release()` (as when the connection drops after Slack
   * stored the message): what a crash between posting and recording the post looks like.
   */
  withholdAnswers(method: string, options?: { count?: number; where?: (args: Readonly<Record<string, unknown>>) => boolean }): { release(): void };
  /** Forgets calls, messages, files and pending faults. */
  reset(): void;
  stop(): Promise<void>;
}

interface HttpAnswer {
  readonly status: number;
  readonly body: Answer | string;
  readonly headers?: Record<string, string>;
}

/** Arguments the docs define as JSON-encoded strings when sent in a form body. */
const JSON_ARGUMENTS = new Set(['blocks', 'attachments', 'files', 'metadata']);

function parseFormValue(key: string, value: string): unknown {
  if (!JSON_ARGUMENTS.has(key)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses a body the way Slack accepts it; multipart goes through the WHATWG parser Node ships. */
async function parseArgs(contentType: string, body: Buffer, query: URLSearchParams): Promise<Args> {
  const args: Args = {};
  for (const [key, value] of query) args[key] = parseFormValue(key, value);
  if (body.length === 0) return args;
  if (contentType.startsWith('application/json')) return { ...args, ...(JSON.parse(body.toString('utf8')) as Args) };
  if (contentType.startsWith('multipart/form-data')) {
    const form = await new Request('http://standin/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
    for (const [key, value] of form) args[key] = typeof value === 'string' ? parseFormValue(key, value) : Buffer.from(await value.arrayBuffer());
    return args;
  }
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) args[key] = parseFormValue(key, value);
  return args;
}

export async function startSlackWebApiStandIn(options: { token?: string } = {}): Promise<SlackWebApiStandIn> {
  const ws = standInWorkspace;
  const token = options.token ?? ws.botToken;
  const store = new StandInMessages();
  const recorded: RecordedCall[] = [];
  const rateLimits: { method: string | undefined; retryAfterSeconds: number; remaining: number; where: (args: Args) => boolean }[] = [];
  const failures: { method: string; error: string; remaining: number }[] = [];
  const withheld: { method: string; where: (args: Args) => boolean; remaining: number; released: Promise<void> }[] = [];
  const responseTargets = new Map<string, ResponseTarget>();
  let responseCounter = 0;
  let baseUrl = '';
  const { methods, respond } = standInMethods(store, (fileId) => `${baseUrl}/upload/v1/${fileId}`);

  const take = <T extends { remaining: number }>(rules: T[], matches: (rule: T) => boolean): T | undefined => {
    const rule = rules.find((r) => r.remaining > 0 && matches(r));
    if (rule) rule.remaining -= 1;
    return rule;
  };

  function answerApi(method: string, args: Args, callToken: string | undefined): HttpAnswer {
    const limited = take(rateLimits, (r) => (r.method === undefined || r.method === method) && r.where(args));
    if (limited) return { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': String(limited.retryAfterSeconds) } };
    const handler = methods[method];
    if (handler === undefined) return { status: 200, body: { ok: false, error: 'unknown_method', req_method: method } };
    if (callToken === undefined) return { status: 200, body: { ok: false, error: 'not_authed' } };
    if (callToken !== token) return { status: 200, body: { ok: false, error: 'invalid_auth' } };
    const failure = take(failures, (r) => r.method === method);
    if (failure) return { status: 200, body: { ok: false, error: failure.error } };
    try {
      return { status: 200, body: { ok: true, ...handler(args) } };
    } catch (error) {
      if (error instanceof SlackApiError) return { status: 200, body: { ok: false, error: error.code } };
      throw error;
    }
  }

  function answerResponseUrl(key: string, args: Args): HttpAnswer {
    const target = responseTargets.get(key);
    if (target === undefined) return { status: 404, body: { ok: false, error: 'expired_url' } };
    respond(target, args);
    return { status: 200, body: { ok: true } };
  }

  function answerUpload(fileId: string, args: Args, raw: Buffer): HttpAnswer {
    const file = store.files.get(fileId);
    if (file === undefined) return { status: 404, body: 'Not Found' };
    // WebClient sends the bytes as a multipart field; curl-style clients send them raw.
    const field = Object.values(args).find((v): v is Buffer => Buffer.isBuffer(v));
    file.bytes = field ?? raw;
    return { status: 200, body: `OK - ${file.bytes.length}` };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const contentType = req.headers['content-type'] ?? '';
    const raw = await readBody(req);
    const { token: argToken, ...args } = await parseArgs(contentType, raw, url.searchParams);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const callToken = bearer ?? str(argToken);

    let method: string;
    let answer: HttpAnswer;
    let recordedArgs: Args = args;
    if (url.pathname.startsWith('/api/')) {
      method = url.pathname.slice('/api/'.length);
      answer = answerApi(method, args, callToken);
    } else if (url.pathname.startsWith('/upload/v1/')) {
      method = 'upload_url';
      const fileId = url.pathname.slice('/upload/v1/'.length);
      answer = answerUpload(fileId, args, raw);
      // The bytes themselves are kept on the file (`standIn.file(id)`), not in the call log.
      recordedArgs = { file_id: fileId, bytes: store.files.get(fileId)?.bytes?.length ?? 0 };
    } else if (url.pathname.startsWith('/respond/')) {
      method = 'response_url';
      answer = answerResponseUrl(url.pathname.slice('/respond/'.length), args);
    } else {
      res.writeHead(404).end();
      return;
    }
    const response = typeof answer.body === 'string' ? { text: answer.body } : answer.body;
    recorded.push({ method, args: recordedArgs, token: callToken, contentType, at, status: answer.status, response });
    const hold = take(withheld, (h) => h.method === method && h.where(args));
    if (hold) await hold.released;
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      ...answer.headers,
    });
    res.end(text);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A malformed body is the caller's bug; answer the way Slack does rather than hang.
      if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: 'invalid_request', detail: String(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const calls = (method?: string): RecordedCall[] => (method === undefined ? [...recorded] : recorded.filter((c) => c.method === method));

  return {
    url: baseUrl,
    apiUrl: `${baseUrl}/api/`,
    token,
    calls,
    async waitForCalls(method, count = 1, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (calls(method).length < count) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} ${method} call(s); got ${calls(method).length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return calls(method);
    },
    thread: (channel, threadTs) => store.thread(channel, threadTs).map((m) => store.view(m)),
    channelMessages: (channel) => store.channel(channel).map((m) => store.view(m)),
    message(channel, ts) {
      const message = store.find(channel, ts);
      return message === undefined ? undefined : { ...store.view(message), edits: message.edits };
    },
    ephemerals: (channel) => store.ephemerals.filter((e) => channel === undefined || e.channel === channel).map((e) => ({ ...e })),
    file: (fileId) => store.files.get(fileId),
    seedMessage: ({ channel, user, text, ts, threadTs }) =>
      store.post({ channel, user, text, ...(ts !== undefined ? { ts } : {}), ...(threadTs !== undefined ? { threadTs } : {}) }).ts,
    responseUrl(target) {
      responseCounter += 1;
      const key = `${ws.teamId}/${responseCounter}/${Math.random().toString(36).slice(2, 10)}`;
      responseTargets.set(key, { ...target });
      return `${baseUrl}/respond/${key}`;
    },
    rateLimitNext(count, { method, retryAfterSeconds = 1, where = () => true } = {}) {
      rateLimits.push({ method, retryAfterSeconds, remaining: count, where });
    },
    failNext(method, error, count = 1) {
      failures.push({ method, error, remaining: count });
    },
    withholdAnswers(method, { count = 1, where = () => true } = {}) {
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      withheld.push({ method, where, remaining: count, released });
      return { release };
    },
    reset() {
      recorded.length = 0;
      withheld.length = 0;
      rateLimits.length = 0;
      failures.length = 0;
      responseTargets.clear();
      store.clear();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

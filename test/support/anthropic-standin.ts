/**
 * TEST FIXTURE ONLY: a local HTTP server standing in for Anthropic's Messages API, for tests.
 *
 * Built from Anthropic's documented wire format (docs.anthropic.com, "Messages" and "Errors"):
 * `POST /v1/messages` with the key in `x-api-key` and an `anthropic-version` header (the
 * installed @anthropic-ai/sdk 1.x sends the key as `Authorization: Bearer <key>` instead, so
 * both are accepted and `credentialHeader` records which came); a JSON
 * body with `model`, `max_tokens`, `messages` (role `user` / `assistant`, content a string or
 * content blocks), optional `system`, `tools` (`name`, `description`, `input_schema` with
 * `type: "object"`) and `tool_choice` (`auto` / `any` / `none` / `tool` with `name`). The
 * answer is `{ id, type: "message", role: "assistant", model, content, stop_reason,
 * stop_sequence, usage: { input_tokens, output_tokens } }` with content `tool_use` blocks
 * (`id`, `name`, `input`) or `text` blocks; errors are `{ type: "error", error: { type,
 * message } }` with the documented statuses (400 invalid_request_error, 401
 * authentication_error, 404 not_found_error, 429 rate_limit_error with `retry-after`, 500
 * api_error, 529 overloaded_error). Like the API, it refuses a `tool_result` block whose
 * `tool_use_id` is not a `tool_use` of the assistant turn just before it.
 *
 * Answers are scripted: each request takes the next one from a queue (a tool call with a given
 * input, text, or an error), so a test decides what "the model" says. With nothing queued it
 * answers 500 with `x-should-retry: false`, so a missing script fails fast instead of being
 * retried. Every request is recorded (headers, parsed body, status, answer). The real
 * `@anthropic-ai/sdk` client talks to it with `baseURL: standIn.url`.
 *
 * What it cannot prove: anything about the real models (what they answer, how well they follow
 * a schema), token counting (usage is scripted or estimated at ~4 characters a token), real
 * rate limits, streaming, and any part of the API beyond the subset above.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedUsage {
  readonly input_tokens: number;
  readonly output_tokens: number;
}

export type ScriptedAnswer =
  | {
      readonly kind: 'toolUse';
      readonly input: unknown;
      readonly name?: string;
      readonly usage?: ScriptedUsage;
      readonly stopReason?: 'tool_use' | 'max_tokens';
    }
  | { readonly kind: 'text'; readonly text: string; readonly usage?: ScriptedUsage; readonly stopReason?: 'end_turn' | 'max_tokens' | 'refusal' }
  | { readonly kind: 'error'; readonly status: number; readonly type: string; readonly message: string; readonly headers?: Readonly<Record<string, string>> };

/** Builders for the answers tests script most. */
export const answers = {
  /** A tool call; the tool's name defaults to the one `tool_choice` forces. */
  toolUse: (input: unknown, options: { name?: string; usage?: ScriptedUsage; stopReason?: 'tool_use' | 'max_tokens' } = {}): ScriptedAnswer => ({
    kind: 'toolUse',
    input,
    ...options,
  }),
  text: (text: string, options: { usage?: ScriptedUsage; stopReason?: 'end_turn' | 'max_tokens' | 'refusal' } = {}): ScriptedAnswer => ({
    kind: 'text',
    text,
    ...options,
  }),
  rateLimited: (retryAfterSeconds = 1): ScriptedAnswer => ({
    kind: 'error',
    status: 429,
    type: 'rate_limit_error',
    message: 'Number of request tokens has exceeded your per-minute rate limit',
    headers: { 'retry-after': String(retryAfterSeconds) },
  }),
  overloaded: (): ScriptedAnswer => ({ kind: 'error', status: 529, type: 'overloaded_error', message: 'Overloaded' }),
  error: (status: number, type: string, message: string): ScriptedAnswer => ({ kind: 'error', status, type, message }),
};

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** The key as sent, from `x-api-key` or `Authorization: Bearer`. */
  readonly apiKey: string | undefined;
  readonly credentialHeader: 'x-api-key' | 'authorization' | undefined;
  readonly anthropicVersion: string | undefined;
  /** The parsed JSON body (or undefined when it did not parse). */
  readonly body: MessagesRequest | undefined;
  readonly status: number;
  readonly response: unknown;
}

/** The request fields the stand-in reads; anything else is recorded as sent. */
export interface MessagesRequest {
  readonly model?: unknown;
  readonly max_tokens?: unknown;
  readonly system?: unknown;
  readonly messages?: unknown;
  readonly tools?: unknown;
  readonly tool_choice?: unknown;
  readonly [field: string]: unknown;
}

export interface AnthropicStandIn {
  /** `http://127.0.0.1:<port>`: give this to the SDK as `baseURL`. */
  readonly url: string;
  /** The one key it accepts; anything else is 401 authentication_error. */
  readonly apiKey: string;
  /** Queues answers, each for one request, in order. */
  enqueue(...answers: ScriptedAnswer[]): void;
  /** Queues the same answer `times` times (e.g. 529 for every retry). */
  enqueueRepeated(answer: ScriptedAnswer, times: number): void;
  /** Answers still queued. */
  pending(): number;
  requests(): RecordedRequest[];
  /** Forgets requests and queued answers. */
  reset(): void;
  stop(): Promise<void>;
}

interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

const errorAnswer = (status: number, type: string, message: string, headers?: Readonly<Record<string, string>>): HttpAnswer => ({
  status,
  body: { type: 'error', error: { type, message } },
  ...(headers && { headers }),
});
const invalid = (message: string): HttpAnswer => errorAnswer(400, 'invalid_request_error', message);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const blocksOf = (content: unknown): Record<string, unknown>[] => (Array.isArray(content) ? content.filter(isObject) : []);

/** The documented request checks, in the order the API reports them; undefined when the request is well-formed. */
function checkRequest(body: MessagesRequest): HttpAnswer | undefined {
  if (typeof body.model !== 'string' || body.model === '') return invalid('model: Field required');
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) return invalid('max_tokens: Field required (a positive integer)');
  if (!Array.isArray(body.messages) || body.messages.length === 0) return invalid('messages: at least one message is required');
  const messages = body.messages as unknown[];
  for (const [i, message] of messages.entries()) {
    if (!isObject(message) || (message.role !== 'user' && message.role !== 'assistant'))
      return invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    if (typeof message.content !== 'string' && !Array.isArray(message.content))
      return invalid(`messages.${i}.content: Input should be a string or a list of content blocks`);
    const results = blocksOf(message.content).filter((b) => b.type === 'tool_result');
    if (results.length === 0) continue;
    const previous = messages[i - 1];
    const toolUseIds = new Set(
      isObject(previous) && previous.role === 'assistant'
        ? blocksOf(previous.content)
            .filter((b) => b.type === 'tool_use')
            .map((b) => b.id)
        : [],
    );
    const orphan = results.find((r) => !toolUseIds.has(r.tool_use_id));
    if (orphan)
      return invalid(
        `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(orphan.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
      );
  }
  const tools = body.tools === undefined ? [] : body.tools;
  if (!Array.isArray(tools)) return invalid('tools: Input should be a valid list');
  for (const [i, tool] of tools.entries()) {
    if (!isObject(tool) || typeof tool.name !== 'string') return invalid(`tools.${i}.name: Field required`);
    if (!isObject(tool.input_schema) || tool.input_schema.type !== 'object') return invalid(`tools.${i}.input_schema.type: Input should be 'object'`);
  }
  if (body.tool_choice !== undefined) {
    const choice = body.tool_choice;
    if (!isObject(choice) || !['auto', 'any', 'tool', 'none'].includes(String(choice.type)))
      return invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
    if (choice.type === 'tool' && !tools.some((t) => isObject(t) && t.name === choice.name))
      return invalid(`tool_choice.name: no tool named ${JSON.stringify(choice.name)} in tools`);
  }
  return undefined;
}

const estimateTokens = (value: unknown): number => Math.max(1, Math.ceil(JSON.stringify(value).length / 4));

export async function startAnthropicStandIn(options: { apiKey?: string } = {}): Promise<AnthropicStandIn> {
  const apiKey = options.apiKey ?? 'sk-ant-standin-0000000000000000';
  const queue: ScriptedAnswer[] = [];
  const recorded: RecordedRequest[] = [];
  let counter = 0;

  function answerMessages(body: MessagesRequest): HttpAnswer {
    const refused = checkRequest(body);
    if (refused) return refused;
    const scripted = queue.shift();
    if (scripted === undefined)
      return { ...errorAnswer(500, 'api_error', 'stand-in: no scripted answer left for this request'), headers: { 'x-should-retry': 'false' } };
    if (scripted.kind === 'error') return errorAnswer(scripted.status, scripted.type, scripted.message, scripted.headers);
    counter += 1;
    const forced = isObject(body.tool_choice) && body.tool_choice.type === 'tool' ? String(body.tool_choice.name) : undefined;
    const content =
      scripted.kind === 'toolUse'
        ? [{ type: 'tool_use', id: `toolu_standin_${counter}`, name: scripted.name ?? forced ?? 'tool', input: scripted.input }]
        : [{ type: 'text', text: scripted.text }];
    return {
      status: 200,
      body: {
        id: `msg_standin_${counter}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content,
        stop_reason: scripted.stopReason ?? (scripted.kind === 'toolUse' ? 'tool_use' : 'end_turn'),
        stop_sequence: null,
        usage: scripted.usage ?? { input_tokens: estimateTokens(body), output_tokens: estimateTokens(content) },
      },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const xApiKey = req.headers['x-api-key'];
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const key = typeof xApiKey === 'string' ? xApiKey : bearer;
    const version = req.headers['anthropic-version'];
    let body: MessagesRequest | undefined;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as MessagesRequest;
    } catch {
      body = undefined;
    }

    let answer: HttpAnswer;
    if (req.method !== 'POST' || path !== '/v1/messages') answer = errorAnswer(404, 'not_found_error', `Not found: ${req.method} ${path}`);
    else if (key !== apiKey) answer = errorAnswer(401, 'authentication_error', 'invalid x-api-key');
    else if (typeof version !== 'string' || version === '') answer = invalid('anthropic-version: header is required');
    else if (!isObject(body)) answer = invalid('There was an error parsing the body of your request as JSON');
    else answer = answerMessages(body);

    recorded.push({
      method: req.method ?? '',
      path,
      apiKey: key,
      credentialHeader: typeof xApiKey === 'string' ? 'x-api-key' : bearer !== undefined ? 'authorization' : undefined,
      anthropicVersion: typeof version === 'string' ? version : undefined,
      body,
      status: answer.status,
      response: answer.body,
    });
    res.writeHead(answer.status, { 'content-type': 'application/json', 'request-id': `req_standin_${recorded.length}`, ...answer.headers });
    res.end(JSON.stringify(answer.body));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', 'x-should-retry': 'false' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: `stand-in failure: ${String(error)}` } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    apiKey,
    enqueue: (...answers) => void queue.push(...answers),
    enqueueRepeated: (answer, times) => void queue.push(...Array.from({ length: times }, () => answer)),
    pending: () => queue.length,
    requests: () => [...recorded],
    reset() {
      queue.length = 0;
      recorded.length = 0;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

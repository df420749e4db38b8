// Self-test of the Anthropic Messages API stand-in (test fixture): the real @anthropic-ai/sdk
// client talks to it over HTTP, so these assertions pin down the wire behaviour the planner's
// tests rely on (headers, tool calls, error shapes, 429 + retry-after, 529). It proves nothing
// about the real API or models.
import Anthropic, { AuthenticationError, BadRequestError, InternalServerError, OverloadedError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answers, startAnthropicStandIn, type AnthropicStandIn } from './anthropic-standin.ts';

let api: AnthropicStandIn;

const client = (options: { apiKey?: string; maxRetries?: number } = {}) =>
  new Anthropic({ apiKey: options.apiKey ?? api.apiKey, baseURL: api.url, maxRetries: options.maxRetries ?? 0, logLevel: 'off' });

const tool: Anthropic.Tool = {
  name: 'submit_plan',
  description: 'Submit the plan.',
  input_schema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] },
};
const request = (extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Anthropic.MessageCreateParamsNonStreaming => ({
  model: 'claude-sonnet-test',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'plan something' }],
  tools: [tool],
  tool_choice: { type: 'tool', name: 'submit_plan' },
  ...extra,
});

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.fail('expected the call to fail'),
    (error: unknown) => error,
  );
}

beforeAll(async () => {
  api = await startAnthropicStandIn();
});
afterAll(async () => {
  await api.stop();
});
beforeEach(() => api.reset());

describe('messages', () => {
  it('answers with the scripted tool call, named after the forced tool, and records the request', async () => {
    api.enqueue(answers.toolUse({ summary: 'x' }, { usage: { input_tokens: 120, output_tokens: 30 } }));
    const message = await client().messages.create(request());
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-test',
      stop_reason: 'tool_use',
      content: [{ type: 'tool_use', name: 'submit_plan', input: { summary: 'x' } }],
      usage: { input_tokens: 120, output_tokens: 30 },
    });
    const [recorded] = api.requests();
    expect(recorded).toMatchObject({ method: 'POST', path: '/v1/messages', apiKey: api.apiKey, status: 200 });
    expect(recorded?.credentialHeader).toBeDefined();
    expect(recorded?.anthropicVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(recorded?.body).toMatchObject({ model: 'claude-sonnet-test', max_tokens: 1024, tools: [tool], tool_choice: { type: 'tool', name: 'submit_plan' } });
  });

  it('answers text, estimating usage when none is scripted', async () => {
    api.enqueue(answers.text('I would rather not.'));
    const message = await client().messages.create(request({ tools: undefined, tool_choice: undefined }));
    expect(message.content).toEqual([{ type: 'text', text: 'I would rather not.' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
  });

  it('accepts a tool_result answering the previous tool_use, and refuses one that does not', async () => {
    api.enqueue(answers.toolUse({ summary: 'x' }), answers.toolUse({ summary: 'y' }));
    const first = await client().messages.create(request());
    const toolUse = first.content[0] as Anthropic.ToolUseBlock;
    const followUp = (id: string) =>
      request({
        messages: [
          { role: 'user', content: 'plan something' },
          { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, is_error: true, content: 'fix it' }] },
        ],
      });
    await expect(client().messages.create(followUp(toolUse.id))).resolves.toMatchObject({ content: [{ input: { summary: 'y' } }] });
    const error = await failure(client().messages.create(followUp('toolu_unknown')));
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).type).toBe('invalid_request_error');
  });
});

describe('errors in the documented shape', () => {
  it('401 authentication_error for a wrong key', async () => {
    const error = await failure(client({ apiKey: 'sk-ant-wrong' }).messages.create(request()));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(api.requests()[0]?.response).toEqual({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  });

  it('400 for a request without max_tokens, or forcing a tool it did not send', async () => {
    await expect(failure(client().messages.create({ ...request(), max_tokens: 0 }))).resolves.toBeInstanceOf(BadRequestError);
    await expect(failure(client().messages.create(request({ tool_choice: { type: 'tool', name: 'other' } })))).resolves.toBeInstanceOf(BadRequestError);
  });

  it('takes the key from the documented x-api-key header too', async () => {
    api.enqueue(answers.text('ok'));
    const response = await fetch(`${api.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': api.apiKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify(request()),
    });
    expect(response.status).toBe(200);
    expect(api.requests()[0]).toMatchObject({ credentialHeader: 'x-api-key', anthropicVersion: '2023-06-01' });
  });

  it('400 without the anthropic-version header', async () => {
    const response = await fetch(`${api.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': api.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(request()),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('529 overloaded_error, retried by the SDK as many times as it is told', async () => {
    api.enqueueRepeated(answers.overloaded(), 3);
    const error = await failure(client({ maxRetries: 2 }).messages.create(request()));
    expect(error).toBeInstanceOf(OverloadedError);
    expect(error).toMatchObject({ status: 529, type: 'overloaded_error' });
    expect(api.requests().map((r) => r.status)).toEqual([529, 529, 529]);
  });

  it('429 with retry-after, which the SDK waits for before its retry', async () => {
    api.enqueue(answers.rateLimited(1), answers.toolUse({ summary: 'x' }));
    const started = Date.now();
    await client({ maxRetries: 1 }).messages.create(request());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(api.requests().map((r) => r.status)).toEqual([429, 200]);
  });

  it('500 that is not retried when nothing is scripted', async () => {
    const error = await failure(client({ maxRetries: 3 }).messages.create(request()));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(api.requests()).toHaveLength(1);
  });
});

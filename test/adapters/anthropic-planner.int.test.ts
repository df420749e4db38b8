// The Anthropic planner through the real @anthropic-ai/sdk client, against the Messages API
// stand-in (test/support/anthropic-standin.ts) on a local port: model choice, the forced plan
// tool, validation with one repair, usage and cost, retries and the errors that follow them.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLeft, isRight, type Either } from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicPlanner, type AnthropicPlannerOptions } from '../../adapters/anthropic/anthropic-planner.ts';
import { planInputSchema } from '../../adapters/anthropic/plan-tool.ts';
import type { Plan } from '../../domain/plan/index.ts';
import type { Planner, PlannerError, PlanningContext, ProducedPlan } from '../../domain/ports/planner.ts';
import { answers, startAnthropicStandIn, type AnthropicStandIn, type MessagesRequest } from '../support/anthropic-standin.ts';
import { registry, statusPlan, testsThenDeploy } from '../support/plan-fixtures.ts';

// ── fixtures ────────────────────────────────────────────────────────────────
const SECRET = 'sk-ant-standin-SECRET-5f1e2d3c4b5a69788796a5b4c3d2e1f0';
const SONNET = { model: 'claude-sonnet-test', price: { inputUsdPerMillion: 3, outputUsdPerMillion: 15 } };
const OPUS = { model: 'claude-opus-test', price: { inputUsdPerMillion: 5, outputUsdPerMillion: 25 } };
const thread: PlanningContext = { variables: { currentRepo: 'acme' } };
const usage = (input_tokens: number, output_tokens: number) => ({ usage: { input_tokens, output_tokens } });

let api: AnthropicStandIn;
let planner: Planner;

const plannerFor = (overrides: Partial<AnthropicPlannerOptions> = {}): Planner =>
  anthropicPlanner({ apiKey: SECRET, baseUrl: api.url, models: { simple: SONNET, complex: OPUS }, registry, maxRetries: 2, ...overrides });

function planned(result: Either<PlannerError, ProducedPlan>): ProducedPlan {
  if (isLeft(result)) expect.fail(`expected a plan, got ${result.left.code}: ${result.left.message}`);
  return result.right;
}
function failed(result: Either<PlannerError, ProducedPlan>): PlannerError {
  if (isRight(result)) expect.fail(`expected an error, got a plan: ${result.right.plan.summary}`);
  return result.left;
}
const bodies = (): MessagesRequest[] => api.requests().map((r) => r.body ?? {});
type Turn = { role: string; content: unknown };
const turns = (body: MessagesRequest | undefined): Turn[] => (body?.messages ?? []) as Turn[];

/** A plan naming an unregistered task type and an absolute path: two issues. */
const invalidPlan = (): Plan => ({
  ...statusPlan(),
  phases: [{ name: 'Bad', steps: [{ kind: 'task', id: 'wipe', taskType: 'rm-rf', params: { repository: '/etc' }, why: 'no' }] }],
});

beforeAll(async () => {
  api = await startAnthropicStandIn({ apiKey: SECRET });
  planner = plannerFor();
});
afterAll(async () => {
  await api.stop();
});
beforeEach(() => api.reset());

// ── a valid plan ────────────────────────────────────────────────────────────
describe('a valid plan', () => {
  it('plans a simple request with the cheaper model and prices its tokens', async () => {
    api.enqueue(answers.toolUse(statusPlan(), usage(1_000, 200)));
    const produced = planned(await planner.plan('git status of acme', thread));
    expect(produced).toEqual({ plan: statusPlan(), model: SONNET.model, usage: { inputTokens: 1_000, outputTokens: 200 }, costUsd: 0.006 });
    expect(bodies()[0]).toMatchObject({ model: SONNET.model, tool_choice: { type: 'tool', name: 'submit_plan' } });
  });

  it('plans a complex request with the stronger model', async () => {
    api.enqueue(answers.toolUse(testsThenDeploy(), usage(2_000, 1_000)));
    const produced = planned(await planner.plan('deploy my changes, test everything first', thread));
    expect(produced).toMatchObject({ plan: testsThenDeploy(), model: OPUS.model, costUsd: 0.035 });
    expect(bodies()[0]?.model).toBe(OPUS.model);
  });

  it("sends the plan's JSON Schema as the tool's input schema, forced, with the registry in the system prompt", async () => {
    api.enqueue(answers.toolUse(statusPlan()));
    planned(await planner.plan('git status of acme', thread));
    const [body] = bodies();
    expect(body?.tools).toEqual([{ name: 'submit_plan', description: expect.any(String), input_schema: planInputSchema() }]);
    expect(planInputSchema()).toMatchObject({
      type: 'object',
      required: ['summary', 'complexity', 'phases', 'estimate'],
      $defs: { PlanStep: { oneOf: expect.any(Array) } },
    });
    for (const taskType of ['git-status', 'run-tests', 'sf-deploy']) expect(String(body?.system)).toContain(taskType);
    expect(String(body?.system)).toContain('sf-deploy (has side effects');
    expect(turns(body)).toEqual([{ role: 'user', content: expect.stringContaining('git status of acme') }]);
    expect(turns(body)[0]?.content).toContain('"currentRepo":"acme"');
  });

  it('rides out a 429 with retry-after through the SDK retry', async () => {
    api.enqueue(answers.rateLimited(1), answers.toolUse(statusPlan()));
    planned(await planner.plan('git status of acme', thread));
    expect(api.requests().map((r) => r.status)).toEqual([429, 200]);
  });
});

// ── repair ──────────────────────────────────────────────────────────────────
describe('an invalid plan gets one repair attempt', () => {
  it('sends the problems back as the tool call’s error result, then takes the corrected plan', async () => {
    api.enqueue(answers.toolUse(invalidPlan(), usage(1_000, 100)), answers.toolUse(statusPlan(), usage(1_500, 200)));
    const produced = planned(await planner.plan('git status of acme', thread));
    expect(produced).toMatchObject({ plan: statusPlan(), model: SONNET.model, usage: { inputTokens: 2_500, outputTokens: 300 }, costUsd: 0.012 });

    const [first, repair] = bodies();
    expect(repair?.model).toBe(first?.model);
    const [asked, answered, problems] = turns(repair);
    expect(asked).toEqual(turns(first)[0]);
    const firstCall = (api.requests()[0]?.response as { content: { id: string }[] }).content[0]!;
    expect(answered).toEqual({ role: 'assistant', content: [{ type: 'tool_use', id: firstCall.id, name: 'submit_plan', input: invalidPlan() }] });
    expect(problems).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: firstCall.id, is_error: true, content: expect.any(String) }] });
    const sent = (problems?.content as { content: string }[])[0]!.content;
    expect(sent).toContain('UnknownTaskType: step wipe: "rm-rf" is not a registered task type');
    expect(sent).toContain('PathEscapesWorkspace: step wipe: params.repository = "/etc"');
  });

  it('asks again in plain text when the answer called no tool', async () => {
    api.enqueue(answers.text('Here is my plan: ...'), answers.toolUse(statusPlan()));
    planned(await planner.plan('git status of acme', thread));
    expect(turns(bodies()[1]).slice(1)).toEqual([
      { role: 'assistant', content: [{ type: 'text', text: 'Here is my plan: ...' }] },
      { role: 'user', content: expect.stringContaining('did not call submit_plan') },
    ]);
  });

  it('PlannerOutputInvalid when the repaired plan is still invalid, with the cost of both calls', async () => {
    api.enqueue(answers.toolUse(invalidPlan(), usage(1_000, 100)), answers.toolUse({ summary: 'still wrong' }, usage(1_000, 100)));
    const error = failed(await planner.plan('git status of acme', thread));
    expect(error).toMatchObject({
      code: 'PlannerOutputInvalid',
      attempts: 2,
      spent: { model: SONNET.model, usage: { inputTokens: 2_000, outputTokens: 200 }, costUsd: 0.009 },
    });
    expect(error.code === 'PlannerOutputInvalid' && error.issues).toEqual(expect.arrayContaining([expect.stringMatching(/^InvalidPlanShape: phases: /)]));
    expect(error.message).toMatch(/^the planner's plan was still invalid after 1 repair attempt: /);
    expect(api.requests()).toHaveLength(2);
  });

  it('treats an answer cut off at max_tokens as invalid', async () => {
    api.enqueueRepeated(answers.toolUse({ summary: 'cut' }, { stopReason: 'max_tokens' }), 2);
    expect(failed(await planner.plan('git status of acme', thread))).toMatchObject({
      code: 'PlannerOutputInvalid',
      issues: [expect.stringContaining('output token limit')],
    });
  });
});

// ── the API unavailable or refusing ─────────────────────────────────────────
describe('failures', () => {
  it('PlannerUnavailable after the SDK’s retries of 529 overloaded_error', async () => {
    api.enqueueRepeated(answers.overloaded(), 3);
    const error = failed(await planner.plan('git status of acme', thread));
    expect(error).toMatchObject({ code: 'PlannerUnavailable', status: 529, attempts: 3, spent: { costUsd: 0 } });
    expect(error.message).toBe('the planner is unavailable (overloaded_error, HTTP 529) after 3 attempts; try again in a few minutes');
    expect(api.requests().map((r) => r.status)).toEqual([529, 529, 529]);
  });

  it('keeps what the first call cost when the repair call cannot be made', async () => {
    api.enqueue(answers.toolUse(invalidPlan(), usage(1_000, 100)));
    api.enqueueRepeated(answers.overloaded(), 3);
    expect(failed(await planner.plan('git status of acme', thread))).toMatchObject({
      code: 'PlannerUnavailable',
      spent: { usage: { inputTokens: 1_000, outputTokens: 100 }, costUsd: 0.0045 },
    });
  });

  it('PlannerUnavailable when the API cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = failed(await plannerFor({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 1 }).plan('git status of acme', thread));
    expect(error).toMatchObject({ code: 'PlannerUnavailable', attempts: 2 });
  });

  it('PlannerRequestFailed for a key the API refuses, pointing at the setting', async () => {
    const error = failed(await plannerFor({ apiKey: 'sk-ant-wrong-key-0123456789' }).plan('git status of acme', thread));
    expect(error).toMatchObject({ code: 'PlannerRequestFailed', status: 401 });
    expect(error.message).toContain('authentication_error');
    expect(error.message).toContain('check ANTHROPIC_API_KEY');
    expect(JSON.stringify(error)).not.toContain('sk-ant-wrong-key');
  });

  it('never puts the key in an error, even where the API echoes it', async () => {
    const errors: PlannerError[] = [];
    api.enqueue(answers.error(400, 'invalid_request_error', `something about ${SECRET}`));
    errors.push(failed(await planner.plan('git status of acme', thread)));
    api.enqueueRepeated(answers.overloaded(), 3);
    errors.push(failed(await planner.plan('git status of acme', thread)));
    // So far the key travelled only as the credential header, never in a request body.
    expect(api.requests().every((r) => r.apiKey === SECRET && !JSON.stringify(r.body).includes(SECRET))).toBe(true);
    const quotingTheKey: Plan = {
      ...invalidPlan(),
      phases: [{ name: 'x', steps: [{ kind: 'task', id: 'a', taskType: 'lint', params: { repository: `/${SECRET}` }, why: 'x' }] }],
    };
    api.enqueueRepeated(answers.toolUse(quotingTheKey), 2);
    errors.push(failed(await planner.plan('git status of acme', thread)));
    expect(errors.map((e) => e.code)).toEqual(['PlannerRequestFailed', 'PlannerUnavailable', 'PlannerOutputInvalid']);
    expect(errors[0]?.message).toContain('something about [redacted]');
    expect(errors[2]?.message).toContain('params.repository = "/[redacted]"');
    for (const error of errors) expect(JSON.stringify(error)).not.toContain(SECRET);
  });
});

describe('cost ceiling for the budget reservation', () => {
  it('covers both calls at full output, at the chosen model’s prices', () => {
    const simple = planner.costCeilingUsd('git status of acme', thread);
    const complex = planner.costCeilingUsd('deploy my changes, test everything first', thread);
    expect(simple).toBeGreaterThan(2 * 8_192 * (15 / 1_000_000));
    expect(complex).toBeGreaterThan(simple);
  });
});

import fc from 'fast-check';
import { isLeft, type Either } from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicPlanner } from '../../adapters/anthropic/anthropic-planner.ts';
import { parsePlan, type Plan, type PlanIssue, type PlanIssueCode } from '../../domain/plan/index.ts';
import type { Planner, PlannerError, ProducedPlan } from '../../domain/ports/planner.ts';
import { answers, startAnthropicStandIn, type AnthropicStandIn, type ScriptedAnswer } from '../support/anthropic-standin.ts';
import { registry, reviewPlan, statusPlan, testsThenDeploy } from '../support/plan-fixtures.ts';
import { BIG_NASTY_JSON, inChunks, nonObjectJson, randomObject, sample, SMALL_NASTY_JSON, WRONG_TYPES } from './generators.ts';
import { fail, pass, report, type BadInputCase, type Verdict } from './verdicts.ts';

// Malformed planner answers. Through the Anthropic planner (the real SDK against the Messages
// API stand-in), every answer a model could give that is not a valid plan (a tool call with
// junk, a plan breaking a rule, text, the wrong tool, a cut-off answer, an API error) ends in
// a named PlannerError, never a throw. Through parsePlan (what the planner and the planning
// desk validate with), a larger generated set each ends in PlanIssues with known codes.

const ISSUE_CODES: readonly PlanIssueCode[] = [
  'InvalidPlanShape',
  'PlanTooLarge',
  'UnknownTaskType',
  'InvalidStepParameters',
  'PathEscapesWorkspace',
  'DuplicateStepId',
  'UnknownStepReference',
  'StepCycle',
];
const KEY = 'sk-ant-standin-bad-input-0000000000000000';
const MODEL = { model: 'claude-bad-input', price: { inputUsdPerMillion: 3, outputUsdPerMillion: 15 } };

let api: AnthropicStandIn;
let planner: Planner;

// ── bad plans ───────────────────────────────────────────────────────────────

const goodPlans: readonly Plan[] = [statusPlan(), reviewPlan(), testsThenDeploy()];
const step = (overrides: Record<string, unknown>) => ({
  kind: 'task',
  id: 'one',
  taskType: 'git-status',
  params: { repository: 'acme' },
  why: 'x',
  ...overrides,
});
const planOf = (steps: readonly unknown[]) => ({ ...statusPlan(), phases: [{ name: 'P', steps }] });

/** Plans that break one rule each, with the issue code expected among the answer's issues. */
function ruleBreakers(): { name: string; input: unknown; code: PlanIssueCode }[] {
  const unknownTypes = sample(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((t) => !registry.some((r) => r.taskType === t)),
    30,
    31,
  );
  return [
    ...unknownTypes.map((taskType) => ({ name: `unknown task type ${taskType}`, input: planOf([step({ taskType })]), code: 'UnknownTaskType' as const })),
    ...['../../etc', '/etc', 'acme/../../..', '..', '/'].map((repository) => ({
      name: `repository ${repository}`,
      input: planOf([step({ params: { repository } })]),
      code: 'PathEscapesWorkspace' as const,
    })),
    ...[{ repository: 42 }, {}, { repository: null }, { repository: ['acme'] }, { repository: 'acme\u0000' }].map((params) => ({
      name: `params ${JSON.stringify(params)}`,
      input: planOf([step({ params })]),
      code: 'InvalidStepParameters' as const,
    })),
    { name: 'duplicate step ids', input: planOf([step({}), step({})]), code: 'DuplicateStepId' },
    // Three phases of 34 (a phase holds at most 50): each phase well-formed, the plan too big.
    {
      name: '102 steps',
      input: { ...statusPlan(), phases: [0, 1, 2].map((p) => ({ name: `P${p}`, steps: Array.from({ length: 34 }, (_, i) => step({ id: `s${p}x${i}` })) })) },
      code: 'PlanTooLarge',
    },
    {
      name: 'condition on no step',
      input: planOf([{ kind: 'conditional', id: 'c', condition: 'steps.nowhere.status == "completed"', then: [step({})] }]),
      code: 'UnknownStepReference',
    },
    {
      name: 'condition on a later step',
      input: planOf([{ kind: 'conditional', id: 'c', condition: 'steps.later.status == "completed"', then: [step({})] }, step({ id: 'later' })]),
      code: 'StepCycle',
    },
    {
      name: 'condition on its own branch',
      input: planOf([{ kind: 'conditional', id: 'c', condition: 'steps.inner.status == "completed"', then: [step({ id: 'inner' })] }]),
      code: 'StepCycle',
    },
  ];
}

const jsonType = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** Every node of a valid plan replaced, one at a time, by a value of another JSON type. */
function mutations(plan: Plan): { name: string; input: unknown }[] {
  const out: { name: string; input: unknown }[] = [];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (path.at(-1) === 'params') return; // free-form: the executor's schema, tested above
    if (path.length > 0) {
      for (const wrong of WRONG_TYPES) {
        const replacement: unknown = JSON.parse(wrong.json);
        if (jsonType(replacement) === jsonType(value)) continue; // a string for a string is no wrong type
        const input = structuredClone(plan) as unknown as Record<string, unknown>;
        let parent: Record<string | number, unknown> = input;
        for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
        parent[path.at(-1)!] = replacement;
        out.push({ name: `${path.join('.')} = ${wrong.name}`, input });
      }
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  walk(plan, []);
  return out;
}

// ── through parsePlan ──────────────────────────────────────────────────────

function namedIssues(result: Either<readonly PlanIssue[], Plan>, code?: PlanIssueCode): string | undefined {
  if (!isLeft(result)) return 'accepted as a valid plan';
  if (result.left.length === 0) return 'refused without issues';
  const unnamed = result.left.find((i) => !ISSUE_CODES.includes(i.code) || typeof i.message !== 'string' || i.message.length === 0);
  if (unnamed) return `an issue without a known code: ${JSON.stringify(unnamed).slice(0, 80)}`;
  if (code !== undefined && !result.left.some((i) => i.code === code)) return `expected ${code} among ${result.left.map((i) => i.code).join(', ')}`;
  return undefined;
}

function parsePlanCases(): Verdict[] {
  const verdicts: Verdict[] = [];
  const judge = (group: string, name: string, input: unknown, code?: PlanIssueCode) => {
    const c = { group, name };
    let failure: string | undefined;
    try {
      failure = namedIssues(parsePlan(input, registry), code);
    } catch (error) {
      failure = `threw ${(error as Error).name}: ${(error as Error).message.slice(0, 80)}`;
    }
    verdicts.push(failure === undefined ? pass(c) : fail(c, failure));
  };
  for (const value of sample(nonObjectJson, 100, 32)) judge('parsePlan: not an object', JSON.stringify(value).slice(0, 40), value);
  for (const value of sample(randomObject, 100, 33)) judge('parsePlan: random object', JSON.stringify(value).slice(0, 40), value);
  for (const nasty of [...SMALL_NASTY_JSON, ...BIG_NASTY_JSON]) {
    const value: unknown = (() => {
      try {
        return JSON.parse(nasty.json);
      } catch {
        return nasty.json; // too deep for JSON.parse here: the text itself
      }
    })();
    judge('parsePlan: known-nasty values', nasty.name, value);
    judge('parsePlan: known-nasty values as the phases', nasty.name, { ...statusPlan(), phases: value });
    judge('parsePlan: known-nasty values as a step', nasty.name, planOf([value]));
  }
  for (const breaker of ruleBreakers()) judge('parsePlan: a plan breaking one rule', breaker.name, breaker.input, breaker.code);
  for (const plan of goodPlans) for (const m of mutations(plan)) judge('parsePlan: a node of a valid plan of another type', m.name, m.input);
  return verdicts;
}

// ── through the planner ─────────────────────────────────────────────────────

interface PlannerCase extends BadInputCase {
  /** What the model answers, to the request and to the repair. */
  readonly answers: readonly ScriptedAnswer[];
  readonly code: PlannerError['code'];
}

function plannerCases(): PlannerCase[] {
  const cases: PlannerCase[] = [];
  const twice = (group: string, name: string, answer: ScriptedAnswer) => cases.push({ group, name, answers: [answer, answer], code: 'PlannerOutputInvalid' });
  for (const value of sample(nonObjectJson, 40, 34)) twice('planner: tool input not an object', JSON.stringify(value).slice(0, 40), answers.toolUse(value));
  for (const value of sample(randomObject, 40, 35)) twice('planner: tool input a random object', JSON.stringify(value).slice(0, 40), answers.toolUse(value));
  for (const nasty of SMALL_NASTY_JSON) twice('planner: tool input a known-nasty value', nasty.name, answers.toolUse(JSON.parse(nasty.json)));
  twice('planner: tool input a known-nasty value', 'string of 300 KB', answers.toolUse('x'.repeat(300 * 1024)));
  twice('planner: tool input a known-nasty value', 'summary of 300 KB', answers.toolUse({ ...statusPlan(), summary: 'x'.repeat(300 * 1024) }));
  for (const breaker of ruleBreakers()) twice('planner: a plan breaking one rule', breaker.name, answers.toolUse(breaker.input));
  for (const m of sample(fc.constantFrom(...goodPlans.flatMap(mutations)), 80, 36))
    twice('planner: a node of a valid plan of another type', m.name, answers.toolUse(m.input));
  for (const text of ['', 'Sure! Here is the plan: ...', '{"summary":"not in a tool call"}', '🚀'.repeat(100)])
    twice('planner: text instead of the tool call', text.slice(0, 30), answers.text(text));
  twice('planner: another tool called', 'run_shell', answers.toolUse(statusPlan(), { name: 'run_shell' }));
  twice('planner: another tool called', 'submit_plan_v2', answers.toolUse({ cmd: 'rm -rf /' }, { name: 'submit_plan_v2' }));
  twice('planner: cut off at the token limit', 'valid plan, max_tokens', answers.toolUse(statusPlan(), { stopReason: 'max_tokens' }));
  twice('planner: cut off at the token limit', 'text, max_tokens', answers.text('The plan is', { stopReason: 'max_tokens' }));
  cases.push({
    group: 'planner: bad first answer, bad repair',
    name: 'junk then text',
    answers: [answers.toolUse(42), answers.text('no')],
    code: 'PlannerOutputInvalid',
  });
  cases.push({
    group: 'planner: bad first answer, bad repair',
    name: 'text then unknown type',
    answers: [answers.text('no'), answers.toolUse(ruleBreakers()[0]!.input)],
    code: 'PlannerOutputInvalid',
  });
  for (const [status, type, code] of [
    [400, 'invalid_request_error', 'PlannerRequestFailed'],
    [401, 'authentication_error', 'PlannerRequestFailed'],
    [403, 'permission_error', 'PlannerRequestFailed'],
    [404, 'not_found_error', 'PlannerRequestFailed'],
    [413, 'request_too_large', 'PlannerRequestFailed'],
    [429, 'rate_limit_error', 'PlannerUnavailable'],
    [500, 'api_error', 'PlannerUnavailable'],
    [529, 'overloaded_error', 'PlannerUnavailable'],
  ] as const) {
    cases.push({ group: 'planner: the API answers an error', name: `${status} ${type}`, answers: [answers.error(status, type, `stand-in ${type}`)], code });
    cases.push({
      group: 'planner: the API answers an error on the repair',
      name: `${status} ${type}`,
      answers: [answers.toolUse(42), answers.error(status, type, `stand-in ${type}`)],
      code,
    });
  }
  return cases;
}

async function askPlanner(c: PlannerCase): Promise<Verdict> {
  api.reset();
  api.enqueue(...c.answers);
  let result: Either<PlannerError, ProducedPlan>;
  try {
    result = await planner.plan('check the status of acme, then deploy it', { variables: {} });
  } catch (error) {
    return fail(c, `threw ${(error as Error).name}: ${(error as Error).message.slice(0, 80)}`);
  }
  if (!isLeft(result)) return fail(c, 'produced a plan');
  const error = result.left;
  if (error.code !== c.code) return fail(c, `expected ${c.code}, got ${error.code}`);
  if (typeof error.message !== 'string' || error.message.length === 0) return fail(c, 'error without a message');
  if (error.code === 'PlannerOutputInvalid' && (error.issues.length === 0 || error.attempts !== 2))
    return fail(c, `PlannerOutputInvalid with ${error.issues.length} issues after ${error.attempts} calls`);
  return pass(c);
}

beforeAll(async () => {
  api = await startAnthropicStandIn({ apiKey: KEY });
  // No retries: each scripted answer is one call, and an API error is final at once.
  planner = anthropicPlanner({ apiKey: KEY, baseUrl: api.url, models: { simple: MODEL, complex: MODEL }, registry, maxRetries: 0 });
});

afterAll(async () => {
  await api?.stop();
});

describe('malformed planner answers', () => {
  it('through parsePlan: each is refused with issues of known codes, never a throw', () => {
    const started = Date.now();
    const verdicts = parsePlanCases();
    const failures = report('planner answers (parsePlan)', verdicts, Date.now() - started);
    expect(verdicts.length).toBeGreaterThanOrEqual(500);
    expect(failures).toEqual([]);
  });

  it('through the Anthropic planner and the Messages API stand-in: each ends in a named PlannerError', async () => {
    const started = Date.now();
    // One at a time: the stand-in's script is one queue, and a case owns its two answers.
    const verdicts = await inChunks(plannerCases(), 1, askPlanner);
    const failures = report('planner answers (Anthropic planner)', verdicts, Date.now() - started);
    expect(verdicts.length).toBeGreaterThanOrEqual(200);
    expect(failures).toEqual([]);
  });
});

import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { budgetAggregate } from '../../actors/aggregates/budget.ts';
import { planAggregate } from '../../actors/aggregates/plan.ts';
import { PlanningDesk, type PlanRequest } from '../../actors/planning-desk.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { anthropicPlanner } from '../../adapters/anthropic/anthropic-planner.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { offlinePlanner } from '../../adapters/offline-planner/offline-planner.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import type { Planner } from '../../domain/ports/planner.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { answers, startAnthropicStandIn, type AnthropicStandIn } from '../support/anthropic-standin.ts';
import { startAggregateHosts } from '../support/aggregate-hosts.ts';
import { AggregateStateClient } from '../../actors/runtime/aggregate-state-client.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { registry, statusPlan, testsThenDeploy } from '../support/plan-fixtures.ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { buildPolicy, type Policy } from '../../domain/policy/index.ts';
import { classifyTask } from '../../infra/policy/classify-task.ts';

// AG5 around the planner (OR1): the most a planning call can cost is reserved on the month's
// Budget before the call; what it really cost is committed after it, or the reservation is
// released when the API stayed overloaded; over a cap nothing is called at all. Real
// nats-server, real Budget and Plan hosts, the planner talking HTTP to the Anthropic stand-in.

const logger = pino({ level: 'silent' });
const MAX_RETRIES = 2;

let server: TestNatsServer;
let nc: NatsConnection;
let store: JetStreamEventStore;
let anthropic: AnthropicStandIn;
const stops: (() => Promise<unknown>)[] = [];
let sequence = 0;

const claude = (): Planner =>
  anthropicPlanner({
    apiKey: anthropic.apiKey,
    baseUrl: anthropic.url,
    registry,
    maxRetries: MAX_RETRIES,
    models: {
      simple: { model: 'claude-sonnet-test', price: { inputUsdPerMillion: 3, outputUsdPerMillion: 15 } },
      complex: { model: 'claude-opus-test', price: { inputUsdPerMillion: 5, outputUsdPerMillion: 25 } },
    },
  });

/** Only U-ops may ask for git status; everyone else may do any other read-only work. */
const onlyOpsSeeStatus = (): Policy => {
  const built = buildPolicy(
    { version: 1, roles: { requester: ['*'] }, taskTypes: { 'git-status': ['U-ops'] } },
    { requesterMayApprove: false },
    'test-policy.yaml',
  );
  if (isLeft(built)) throw new Error(built.left.message);
  return built.right;
};

const desk = (planner: Planner, budget?: { monthlyUsd: number }, policy?: Policy) =>
  new PlanningDesk({
    ...(policy ? { policy: { rules: policy, classify: classifyTask } } : {}),
    commands: new CommandClient(nc),
    states: new AggregateStateClient(nc),
    planner,
    registry,
    approvalRules: { costThresholdUsd: 1, requesterMayApprove: true },
    ...(budget ? { caps: { ...budget, warningFraction: 0.8, criticalFraction: 0.95 } } : {}),
    logger,
  });

const request = (text: string): PlanRequest => {
  sequence += 1;
  return {
    planId: `plan-test-${process.pid}-${sequence}`,
    conversationId: `conv-${process.pid}-${sequence}`,
    requestedBy: 'U0ALICE',
    text,
    context: { variables: { currentRepo: 'acme' } },
  };
};

const budgetEvents = async (reservationId: string): Promise<RecordedEvent[]> =>
  [...(await store.readAll({ category: 'budget' }))].filter((e) => (e.data as { reservationId?: string }).reservationId === reservationId);

beforeAll(async () => {
  server = await startTestNatsServer();
  nc = await connectNats(server.url);
  store = await JetStreamEventStore.connect(nc);
  stops.push(startAggregateHosts(nc, store, [budgetAggregate, planAggregate], logger));
  anthropic = await startAnthropicStandIn();
}, 30_000);

afterAll(async () => {
  for (const stop of stops) await stop();
  await anthropic?.stop();
  await nc?.close();
  await server?.dispose();
});

beforeEach(() => anthropic.reset());

describe('planning with Claude, inside the budget', () => {
  it('reserves the ceiling, plans, commits what the call really cost, and proposes the plan', async () => {
    anthropic.enqueue(answers.toolUse(testsThenDeploy('acme'), { usage: { input_tokens: 1_000, output_tokens: 400 } }));
    const asked = request('deploy acme, test everything first');
    const outcome = await desk(claude()).plan(asked);
    expect(outcome).toMatchObject({ kind: 'proposed', planId: asked.planId, approval: { required: true } });
    const [reserved, committed, ...rest] = await budgetEvents(`planning-${asked.planId}`);
    expect(rest).toHaveLength(0);
    expect(reserved!.type).toBe('CostReserved');
    expect(committed!.type).toBe('CostCommitted');
    // Opus prices: 1000 × $5/M + 400 × $25/M = $0.015, below the reserved ceiling.
    expect(committed!.data).toMatchObject({ actualUsd: 0.015 });
    expect((reserved!.data as { amountUsd: number }).amountUsd).toBeGreaterThan(0.015);
    const plan = (await store.read(`plan-${asked.planId}` as never)).events;
    expect(plan.map((e) => e.type)).toEqual(['PlanProposed']);
    expect(plan[0]!.data).toMatchObject({ model: 'claude-opus-test', costUsd: 0.015, usage: { inputTokens: 1_000, outputTokens: 400 } });
  });

  it('a plan that would run at once (no "Run this plan") is checked against the policy first: refused, nothing is proposed', async () => {
    anthropic.enqueue(answers.toolUse(statusPlan('acme')));
    const asked = request('what is going on in acme');
    const outcome = await desk(claude(), undefined, onlyOpsSeeStatus()).plan(asked);
    expect(outcome).toMatchObject({ kind: 'refused', message: expect.stringContaining('(rule taskTypes.git-status)') });
    expect((await store.read(`plan-${asked.planId}` as never)).events).toHaveLength(0);

    anthropic.enqueue(answers.toolUse(statusPlan('acme')));
    const allowed = { ...request('what is going on in acme'), requestedBy: 'U-ops' };
    expect(await desk(claude(), undefined, onlyOpsSeeStatus()).plan(allowed)).toMatchObject({ kind: 'proposed', approval: { required: false } });
  });

  it('a planner answering 529 is retried, then the person gets a clear message and the reservation is released', async () => {
    anthropic.enqueueRepeated(answers.overloaded(), MAX_RETRIES + 1);
    const asked = request('deploy acme, test everything first');
    const outcome = await desk(claude()).plan(asked);
    expect(anthropic.requests().map((r) => r.status)).toEqual([529, 529, 529]);
    expect(outcome.kind).toBe('refused');
    expect(outcome.kind === 'refused' && outcome.message).toMatch(
      /^I could not make a plan: the planner is unavailable \(overloaded_error, HTTP 529\) after 3 attempts; try again in a few minutes$/,
    );
    const events = await budgetEvents(`planning-${asked.planId}`);
    expect(events.map((e) => e.type)).toEqual(['CostReserved', 'CostReleased']);
    expect((await store.read(`plan-${asked.planId}` as never)).events).toHaveLength(0);
  });

  it('an invalid plan, still invalid after the repair, is a named error and its tokens are still paid for', async () => {
    const unknownType = { ...statusPlan(), phases: [{ name: 'x', steps: [{ kind: 'task', id: 'x', taskType: 'rm-rf', params: {}, why: 'no' }] }] };
    anthropic.enqueue(
      answers.toolUse(unknownType, { usage: { input_tokens: 100, output_tokens: 100 } }),
      answers.toolUse(unknownType, { usage: { input_tokens: 100, output_tokens: 100 } }),
    );
    const asked = request('status of acme, then lint it');
    const outcome = await desk(claude()).plan(asked);
    expect(outcome.kind === 'refused' && outcome.message).toMatch(/still invalid after 1 repair attempt.*rm-rf/);
    const events = await budgetEvents(`planning-${asked.planId}`);
    expect(events.map((e) => e.type)).toEqual(['CostReserved', 'CostCommitted']);
  });

  it('over the monthly cap, nothing is called and the person is told why', async () => {
    const asked = request('deploy acme, test everything first');
    const outcome = await desk(claude(), { monthlyUsd: 0.0001 }).plan(asked);
    expect(outcome.kind).toBe('refused');
    expect(outcome.kind === 'refused' && outcome.message).toMatch(/the budget does not allow it: CapWouldBeExceeded/);
    expect(anthropic.requests()).toHaveLength(0);
    expect((await budgetEvents(`planning-${asked.planId}`)).map((e) => e.type)).toEqual([]);
  });
});

describe('planning offline', () => {
  it('reserves nothing, and proposes the deploy recipe', async () => {
    const asked = request('deploy acme, test everything first');
    const outcome = await desk(offlinePlanner(registry)).plan(asked);
    expect(outcome).toMatchObject({ kind: 'proposed', approval: { required: true } });
    expect(await budgetEvents(`planning-${asked.planId}`)).toHaveLength(0);
  });

  it('the same request again proposes nothing new', async () => {
    const asked = request('deploy acme, test everything first');
    await desk(offlinePlanner(registry)).plan(asked);
    expect(await desk(offlinePlanner(registry)).plan(asked)).toEqual({ kind: 'duplicate', planId: asked.planId });
  });

  it('what it has no recipe for is answered with what it can do', async () => {
    const outcome = await desk(offlinePlanner(registry)).plan(request('write me a poem'));
    expect(outcome.kind).toBe('not-understood');
  });
});

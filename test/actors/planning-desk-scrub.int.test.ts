import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetAggregate } from '../../actors/aggregates/budget.ts';
import { planAggregate } from '../../actors/aggregates/plan.ts';
import { PlanningDesk } from '../../actors/planning-desk.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { anthropicPlanner } from '../../adapters/anthropic/anthropic-planner.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { answers, startAnthropicStandIn, type AnthropicStandIn } from '../support/anthropic-standin.ts';
import { startAggregateHosts } from '../support/aggregate-hosts.ts';
import { AggregateStateClient } from '../../actors/runtime/aggregate-state-client.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { registry, statusPlan } from '../support/plan-fixtures.ts';

// The planner's answer is model text (SE4): a plan that echoes a token or a known secret (from
// the request or its context) is recorded scrubbed.

const logger = pino({ level: 'silent' });
const KNOWN = 'configured-webhook-secret-19';
const TOKEN = 'ghp_Pl4nt3dGh0Pl4nt3dGh0Pl4nt3dGh0ABCDEF';

let server: TestNatsServer;
let nc: NatsConnection;
let store: JetStreamEventStore;
let anthropic: AnthropicStandIn;
let stopHosts: () => Promise<unknown>;

beforeAll(async () => {
  server = await startTestNatsServer();
  nc = await connectNats(server.url);
  store = await JetStreamEventStore.connect(nc);
  stopHosts = startAggregateHosts(nc, store, [budgetAggregate, planAggregate], logger);
  anthropic = await startAnthropicStandIn();
}, 30_000);

afterAll(async () => {
  await stopHosts?.();
  await anthropic?.stop();
  await nc?.close();
  await server?.dispose();
});

describe('PlanningDesk records the plan scrubbed', () => {
  it('a token and a known value in the model plan are hidden in PlanProposed', async () => {
    const echoing = { ...statusPlan('acme'), summary: `Show the status of acme (token ${TOKEN}, secret ${KNOWN}).` };
    anthropic.enqueue(answers.toolUse(echoing, { usage: { input_tokens: 100, output_tokens: 100 } }));
    const planner = anthropicPlanner({
      apiKey: anthropic.apiKey,
      baseUrl: anthropic.url,
      registry,
      maxRetries: 0,
      models: {
        simple: { model: 'claude-sonnet-test', price: { inputUsdPerMillion: 3, outputUsdPerMillion: 15 } },
        complex: { model: 'claude-opus-test', price: { inputUsdPerMillion: 5, outputUsdPerMillion: 25 } },
      },
    });
    const desk = new PlanningDesk({
      commands: new CommandClient(nc),
      states: new AggregateStateClient(nc),
      planner,
      registry,
      approvalRules: { costThresholdUsd: 1, requesterMayApprove: true },
      logger,
      secretValues: [KNOWN],
    });
    const planId = `plan-scrub-${process.pid}`;
    const outcome = await desk.plan({
      planId,
      conversationId: `conv-scrub-${process.pid}`,
      requestedBy: 'U0ALICE',
      text: 'status of acme',
      context: { variables: { currentRepo: 'acme' } },
    });
    expect(outcome.kind).toBe('proposed');
    const [proposed] = (await store.read(streamName('plan', planId))).events;
    expect(proposed!.type).toBe('PlanProposed');
    const recorded = JSON.stringify(proposed!.data);
    expect(recorded).not.toContain(TOKEN);
    expect(recorded).not.toContain(KNOWN);
    expect(recorded).toContain('Show the status of acme (token [redacted:github-token], secret [redacted]).');
  });
});

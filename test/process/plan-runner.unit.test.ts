import { isLeft } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy, Plan, PlanEvent, PlanEventData } from '../../domain/plan/index.ts';
import { planFinished, planRunner, type PlanRunnerConfig, type PlanRunnerInput } from '../../domain/process/plan-runner.ts';
import type { CommandAnswer, Intent } from '../../domain/process/process-manager.ts';
import { registerDefinition, workflowOfPlan } from '../../domain/workflow/index.ts';
import { managerSpecFor } from '../support/manager-spec.ts';
import { registry, statusPlan, testsThenDeploy } from '../support/plan-fixtures.ts';

// The plan runner as a specification: which plan events start a workflow, with which command,
// and what is recorded once the workflow exists.

const planId = 'P1';
const conversationId = 'C1-1732183200_000100';
const at = '2026-11-21T10:00:00.000Z';
const requester = 'U_REQ';
const taskTypes = registry.map((r) => r.taskType);
const sideEffecting = registry.filter((r) => r.sideEffects).map((r) => r.taskType);

const config: PlanRunnerConfig = {
  registry: { taskTypes, sideEffecting },
  gates: { requesterMayApprove: true, approvers: ['U_LEAD'], timeoutMs: 300_000 },
  maxExecutionMs: 3_600_000,
  dryRun: false,
};
const { given } = managerSpecFor(planRunner(config));

let revision = 0;
const event = <K extends PlanEvent['type']>(type: K, data: Omit<PlanEventData<K>, 'planId' | 'at'>): PlanRunnerInput => ({
  kind: 'event',
  event: { revision: revision++, event: { type, data: { planId, ...data, at } } as unknown as PlanEvent },
  at,
});
const needsApproval: ApprovalPolicy = { required: true, reasons: ['step deploy runs sf-deploy'], requesterMayApprove: true };
const noApproval: ApprovalPolicy = { required: false, reasons: [], requesterMayApprove: true };
const spend = { model: 'claude-opus-4-5', usage: { inputTokens: 1_200, outputTokens: 800 }, costUsd: 0.026 };

const proposed = (plan: Plan, approval: ApprovalPolicy) =>
  event('PlanProposed', { conversationId, requestedBy: requester, request: 'do it', revision: 1, plan, ...spend, approval });
const amended = (plan: Plan, approval = needsApproval) =>
  event('PlanAmended', { revision: 2, plan, reason: 'narrower', amendedBy: requester, ...spend, approval });
const approved = (approver = 'U_LEAD', revision = 1) => event('PlanApproved', { revision, approver, via: 'button' });
const rejected = () => event('PlanRejected', { revision: 1, rejectedBy: 'U_LEAD', reason: 'not today' });
const compiled = () => event('PlanCompiled', { revision: 1, workflowId: planId });

const definitionOf = (plan: Plan) => {
  const result = registerDefinition(workflowOfPlan(plan, { name: plan.summary.slice(0, 200), gates: config.gates, sideEffecting }), config.registry);
  if (isLeft(result)) expect.fail(result.left.map((e) => e.message).join('; '));
  return result.right;
};

const startWorkflow = (plan: Plan, actor: string): Intent<never> => ({
  kind: 'command',
  category: 'workflow',
  id: planId,
  commandId: `start-${planId}`,
  type: 'StartWorkflow',
  actor,
  correlationId: conversationId,
  causationId: `plan-${planId}`,
  wantsReply: true,
  data: { definition: definitionOf(plan), requestedBy: requester, maxExecutionMs: 3_600_000, dryRun: false, source: { kind: 'plan', planId }, conversationId },
});
const answered = (intent: Intent<never>, reply: CommandAnswer): PlanRunnerInput => ({ kind: 'reply', intent, reply, at });
const accepted: CommandAnswer = { status: 'accepted', revision: '1', events: 1 };

describe('a plan becomes a workflow', () => {
  it('runs a plan that needs no approval as soon as it is proposed, as its requester', () => {
    given().when(proposed(statusPlan(), noApproval)).then(startWorkflow(statusPlan(), requester));
  });

  it('waits for approval when the plan needs it', () => {
    given().when(proposed(testsThenDeploy(), needsApproval)).thenNothing();
  });

  it('runs an approved plan, as its approver', () => {
    given(proposed(testsThenDeploy(), needsApproval)).when(approved('U_LEAD')).then(startWorkflow(testsThenDeploy(), 'U_LEAD'));
  });

  it('runs the amended plan when the amendment needs no approval', () => {
    given(proposed(testsThenDeploy(), needsApproval))
      .when(amended(statusPlan('acme/api'), noApproval))
      .then(startWorkflow(statusPlan('acme/api'), requester));
  });

  it('waits again when an amendment needs approval', () => {
    given(proposed(statusPlan(), needsApproval))
      .when(amended(testsThenDeploy('acme/api')))
      .thenNothing();
  });

  it('does not run a rejected plan', () => {
    given(proposed(testsThenDeploy(), needsApproval)).when(rejected()).thenNothing();
  });

  it('starts nothing for a plan already compiled into a workflow', () => {
    given(proposed(testsThenDeploy(), needsApproval), approved(), compiled()).when(amended(statusPlan(), noApproval)).thenNothing();
  });

  it('starts nothing for an approval of a plan it never saw proposed', () => {
    given().when(approved()).thenNothing();
  });

  it('starts the workflow as a dry run when the deployment runs dry', () => {
    const dry = managerSpecFor(planRunner({ ...config, dryRun: true }));
    dry
      .given()
      .when(proposed(statusPlan(), noApproval))
      .thenSends({ type: 'StartWorkflow', data: expect.objectContaining({ dryRun: true }) as never });
  });

  it('reports a plan the registry no longer compiles instead of starting it', () => {
    const shrunk = managerSpecFor(planRunner({ ...config, registry: { taskTypes: ['lint'], sideEffecting: [] } }));
    shrunk
      .given()
      .when(proposed(statusPlan(), noApproval))
      .thenSends({ kind: 'effect', effect: expect.objectContaining({ type: 'PlanNoLongerCompiles', planId }) as never });
  });
});

describe('once the workflow exists', () => {
  const start = startWorkflow(statusPlan(), requester);
  const recordCompiled = {
    kind: 'command',
    category: 'plan',
    id: planId,
    commandId: `compiled-${planId}`,
    type: 'RecordPlanCompiled',
    actor: 'orchestrator',
    data: { workflowId: planId },
  } as const;
  const rememberWorkflow = {
    kind: 'command',
    category: 'conversation',
    id: conversationId,
    commandId: `context-${planId}-lastWorkflowId`,
    type: 'SetContextVariable',
    data: { name: 'lastWorkflowId', value: planId },
  } as const;

  it('records the workflow on the plan and remembers it on the conversation', () => {
    given(proposed(statusPlan(), noApproval)).when(answered(start, accepted)).thenSends(recordCompiled, rememberWorkflow);
  });

  it('does the same when the workflow was already started (a replay after a crash)', () => {
    given(proposed(statusPlan(), noApproval))
      .when(answered(start, { status: 'rejected', code: 'WorkflowAlreadyStarted', message: 'started before' }))
      .thenSends(recordCompiled, rememberWorkflow);
  });

  it('records nothing and reports when the workflow could not be started', () => {
    given(proposed(statusPlan(), noApproval))
      .when(answered(start, { status: 'invalid', errors: ['definition: bad'] }))
      .thenSends({ kind: 'effect', effect: { type: 'WorkflowNotStarted', planId, answer: 'invalid: definition: bad' } });
  });

  it('reports, and retries nothing, when the plan or the conversation did not take the record', () => {
    given(proposed(statusPlan(), noApproval))
      .when(answered({ ...recordCompiled, wantsReply: true }, { status: 'failed', code: 'Internal', message: 'boom' }))
      .thenSends({ kind: 'effect', effect: { type: 'NotRecorded', planId, command: 'RecordPlanCompiled', answer: 'failed Internal: boom' } });
    given(proposed(statusPlan(), noApproval))
      .when(answered({ ...rememberWorkflow, wantsReply: true }, { status: 'rejected', code: 'ConversationArchived', message: 'archived' }))
      .thenSends({ kind: 'effect', effect: expect.objectContaining({ type: 'NotRecorded', planId, command: 'SetContextVariable' }) as never });
  });

  it('decides on a replayed event with the state loaded from the plan’s host, and does not fold it twice', () => {
    const runner = planRunner(config);
    const loaded = runner.evolve(runner.evolve(runner.initialState(), proposed(statusPlan(), noApproval)), compiled());
    const replayed: PlanRunnerInput = {
      kind: 'event',
      event: { revision: 0, event: (proposed(statusPlan(), noApproval) as { event: { event: PlanEvent } }).event.event },
      at,
    };
    expect(runner.decide(replayed, loaded)).toEqual([]);
    expect(runner.evolve(loaded, replayed).plan).toBe(loaded.plan);
    expect(loaded.plan.status).toBe('compiled');
  });

  it('is finished with a plan once it is compiled or rejected', () => {
    expect(planFinished(given(proposed(statusPlan(), noApproval)).when(compiled()).state())).toBe(true);
    expect(planFinished(given(proposed(testsThenDeploy(), needsApproval)).when(rejected()).state())).toBe(true);
    expect(planFinished(given().when(proposed(testsThenDeploy(), needsApproval)).state())).toBe(false);
  });
});

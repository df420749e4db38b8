import { isLeft } from 'fp-ts/lib/Either.js';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationAggregate } from '../../actors/aggregates/conversation.ts';
import { taskAggregate } from '../../actors/aggregates/task.ts';
import { workflowAggregate } from '../../actors/aggregates/workflow.ts';
import { ConversationIntake, type IncomingMessage } from '../../actors/conversation-intake.ts';
import { DecisionDesk } from '../../actors/decision-desk.ts';
import { AggregateStateClient } from '../../actors/runtime/aggregate-state-client.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { slashCommands, type SlashRequest, type StatusSource } from '../../actors/slash-commands.ts';
import type { WorkflowDesk } from '../../actors/workflow-slash-commands.ts';
import { executors, sideEffectClassFor } from '../../adapters/executors/registry.ts';
import { eventLogNames } from '../../adapters/jetstream/event-log-stream.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { buildPolicy, type Policy } from '../../domain/policy/index.ts';
import { streamName } from '../../domain/streams.ts';
import type { ApprovalNode, CompiledWorkflow } from '../../domain/workflow/index.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { classifyTask } from '../../infra/policy/classify-task.ts';
import { startAggregateHosts } from '../support/aggregate-hosts.ts';
import { startNatsBroker, type NatsBroker } from '../support/nats-broker.ts';

// SE2 at the front doors, on a real nats-server with the real aggregates: a request the policy
// refuses is answered with the rule that refused it and writes nothing at all (the event log's
// message count does not move); what it allows goes through as before.

const logger = pino({ level: 'silent' });
const PREFIX = 'orch';

const built = buildPolicy(
  {
    groups: { 'release-managers': ['U_REL1', 'U_REL2'] },
    roles: { admin: ['U_ADMIN'], approver: ['group:release-managers'], deployer: ['group:release-managers'] },
    deploy: {
      targets: [
        { org: 'sandbox-*', who: ['role:requester'] },
        { org: 'prod*', who: ['role:deployer'] },
      ],
    },
    taskTypes: { lint: ['role:deployer'] },
  },
  { requesterMayApprove: false },
  'policy-doors.yaml',
);
if (isLeft(built)) throw new Error(built.left.message);
const policy: Policy = built.right;

const registry = { taskTypes: executors.map((e) => e.taskType), sideEffecting: executors.filter((e) => e.sideEffects).map((e) => e.taskType) };
const status: StatusSource = { planner: 'offline', frontEnd: 'test', pools: [], taskTotals: async () => undefined };

let broker: NatsBroker;
let nc: NatsConnection;
let store: JetStreamEventStore;
let stopHosts: () => Promise<void>;
let table: ReturnType<typeof slashCommands>;
let intake: ConversationIntake;
let commands: CommandClient;
let states: AggregateStateClient;
/** The same doors without a policy: only the deciders' own rules. */
let unpoliced: ReturnType<typeof slashCommands>;

beforeAll(async () => {
  broker = await startNatsBroker();
  nc = await connectNats(broker.url);
  store = await JetStreamEventStore.connect(nc);
  stopHosts = startAggregateHosts(nc, store, [workflowAggregate, taskAggregate, conversationAggregate], logger);
  await nc.flush();
  commands = new CommandClient(nc, PREFIX);
  states = new AggregateStateClient(nc, PREFIX);
  const desk: WorkflowDesk = { commands, states, logger, registry, maxExecutionMs: 1_800_000, policy: { rules: policy, classify: classifyTask } };
  table = slashCommands(status, desk, policy);
  unpoliced = slashCommands(status, { ...desk, policy: undefined });
  intake = new ConversationIntake({
    commands,
    states,
    taskTypes: executors,
    logger,
    routeTask: () => ({ pool: 'local', timeoutMs: 60_000 }),
    replyTarget: () => ({ kind: 'nats', subject: 'orch.test.results' }),
    policy: { rules: policy, sideEffectOf: sideEffectClassFor },
  });
});

afterAll(async () => {
  await stopHosts?.();
  await store?.close();
  await nc?.close();
  await broker?.dispose();
});

/** Every event in the log, of every stream. */
const eventCount = async (): Promise<number> => {
  const jsm = await nc.jetstreamManager();
  return (await jsm.streams.info(eventLogNames(PREFIX).streamName)).state.messages;
};

const slash = async (command: string, text: string, user: string): Promise<string> => {
  const request: SlashRequest = { command, text, user, channel: 'C1' };
  return (await table.answer(request)).text;
};

const startedId = (answer: string): string => /^Started workflow (wf-[0-9a-f]{8}) \(/.exec(answer)?.[1] ?? expect.fail(`not started: ${answer}`);

const startedDefinition = async (id: string): Promise<CompiledWorkflow> => {
  const { events } = await store.read(streamName('workflow', id));
  const started = events.find((e) => e.type === 'WorkflowStarted') ?? expect.fail('no WorkflowStarted');
  return (started.data as { definition: CompiledWorkflow }).definition;
};

const approvalNodes = (definition: CompiledWorkflow): ApprovalNode[] => {
  const walk = (nodes: CompiledWorkflow['machine']['nodes']): ApprovalNode[] =>
    nodes.flatMap((n) => (n.kind === 'approval' ? [n] : n.kind === 'parallel' ? n.branches.flatMap((b) => walk(b.nodes)) : []));
  return walk(definition.machine.nodes);
};

describe('/workflow start under the policy', () => {
  it('refuses a template started with a widening approver list, naming the rule, and writes nothing', async () => {
    const before = await eventCount();
    const answer = await slash('/workflow', 'start deployment repository=crm targetOrg=sandbox-1 approvers=UFRIEND', 'U_DEV');
    expect(answer).toContain('was not started: NotAuthorized');
    expect(answer).toContain('UFRIEND may not approve deploy gates');
    expect(answer).toContain('(rule gates.deploy.approvers)');
    expect(await eventCount()).toBe(before);
  });

  it('starts it with a narrowing approver list, the gate holding only those approvers', async () => {
    const id = startedId(await slash('/workflow', 'start deployment repository=crm targetOrg=sandbox-1 approvers=U_REL2', 'U_DEV'));
    const gates = approvalNodes(await startedDefinition(id));
    expect(gates.find((g) => g.id === 'approve-deploy')).toMatchObject({ approvers: ['U_REL2'], requesterMayApprove: false });
  });

  it('puts the policy approvers on a deploy gate when none are named', async () => {
    const id = startedId(await slash('/workflow', 'start deployment repository=crm targetOrg=sandbox-2', 'U_DEV'));
    const gates = approvalNodes(await startedDefinition(id));
    expect(gates.find((g) => g.id === 'approve-deploy')?.approvers).toEqual(['U_REL1', 'U_REL2']);
  });

  it('refuses a deploy to a restricted org by a non-deployer and writes nothing; a deployer may', async () => {
    const before = await eventCount();
    const answer = await slash('/workflow', 'start deployment repository=crm targetOrg=prod-eu', 'U_DEV');
    expect(answer).toContain('only deployers may deploy to prod-eu (rule deploy.targets[1])');
    expect(await eventCount()).toBe(before);
    const allowed = startedId(await slash('/workflow', 'start deployment repository=crm targetOrg=prod-eu', 'U_REL1'));
    // The rule that let U_REL1 start it is recorded with what it started.
    const [started] = (await store.read(streamName('workflow', allowed))).events;
    expect(started?.metadata).toMatchObject({ actor: 'U_REL1', authorization: 'deploy.targets[1], start.read-only' });
  });
});

describe('/workflow cancel under the policy', () => {
  it('refuses a stranger, naming the rule, and records nothing; the requester and an admin may cancel', async () => {
    const first = startedId(await slash('/workflow', 'start code-review repository=api', 'U_DEV'));
    const before = await eventCount();
    const refused = await slash('/workflow', `cancel ${first}`, 'U_STRANGER');
    expect(refused).toContain(`Workflow ${first} was not cancelled: NotAuthorized`);
    expect(refused).toContain('(rule cancel)');
    expect(await eventCount()).toBe(before);

    expect(await slash('/workflow', `cancel ${first}`, 'U_DEV')).toBe(`Cancelled workflow ${first}.`);
    const second = startedId(await slash('/workflow', 'start code-review repository=api', 'U_DEV'));
    expect(await slash('/workflow', `cancel ${second}`, 'U_ADMIN')).toBe(`Cancelled workflow ${second}.`);
    const { events } = await store.read(streamName('workflow', second));
    expect(events.some((e) => e.type === 'WorkflowCancelled')).toBe(true);
  });
});

describe('deciding a gate under the policy', () => {
  const complete = async (id: string, stepId: string) => {
    const reply = await commands.send(
      { category: 'workflow', id },
      { commandId: crypto.randomUUID(), type: 'RecordStepCompleted', actor: 'engine', data: { stepId, attempt: 1, output: { success: true } } },
    );
    expect(reply).toMatchObject({ status: 'accepted' });
  };

  it("refuses someone the gate names but the policy does not, recording nothing; the policy's approver decides", async () => {
    // Started where no policy applied: the gate names UFRIEND.
    const answer = (
      await unpoliced.answer({
        command: '/workflow',
        text: 'start deployment repository=crm targetOrg=sandbox-9 approvers=UFRIEND,U_REL1',
        user: 'U_DEV',
        channel: 'C1',
      })
    ).text;
    const id = startedId(answer);
    await complete(id, 'validate');
    await complete(id, 'test');
    const state = await states.read('workflow', id);
    const visit = state.status === 'none' ? expect.fail('no workflow') : (state.steps['approve-deploy']?.visit ?? expect.fail('gate not reached'));
    const desk = new DecisionDesk({ commands, states, logger, policy: { rules: policy, classify: classifyTask } });

    const before = await eventCount();
    const refused = await desk.decideGate(id, 'approve-deploy', visit, 'UFRIEND', 'approve');
    expect(refused).toBe('You may not do that: only approvers may decide deploy gates (rule gates.deploy.approvers).');
    expect(await eventCount()).toBe(before);

    expect(await desk.decideGate(id, 'approve-deploy', visit, 'U_REL1', 'approve')).toBe('Approved "approve-deploy".');
    expect(await desk.cancelWorkflow(id, 'U_STRANGER')).toContain('(rule cancel)');
    expect(await desk.cancelWorkflow(id, 'U_ADMIN')).toBe('Cancelling the workflow; running steps are stopped.');
    // Each decision records the rule that allowed it.
    const { events } = await store.read(streamName('workflow', id));
    expect(events.find((e) => e.type === 'ApprovalGranted')?.metadata).toMatchObject({ actor: 'U_REL1', authorization: 'gates.deploy.approvers' });
    expect(events.find((e) => e.type === 'WorkflowCancelled')?.metadata).toMatchObject({ actor: 'U_ADMIN', authorization: 'cancel.admin' });
  });
});

describe('chat requests under the policy', () => {
  const message = (user: string, text: string, ts: string): IncomingMessage => ({ source: 'console', channel: 'C9', threadTs: ts, messageTs: ts, user, text });

  it('refuses a task the person may not start without writing ConversationStarted (or anything)', async () => {
    const before = await eventCount();
    const outcome = await intake.receive(message('U_DEV', 'lint my-service', '100.1'));
    expect(outcome).toMatchObject({ kind: 'refused' });
    expect(outcome.kind === 'refused' && outcome.message).toContain('(rule taskTypes.lint)');
    expect(await eventCount()).toBe(before);
    expect((await store.read(streamName('conversation', outcome.kind === 'refused' ? outcome.conversationId : 'x'))).exists).toBe(false);
  });

  it('refuses a message the conversation would refuse (too long) before starting one', async () => {
    const before = await eventCount();
    const outcome = await intake.receive(message('U_DEV', 'x'.repeat(40_001), '100.2'));
    expect(outcome).toMatchObject({ kind: 'refused', message: expect.stringContaining('InvalidCommand') });
    expect(await eventCount()).toBe(before);
  });

  it('queues the same task for someone the policy allows, starting the conversation', async () => {
    const outcome = await intake.receive(message('U_REL1', 'lint my-service', '100.3'));
    expect(outcome).toMatchObject({ kind: 'queued', taskId: expect.any(String) });
    const { events } = await store.read(streamName('conversation', outcome.kind === 'queued' ? outcome.conversationId : 'x'));
    expect(events.map((e) => e.type)).toContain('ConversationStarted');
  });
});

describe('/orchestrator policy', () => {
  it('tells the person asking what applies to them', async () => {
    const answer = await slash('/orchestrator', 'policy', 'U_REL1');
    expect(answer).toContain('Policy (policy-doors.yaml) for U_REL1:');
    expect(answer).toContain('Roles: approver, deployer, requester');
    expect(answer).toContain('Deploy to prod*: yes');
    expect(await slash('/orchestrator', 'policy', 'U_DEV')).toContain('Deploy to prod*: no (deploy.targets[1]: deployers)');
  });
});

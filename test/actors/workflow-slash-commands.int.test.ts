import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowAggregate } from '../../actors/aggregates/workflow.ts';
import { AggregateHost } from '../../actors/runtime/aggregate-host.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { slashCommands, splitWords, type SlashRequest, type StatusSource } from '../../actors/slash-commands.ts';
import type { WorkflowDesk } from '../../actors/workflow-slash-commands.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { AggregateStateClient } from '../../actors/runtime/aggregate-state-client.ts';
import { executors } from '../../adapters/executors/registry.ts';
import { systemClock } from '../../infra/system-clock.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import type { CompiledWorkflow, WorkflowEventData } from '../../domain/workflow/index.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';

// `/workflow` on a real nats-server with the Workflow aggregate hosted: templates listed against
// the task types workers run, started through the aggregate, read back from the event store,
// and cancelled, with the person who typed the command as requester and actor.

const PREFIX = 'acme';
const USER = 'U42';
const MAX_EXECUTION_MS = 1_800_000;
const logger = pino({ level: 'silent' });

/** What this deployment's workers run: every built-in template can start. */
const realRegistry = { taskTypes: executors.map((e) => e.taskType), sideEffecting: executors.filter((e) => e.sideEffects).map((e) => e.taskType) };
/** As if no worker ran sf-deploy: the deployment template cannot start, the others can. */
const withoutSfDeploy = {
  taskTypes: realRegistry.taskTypes.filter((t) => t !== 'sf-deploy'),
  sideEffecting: realRegistry.sideEffecting.filter((t) => t !== 'sf-deploy'),
};

const status: StatusSource = { planner: 'offline', frontEnd: 'test', pools: [], taskTotals: async () => undefined };

let server: TestNatsServer;
let nc: NatsConnection;
let store: JetStreamEventStore;
let host: AggregateHost<never, never, never>;
let commands: CommandClient;

beforeAll(async () => {
  server = await startTestNatsServer();
  nc = await connectNats(server.url);
  store = await JetStreamEventStore.connect(nc);
  host = new AggregateHost({ nc, store, definition: workflowAggregate, clock: systemClock, logger, prefix: PREFIX }) as never;
  host.start();
  await nc.flush();
  commands = new CommandClient(nc, PREFIX);
});

afterAll(async () => {
  await host?.stop();
  await nc?.close();
  await server?.dispose();
});

const deskWith = (overrides: Partial<WorkflowDesk> = {}): WorkflowDesk => ({
  commands,
  states: new AggregateStateClient(nc, PREFIX),
  logger,
  registry: realRegistry,
  maxExecutionMs: MAX_EXECUTION_MS,
  ...overrides,
});
const tableWith = (overrides: Partial<WorkflowDesk> = {}) => slashCommands(status, deskWith(overrides));
const request = (text: string, user = USER): SlashRequest => ({ command: '/workflow', text, user, channel: 'C1' });
const workflow = async (text: string, overrides: Partial<WorkflowDesk> = {}, user = USER): Promise<string> =>
  (await tableWith(overrides).answer(request(text, user))).text;

const eventsOf = async (id: string): Promise<readonly RecordedEvent[]> => (await store.read(streamName('workflow', id))).events;
const startedId = (answer: string): string => {
  const found = /^Started workflow (wf-[0-9a-f]{8}) \(/.exec(answer);
  if (!found) throw new Error(`not a start answer: ${answer}`);
  return found[1]!;
};
const complete = async (id: string, stepId: string, output: unknown) => {
  const reply = await commands.send(
    { category: 'workflow', id },
    { commandId: crypto.randomUUID(), type: 'RecordStepCompleted', actor: 'engine', data: { stepId, attempt: 1, output } },
  );
  expect(reply).toMatchObject({ status: 'accepted' });
};

describe('/workflow list', () => {
  it('lists the four templates with their parameters, each of which runs here', async () => {
    const answer = await workflow('list');
    for (const id of ['analyze-and-improve', 'bug-fix', 'deployment', 'code-review']) expect(answer).toContain(`• ${id} — `);
    expect(answer).toContain('• deployment — Deployment: Validates a deployment');
    expect(answer).toContain('repository (required): the project to deploy');
    expect(answer).toContain('approvers (list, comma-separated; default none)');
    expect(answer).toContain('scope (default "the changes on the current branch against its base")');
    expect(answer.match(/Runs here\./g)).toHaveLength(4);
    expect(answer).not.toContain('Cannot run here yet');
  });

  it('says which task types no worker runs for a template that needs them', async () => {
    const answer = await workflow('list', { registry: withoutSfDeploy });
    expect(answer).toMatch(/• deployment — [^\n]*\n(?: {4}\w+ \([^\n]*\n)+ {4}Cannot run here yet: needs task type sf-deploy which no worker runs yet\./);
    expect(answer.match(/Cannot run here yet/g)).toHaveLength(1);
    expect(answer.match(/Runs here\./g)).toHaveLength(3);
  });
});

describe('/workflow start', () => {
  it('an unknown template: UnknownTemplate, naming the templates there are', async () => {
    const answer = await workflow('start deploy-staging repository=acme');
    expect(answer).toContain('Cannot start deploy-staging:');
    expect(answer).toContain('UnknownTemplate: no template "deploy-staging"; templates: analyze-and-improve, bug-fix, deployment, code-review');
  });

  it('missing and unknown parameters: every one named', async () => {
    const answer = await workflow('start deployment colour=blue');
    expect(answer).toContain('MissingParameter: template deployment needs "repository"');
    expect(answer).toContain('MissingParameter: template deployment needs "targetOrg"');
    expect(answer).toContain('UnknownParameter: template deployment has no parameter "colour"');
  });

  it('words that are not key=value are refused before the template is looked at', async () => {
    const answer = await workflow('start deployment acme =x repository=a repository=b');
    expect(answer).toContain('"acme" is not key=value');
    expect(answer).toContain('"=x" is not key=value');
    expect(answer).toContain('"repository" is given twice');
  });

  it('a template whose task types no worker runs: UnknownTaskType for each such step, and nothing started', async () => {
    const before = (await store.readAll()).length;
    const answer = await workflow('start deployment repository=acme targetOrg=prod', { registry: withoutSfDeploy });
    expect(answer).toContain('Cannot start deployment:');
    expect(answer).toContain('UnknownTaskType: step "validate" runs task type "sf-deploy", which is not registered');
    expect(answer).toContain('UnknownTaskType: step "deploy" runs task type "sf-deploy", which is not registered');
    expect(answer.match(/UnknownTaskType/g)).toHaveLength(2);
    expect((await store.readAll()).length).toBe(before);
  });

  it('a runnable template: StartWorkflow with a new id, the user as requester and actor, the configured maximum time, and the first step scheduled', async () => {
    const answer = await workflow('start deployment repository=acme targetOrg=my-sandbox approvers=U1,U2');
    expect(answer).toMatch(/^Started workflow wf-[0-9a-f]{8} \(Deployment\)\./);
    const id = startedId(answer);
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['WorkflowStarted', 'StepScheduled']);
    const started = events[0]!.data as WorkflowEventData<'WorkflowStarted'>;
    expect(started).toMatchObject({
      workflowId: id,
      requestedBy: USER,
      maxExecutionMs: MAX_EXECUTION_MS,
      source: { kind: 'template', templateId: 'deployment' },
      inputs: { repository: 'acme', targetOrg: 'my-sandbox', approvers: 'U1,U2' },
      dryRun: false,
    });
    const gate = findNode(started.definition, 'approve-deploy');
    expect(gate).toMatchObject({ kind: 'approval', approvers: ['U1', 'U2'], title: 'Deploy to my-sandbox?', requesterMayApprove: false });
    expect(events[1]!.data).toMatchObject({
      stepId: 'validate',
      attempt: 1,
      taskType: 'sf-deploy',
      params: { repository: 'acme', targetOrg: 'my-sandbox', mode: 'validate' },
    });
    expect(events.every((e) => e.metadata.actor === USER && e.metadata.correlationId === id)).toBe(true);
  });

  it('--dry-run starts a dry run, and says so; DRY_RUN makes every start one', async () => {
    const answer = await workflow('start deployment --dry-run repository=acme targetOrg=my-sandbox');
    expect(answer).toMatch(/^Started workflow wf-[0-9a-f]{8} \(Deployment\) as a dry run: steps that change something outside are recorded, not run\./);
    expect((await eventsOf(startedId(answer)))[0]!.data).toMatchObject({ dryRun: true, inputs: { repository: 'acme', targetOrg: 'my-sandbox' } });
    const everywhere = await workflow('start code-review repository=acme', { dryRun: true });
    expect((await eventsOf(startedId(everywhere)))[0]!.data).toMatchObject({ dryRun: true });
    const plain = await workflow('start code-review repository=acme');
    expect((await eventsOf(startedId(plain)))[0]!.data).toMatchObject({ dryRun: false });
  });

  it("a dry run's status reports what a recorded step would have run", async () => {
    const id = startedId(await workflow('start deployment --dry-run repository=acme targetOrg=my-sandbox'));
    await complete(id, 'validate', { dryRun: true, wouldRun: { taskType: 'sf-deploy', params: { repository: 'acme', mode: 'validate' } } });
    const status = await workflow(`status ${id}`);
    expect(status).toContain(`Workflow ${id} — Deployment: running (dry run)`);
    expect(status).toContain(
      '• validate (Validate the deployment): completed (attempt 1, dry run: would have run sf-deploy with {"repository":"acme","mode":"validate"})',
    );
  });

  it('a command the aggregate rejects answers its code and message', async () => {
    const taken = startedId(await workflow('start code-review repository=acme'));
    const answer = await workflow('start code-review repository=acme', { newWorkflowId: () => taken });
    expect(answer).toContain('Workflow code-review was not started: WorkflowAlreadyStarted: workflow ' + taken + ' was already started at');
  });
});

function findNode(definition: CompiledWorkflow, id: string): unknown {
  const search = (nodes: CompiledWorkflow['machine']['nodes']): unknown =>
    nodes.map((n) => (n.id === id ? n : n.kind === 'parallel' ? n.branches.map((b) => search(b.nodes)).find(Boolean) : undefined)).find(Boolean);
  return search(definition.machine.nodes);
}

describe('/workflow status and cancel', () => {
  let id: string;

  beforeAll(async () => {
    id = startedId(await workflow('start deployment repository=acme targetOrg=prod approvers=U7'));
  });

  it('status of a running workflow: who started it and when, each step, no approvals pending yet', async () => {
    const answer = await workflow(`status ${id}`);
    const started = (await eventsOf(id))[0]!.data as WorkflowEventData<'WorkflowStarted'>;
    expect(answer).toContain(`Workflow ${id} — Deployment: running`);
    expect(answer).toContain(`Started by ${USER} at ${started.at}; times out at ${started.timesOutAt}.`);
    expect(answer).toContain('• validate (Validate the deployment): scheduled (attempt 1)');
    expect(answer).toContain('• test (Run the tests): not reached yet');
    expect(answer).toContain('• approve-deploy (Deploy to prod?): not reached yet');
    expect(answer).toContain('Pending approvals: none.');
  });

  it('status at the approval gate: completed steps and the pending approval with its approvers and due time', async () => {
    await complete(id, 'validate', { success: true });
    await complete(id, 'test', { success: true });
    const answer = await workflow(`status ${id}`);
    expect(answer).toContain('• validate (Validate the deployment): completed (attempt 1)');
    expect(answer).toContain('• test (Run the tests): completed (attempt 1)');
    expect(answer).toContain('• approve-deploy (Deploy to prod?): awaiting approval');
    expect(answer).toMatch(
      /Pending approvals:\n• approve-deploy \(Deploy to prod\?\): 0 of 1 granted; approvers: U7, not the requester alone; due at \d{4}-\d\d-\d\dT/,
    );
  });

  it('an unknown id: no workflow', async () => {
    expect(await workflow('status wf-00000000')).toBe('No workflow wf-00000000.');
    expect(await workflow('status a.b')).toBe('No workflow a.b.');
    expect(await workflow('cancel wf-00000000')).toBe('No workflow wf-00000000.');
  });

  it('cancel: WorkflowCancelled recorded with the user as requester and actor; status says so; a second cancel says it has already finished', async () => {
    expect(await workflow(`cancel ${id}`, {}, 'U99')).toBe(`Cancelled workflow ${id}.`);
    const cancelled = (await eventsOf(id)).at(-1)!;
    expect(cancelled.type).toBe('WorkflowCancelled');
    expect(cancelled.data).toMatchObject({ requestedBy: 'U99', reason: 'cancelled by U99 with /workflow cancel' });
    expect(cancelled.metadata.actor).toBe('U99');
    const answer = await workflow(`status ${id}`);
    expect(answer).toContain(`Workflow ${id} — Deployment: cancelled`);
    expect(answer).toContain('Cancelled by U99: cancelled by U99 with /workflow cancel');
    expect(answer).toContain('• approve-deploy (Deploy to prod?): awaiting approval when the workflow ended');
    expect(answer).toContain('Pending approvals: none.');
    expect(await workflow(`cancel ${id}`)).toBe(`Workflow ${id} has already finished (cancelled); there is nothing to cancel.`);
    expect((await eventsOf(id)).filter((e) => e.type === 'WorkflowCancelled')).toHaveLength(1);
  });
});

describe('/workflow usage', () => {
  it('an unknown subcommand answers with the usage', async () => {
    const answer = await workflow('frobnicate');
    expect(answer).toContain('I do not know "/workflow frobnicate".');
    expect(answer).toContain('/workflow start <template> [--dry-run] [key=value ...]');
    expect(answer).toContain('/workflow status <id>');
  });

  it('a subcommand without its argument says what it needs', async () => {
    expect(await workflow('status')).toContain('Which workflow? /workflow status <id>');
    expect(await workflow('cancel')).toContain('Which workflow? /workflow cancel <id>');
    expect(await workflow('start')).toContain('Which template?');
  });

  it('quotes (straight or curly) keep spaces inside one value', () => {
    expect(splitWords('start bug-fix  repository=acme issue="it breaks on save" x=“a b” y=""')).toEqual([
      'start',
      'bug-fix',
      'repository=acme',
      'issue=it breaks on save',
      'x=a b',
      'y=',
    ]);
  });
});

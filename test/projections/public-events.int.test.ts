import { Writable } from 'node:stream';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { JetStreamManager, NatsConnection } from 'nats';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { JetStreamPublicEventSink } from '../../adapters/jetstream/public-event-sink.ts';
import { ensurePublicEventStream, publicEventNames } from '../../adapters/jetstream/public-event-stream.ts';
import { KvCheckpointStore } from '../../adapters/nats/kv-checkpoint-store.ts';
import { eventCatalog } from '../../domain/events/catalog.ts';
import { aggregates } from '../../actors/aggregates/index.ts';
import type { CloudEvent } from '../../domain/events/cloud-event.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { parseStreamName } from '../../domain/streams.ts';
import { registerDefinition, type CompiledWorkflow } from '../../domain/workflow/index.ts';
import { loadConfig } from '../../infra/config/load-config.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startRole } from '../../infra/roles.ts';
import { PUBLIC_EVENTS_CHECKPOINT, PublicEventPublisher } from '../../projections/public-events/public-event-publisher.ts';
import { oneEvent } from '../support/events.ts';
import { statusPlan, testsThenDeploy } from '../support/plan-fixtures.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { loadPublicEventSchemas } from '../support/public-event-schemas.ts';

// The public-events reactor on a real nats-server: events recorded by every real aggregate
// (Task, Conversation, Delivery, Plan, Workflow, Budget) go out to the public stream once each, as CloudEvents
// that pass the committed JSON Schema files, across restarts, a crash before the checkpoint,
// and an outage of the public stream.

interface PublicMessage {
  readonly seq: number;
  readonly subject: string;
  readonly msgId: string | undefined;
  readonly contentType: string | undefined;
  readonly event: CloudEvent;
}

const names = publicEventNames('orch');

const workflowDefinition = (root: object): CompiledWorkflow => {
  const compiled = registerDefinition({ form: 'stepTree', name: 'public events', root }, { taskTypes: ['run-tests', 'lint', 'git-status'] });
  if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
  return compiled.right;
};
/** Build (retried once), then lint or fix by the build's output, then an approval: most workflow events in one run. */
const buildLintApprove = workflowDefinition({
  type: 'sequence',
  steps: [
    { type: 'task', id: 'build', taskType: 'run-tests', params: { repository: 'repo-a' }, retry: { attempts: 2, backoffMs: 0, maxBackoffMs: 0 } },
    {
      type: 'conditional',
      id: 'green',
      condition: 'steps.build.output.ok == true',
      then: { type: 'task', id: 'lint', taskType: 'lint', params: { repository: 'repo-a' } },
      else: { type: 'task', id: 'fix', taskType: 'git-status', params: { repository: 'repo-a' } },
    },
    { type: 'approval', id: 'go', title: 'Ship it?' },
  ],
});
const gateFirst = (timeoutMs?: number, reminderBeforeMs?: number) =>
  workflowDefinition({
    type: 'sequence',
    steps: [
      { type: 'approval', id: 'go', ...(timeoutMs !== undefined && { timeoutMs }), ...(reminderBeforeMs !== undefined && { reminderBeforeMs }) },
      { type: 'task', id: 'lint', taskType: 'lint', params: { repository: 'repo-a' } },
    ],
  });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Each round of commands uses a budget month of its own, so its caps and thresholds start afresh. */
let budgetRound = 0;

describe('public events reactor', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let store: JetStreamEventStore;
  let checkpoints: KvCheckpointStore;
  let client: CommandClient;
  let stopAggregates: () => Promise<unknown>;
  let publisher: PublicEventPublisher | undefined;
  const logLines: Record<string, unknown>[] = [];

  const captureLogger = (): Logger =>
    pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      }),
    );

  const startPublisher = async (): Promise<PublicEventPublisher> => {
    const sink = await JetStreamPublicEventSink.connect(nc);
    publisher = new PublicEventPublisher({
      store,
      sink,
      checkpoints,
      logger: captureLogger(),
      source: 'orch://orch',
      checkpointIntervalMs: 200,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    await publisher.start();
    return publisher;
  };
  const stopPublisher = async () => {
    await publisher?.stop();
    publisher = undefined;
  };

  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    jsm = await nc.jetstreamManager();
    store = await JetStreamEventStore.connect(nc);
    checkpoints = await KvCheckpointStore.connect(nc);
    // Slack settings: tasks replying to a Slack thread are only admitted where Slack is configured.
    const config = loadConfig(
      { NATS_URL: server.url, LOG_LEVEL: 'silent', SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test-signing-secret' },
      { envFile: false },
    );
    stopAggregates = await startRole('aggregates', { config, nc, store, logger: pino({ level: 'silent' }) });
    client = new CommandClient(nc);
  });
  afterAll(async () => {
    await stopPublisher();
    await stopAggregates();
    await nc.close();
    await server.dispose();
  });

  const send = async (category: string, id: string, type: string, data: Record<string, unknown> = {}) => {
    // Who approves, rejects or cancels is the command's sender: the person named in the data sends it.
    const person = [data.approver, data.rejectedBy, data.resolvedBy].find((p): p is string => typeof p === 'string');
    const reply = await client.forward({ category, id }, { commandId: crypto.randomUUID(), type, actor: person ?? 'U42', data, correlationId: `corr-${id}` });
    expect(reply, `${type} on ${category}-${id}: ${JSON.stringify(reply)}`).toMatchObject({ status: 'accepted' });
  };

  /** Commands through the real aggregates that between them record every event type in the catalog. */
  const recordEveryEventType = async () => {
    const retried = crypto.randomUUID();
    await send('task', retried, 'QueueTask', {
      taskType: 'run-tests',
      pool: 'local-ops',
      payload: { repository: 'repo-a' },
      timeoutMs: 60_000,
      requestedBy: 'U42',
      replyTo: { kind: 'slack', channel: 'C1', threadTs: '1700000000.000100' },
    });
    await send('task', retried, 'AssignTask', { workerId: 'w-1', attempt: 1 });
    await send('task', retried, 'ReportProgress', { attempt: 1, stage: 'install', percent: 20, counters: { files: 3 } });
    await send('task', retried, 'AssignTask', { workerId: 'w-2', attempt: 2 }); // w-1 went silent: abandoned
    await send('task', retried, 'FailTask', { attempt: 2, error: { code: 'ExitCode', message: 'exit 1' }, retryable: true, retryDelayMs: 60_000 });
    await send('task', retried, 'AssignTask', { workerId: 'w-3', attempt: 3 });
    await send('task', retried, 'TimeOutTask', { attempt: 3 });
    const completed = crypto.randomUUID();
    await send('task', completed, 'QueueTask', {
      taskType: 'git-status',
      pool: 'local-ops',
      payload: { repository: 'repo-b' },
      timeoutMs: 30_000,
      requestedBy: 'U42',
      priority: 'high',
    });
    await send('task', completed, 'AssignTask', { workerId: 'w-1', attempt: 1 });
    await send('task', completed, 'CompleteTask', { attempt: 1, result: { clean: true, branch: 'main' }, durationMs: 1234 });
    // A deploy whose worker went silent: its outcome is unknown until someone resolves it.
    const unknown = crypto.randomUUID();
    await send('task', unknown, 'QueueTask', {
      taskType: 'sf-deploy',
      pool: 'salesforce',
      payload: { repository: 'repo-sf', targetOrg: 'dev' },
      timeoutMs: 60_000,
      requestedBy: 'U42',
    });
    await send('task', unknown, 'AssignTask', { workerId: 'w-1', attempt: 1, rerunSafe: false });
    await send('task', unknown, 'RecordAttemptEvidence', { attempt: 1, evidence: { deployJobId: '0Af5g00000ABCDE' } });
    await send('task', unknown, 'AssignTask', { workerId: 'w-2', attempt: 2, rerunSafe: false });
    await send('task', unknown, 'ResolveTaskOutcome', { resolution: 'rerun', resolvedBy: 'U42', via: 'person' });
    const cancelled = crypto.randomUUID();
    await send('task', cancelled, 'QueueTask', {
      taskType: 'lint',
      pool: 'local-ops',
      payload: { repository: 'repo-c' },
      timeoutMs: 30_000,
      requestedBy: 'U42',
    });
    await send('task', cancelled, 'CancelTask', { reason: 'not needed', requestedBy: 'U42' });
    const conversation = crypto.randomUUID();
    await send('conversation', conversation, 'StartConversation', { user: 'U42', channel: 'C1', threadTs: '1700000000.000100', source: 'slack' });
    await send('conversation', conversation, 'AddMessage', { messageId: 'm1', role: 'user', text: 'analyze repo-a', metadata: { client: 'slack', n: 1 } });
    await send('conversation', conversation, 'SetContextVariable', { name: 'currentRepo', value: 'repo-a' });
    await send('conversation', conversation, 'RecordRequest', {
      messageId: 'm1',
      asked: { kind: 'task', taskType: 'analyze-codebase', taskIds: ['t-analyze-1'] },
      context: { currentRepo: 'repo-a' },
    });
    await send('conversation', conversation, 'SummarizeMemory', { summary: 'asked to analyze repo-a', coversThroughMessage: 1 });
    await send('conversation', conversation, 'ArchiveConversation', { reason: 'done' });
    // A delivery stream shares its task's id.
    const thread = { channel: 'C1', threadTs: '1700000000.000100' };
    await send('delivery', retried, 'BeginProgressMessage', thread);
    await send('delivery', retried, 'RecordProgressMessage', { channel: 'C1', ts: '1700000001.000200' });
    await send('delivery', retried, 'BeginReply', { target: { kind: 'slack', ...thread }, outcome: 'failed' });
    await send('delivery', retried, 'RecordReplyPosted', { channel: 'C1', ts: '1700000002.000300', fileIds: ['F1'] });
    const webhook = { kind: 'webhook', url: 'https://ci.example.com/hooks/orch' };
    await send('delivery', completed, 'BeginReply', { target: webhook, outcome: 'completed' });
    await send('delivery', completed, 'RecordWebhookAttempt', {
      attempt: 1,
      maxAttempts: 3,
      outcome: { delivered: false, status: 503, error: 'HTTP 503', retryable: true },
    });
    await send('delivery', completed, 'RecordWebhookAttempt', { attempt: 2, maxAttempts: 3, outcome: { delivered: true, status: 200 } });
    await send('delivery', cancelled, 'BeginReply', { target: webhook, outcome: 'cancelled' });
    await send('delivery', cancelled, 'RecordWebhookAttempt', {
      attempt: 1,
      maxAttempts: 3,
      outcome: { delivered: false, status: 410, error: 'HTTP 410 Gone', retryable: false },
    });
    const natsReply = crypto.randomUUID();
    await send('delivery', natsReply, 'BeginReply', { target: { kind: 'nats', subject: 'ci.results' }, outcome: 'completed' });
    await send('delivery', natsReply, 'RecordNatsReply', { subject: 'ci.results' });
    // Plans: proposed, amended, approved and compiled; another rejected.
    const spend = { model: 'claude-opus-4-5', usage: { inputTokens: 1_200, outputTokens: 800 }, costUsd: 0.026 };
    const approval = { required: true, reasons: ['step deploy runs sf-deploy, which changes things outside (side effects)'], requesterMayApprove: true };
    const proposal = {
      conversationId: conversation,
      requestedBy: 'U42',
      request: 'deploy my changes, test everything first',
      plan: testsThenDeploy(),
      ...spend,
      approval,
    };
    const compiledPlan = crypto.randomUUID();
    const built = crypto.randomUUID();
    await send('plan', compiledPlan, 'ProposePlan', proposal);
    await send('plan', compiledPlan, 'AmendPlan', { plan: testsThenDeploy('acme/api'), reason: 'only the api package', amendedBy: 'U42', ...spend, approval });
    await send('plan', compiledPlan, 'ApprovePlan', { approver: 'U42', via: 'button', revision: 2 });
    await send('plan', compiledPlan, 'RecordPlanCompiled', { workflowId: built });
    const rejectedPlan = crypto.randomUUID();
    await send('plan', rejectedPlan, 'ProposePlan', { ...proposal, plan: statusPlan() });
    await send('plan', rejectedPlan, 'RejectPlan', { rejectedBy: 'U42', reason: 'not today' });
    // Workflows: one through a retry, a branch and an approval to completion; one rejected at its
    // gate, one timed out there, one cancelled, one past its maximum execution time.
    await send('workflow', built, 'StartWorkflow', {
      definition: buildLintApprove,
      inputs: { repository: 'repo-a' },
      requestedBy: 'U42',
      source: { kind: 'plan', planId: compiledPlan },
    });
    await send('workflow', built, 'RecordStepStarted', { stepId: 'build', attempt: 1, workerId: 'w-1' });
    await send('workflow', built, 'RecordStepFailed', {
      stepId: 'build',
      attempt: 1,
      error: { code: 'ExitCode', message: 'exit 1' },
      retryable: true,
      jitter: 0.5,
    });
    await send('workflow', built, 'RecordStepCompleted', { stepId: 'build', attempt: 2, output: { ok: true } });
    await send('workflow', built, 'RecordStepCompleted', { stepId: 'lint', attempt: 1, output: { problems: 0 } });
    await send('workflow', built, 'GrantApproval', { stepId: 'go', approver: 'U-lead' });
    const refused = crypto.randomUUID();
    await send('workflow', refused, 'StartWorkflow', { definition: gateFirst(), requestedBy: 'U42', source: { kind: 'template', templateId: 'events' } });
    await send('workflow', refused, 'RejectApproval', { stepId: 'go', approver: 'U-lead', reason: 'not now' });
    const unanswered = crypto.randomUUID();
    await send('workflow', unanswered, 'StartWorkflow', { definition: gateFirst(2, 1), requestedBy: 'U42' });
    // A paid step over a budget cap waits for a cost gate (AG5); granted, it is queued.
    const costly = crypto.randomUUID();
    await send('workflow', costly, 'StartWorkflow', { definition: buildLintApprove, requestedBy: 'U42' });
    await send('workflow', costly, 'RequestCostApproval', {
      stepId: 'build',
      attempt: 1,
      amountUsd: 5,
      reason: 'over the monthly cap',
      approvers: ['U-lead'],
      quorum: 1,
      requesterMayApprove: false,
      timeoutMs: 60_000,
    });
    await send('workflow', costly, 'GrantApproval', { stepId: 'build', approver: 'U-lead' });
    const cancelledWorkflow = crypto.randomUUID();
    await send('workflow', cancelledWorkflow, 'StartWorkflow', { definition: buildLintApprove, requestedBy: 'U42' });
    await send('workflow', cancelledWorkflow, 'CancelWorkflow', { reason: 'not needed', requestedBy: 'U42' });
    const overdue = crypto.randomUUID();
    await send('workflow', overdue, 'StartWorkflow', { definition: buildLintApprove, requestedBy: 'U42', maxExecutionMs: 1 });
    await send('workflow', overdue, 'RecordStepOutcomeUnknown', { stepId: 'build', attempt: 1, taskId: `${overdue}_build_1` });
    await pause(10); // past the gate's 1 ms and the workflow's 1 ms, by the hosts' clock
    await send('workflow', unanswered, 'RemindApprovers', { stepId: 'go', visit: 1 });
    await send('workflow', unanswered, 'TimeOutApproval', { stepId: 'go' });
    await send('workflow', overdue, 'TimeOutWorkflow');
    // Budget: caps, a reservation committed past both thresholds, an over-cap request released.
    const month = `${2100 + budgetRound++}-01`;
    await send('budget', month, 'SetCaps', { monthlyUsd: 10, perUserUsd: 20, setBy: 'U42' });
    await send('budget', month, 'ReserveCost', { reservationId: 'r1', amountUsd: 9.6, purpose: 'plan a request', user: 'U42' });
    await send('budget', month, 'CommitCost', { reservationId: 'r1', actualUsd: 9.7 });
    await send('budget', month, 'ReserveCost', {
      reservationId: 'r2',
      amountUsd: 5,
      purpose: 'run a workflow',
      workflowId: built,
      user: 'U42',
      ifOverCap: 'askApproval',
    });
    await send('budget', month, 'ReleaseCost', { reservationId: 'r2', reason: 'over-cap approval denied' });
  };

  const publicCount = async () => (await jsm.streams.info(names.streamName)).state.messages;

  const readPublicStream = async (): Promise<PublicMessage[]> => {
    const messages: PublicMessage[] = [];
    if ((await publicCount()) === 0) return messages;
    const consumer = await nc.jetstream().consumers.get(names.streamName);
    const iterator = await consumer.consume();
    for await (const m of iterator) {
      messages.push({
        seq: m.seq,
        subject: m.subject,
        msgId: m.headers?.get('Nats-Msg-Id'),
        contentType: m.headers?.get('Content-Type'),
        event: m.json<CloudEvent>(),
      });
      if (m.info.pending === 0) break;
    }
    return messages;
  };

  const waitUntil = async (what: string, done: () => Promise<boolean> | boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const publicEventsOf = (events: readonly RecordedEvent[]) => events.filter((e) => eventCatalog.has(e.type));
  const waitForAllPublished = async () => {
    const expected = publicEventsOf(await store.readAll()).length;
    await waitUntil(`${expected} public events`, async () => (await publicCount()) >= expected);
    return expected;
  };

  it('publishes every recorded event once, in log order, as a CloudEvent that passes its schema file', async () => {
    await recordEveryEventType();
    await startPublisher();
    const expected = await waitForAllPublished();
    const recorded = await store.readAll();
    const published = await readPublicStream();
    expect(published).toHaveLength(expected);
    expect(published.map((m) => m.event.id)).toEqual(recorded.map((e) => e.id));
    // Every event type of every hosted aggregate.
    const hosted = new Set(aggregates.map((a) => a.category));
    expect(hosted).toEqual(new Set([...eventCatalog.values()].map((e) => e.category)));
    expect(new Set(published.map((m) => m.event.type))).toEqual(new Set([...eventCatalog.values()].filter((e) => hosted.has(e.category)).map((e) => e.type)));

    const schemas = loadPublicEventSchemas();
    recorded.forEach((event, i) => {
      const message = published[i]!;
      const { category } = parseStreamName(event.stream);
      expect(message.subject).toBe(`orch.events.${category}.${event.type}`);
      expect(message.msgId).toBe(event.id);
      expect(message.contentType).toBe('application/cloudevents+json; charset=utf-8');
      expect(message.event).toEqual({
        specversion: '1.0',
        id: event.id,
        source: 'orch://orch',
        type: event.type,
        subject: event.stream,
        time: event.metadata.occurredAt,
        datacontenttype: 'application/json',
        dataschema: `urn:orch:event-schema:${event.type}:v1`,
        correlationid: event.metadata.correlationId,
        causationid: event.metadata.causationId,
        actor: event.metadata.actor,
        data: event.data,
      });
      expect(message.event.correlationid).toMatch(/^corr-/);
      // Decisions at a gate are sent by the approver, and so are the events they cause.
      expect(['U42', 'U-lead']).toContain(message.event.actor);
      if (event.type === 'ApprovalGranted' || event.type === 'ApprovalRejected') expect(message.event.actor).toBe('U-lead');
      expect(schemas.problems(message.event), `${event.type} against its schema file`).toEqual([]);
    });
  });

  it('stopped, more events recorded, started again: the new events follow, none missing, none doubled', async () => {
    await stopPublisher();
    const recordedBefore = await store.readAll();
    expect(await checkpoints.load(PUBLIC_EVENTS_CHECKPOINT)).toBe(recordedBefore.at(-1)!.position);
    await recordEveryEventType();
    expect(await publicCount()).toBe(recordedBefore.length);
    await startPublisher();
    await waitForAllPublished();
    const recorded = await store.readAll();
    const published = await readPublicStream();
    expect(published.map((m) => m.event.id)).toEqual(recorded.map((e) => e.id));
    const schemas = loadPublicEventSchemas();
    for (const m of published) expect(schemas.problems(m.event)).toEqual([]);
  });

  it('a crash after publishing but before saving the checkpoint: the tail goes out again and the stream keeps one copy', async () => {
    await stopPublisher();
    const recorded = await store.readAll();
    const before = await publicCount();
    // As if the process died right after publishing event 5 of many: the checkpoint is behind.
    await checkpoints.save(PUBLIC_EVENTS_CHECKPOINT, recorded[4]!.position);
    const restarted = await startPublisher();
    const tail = recorded.length - 5;
    await waitUntil(`${tail} re-published events`, () => restarted.counts.duplicates >= tail);
    expect(restarted.counts).toEqual({ published: 0, duplicates: tail, skipped: 0 });
    expect(await publicCount()).toBe(before);
    expect((await readPublicStream()).map((m) => m.event.id)).toEqual(recorded.map((e) => e.id));
  });

  it('while the public stream is unavailable it retries and does not move its checkpoint; afterwards every event arrives', async () => {
    const running = publisher!;
    const lastPublished = (await store.readAll()).at(-1)!;
    await waitUntil('checkpoint saved', async () => (await checkpoints.load(PUBLIC_EVENTS_CHECKPOINT)) === lastPublished.position);
    await jsm.streams.delete(names.streamName);
    logLines.length = 0;
    await recordEveryEventType();
    await waitUntil('a few failed publishes', () => logLines.filter((l) => l.msg === 'publishing a public event failed; retrying').length >= 3);
    await new Promise((r) => setTimeout(r, 500)); // longer than the checkpoint interval
    expect(await checkpoints.load(PUBLIC_EVENTS_CHECKPOINT)).toBe(lastPublished.position);

    await ensurePublicEventStream(jsm, names);
    const missed = (await store.readAll({ after: lastPublished.position })).map((e) => e.id);
    await waitUntil(`${missed.length} events after the outage`, async () => (await publicCount()) >= missed.length);
    expect((await readPublicStream()).map((m) => m.event.id)).toEqual(missed);
    await waitUntil('checkpoint moves on', async () => (await checkpoints.load(PUBLIC_EVENTS_CHECKPOINT)) === (await store.readAll()).at(-1)!.position);
    expect(running.counts.skipped).toBe(0);
  });

  it('an event the catalog does not know is left out with an error logged, and does not hold back later events', async () => {
    const before = await publicCount();
    logLines.length = 0;
    await store.append(parseStreamName(`gadget-${crypto.randomUUID()}`).stream, oneEvent('GadgetWound', { turns: 3 }), 'no_stream');
    const conversation = crypto.randomUUID();
    await send('conversation', conversation, 'StartConversation', { user: 'U42', channel: 'C1', source: 'console' });
    await waitUntil('the later event is published', async () => (await publicCount()) === before + 1);
    expect((await readPublicStream()).at(-1)!.event).toMatchObject({ type: 'ConversationStarted', subject: `conversation-${conversation}` });
    expect(publisher!.counts.skipped).toBe(1);
    expect(logLines.find((l) => l.msg === 'event has no public form; not published')).toMatchObject({ level: 50, type: 'GadgetWound' });
  });
});

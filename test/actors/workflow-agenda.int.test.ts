import { randomUUID } from 'node:crypto';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskAggregate } from '../../actors/aggregates/task.ts';
import { workflowAggregate } from '../../actors/aggregates/workflow.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { WorkflowEngine } from '../../actors/workflow-engine.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { KvCheckpointStore } from '../../adapters/nats/kv-checkpoint-store.ts';
import { KvReadModelStorage } from '../../adapters/nats/kv-read-model-storage.ts';
import { systemClock } from '../../infra/system-clock.ts';
import { comparePositions, type RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { registerDefinition } from '../../domain/workflow/index.ts';
import type { WorkflowTimers } from '../../domain/workflow/timers.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { workflowTimers, workflowTimersAgenda } from '../../projections/models/workflow-timers.ts';
import { ProjectionSupervisor } from '../../projections/runtime/projection-supervisor.ts';
import { ServingModelReader } from '../../projections/runtime/serving-model.ts';
import { waitFor as waitUntil } from '../support/waiting.ts';
import { startAggregateHosts } from '../support/aggregate-hosts.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';

// The engine's agenda rebuilt from the workflow-timers read model, on a real nats-server: timers
// armed from the model when the engine's checkpoint is past their events, a model behind the log
// caught up from each workflow's stream, a start the model has not seen holding the checkpoint,
// and timers armed twice (two engines) still deciding once. No workers: a "ghost" worker's
// commands stand in where a task has to be assigned or fail.

const logger = pino({ level: 'silent' });
const CHECKPOINT = 'workflow-engine-workflows';
const TOLERANCE_MS = 1_000;

let server: TestNatsServer;
let nc: NatsConnection;
let store: JetStreamEventStore;
let commands: CommandClient;
let checkpoints: KvCheckpointStore;
let storage: KvReadModelStorage;
let model: ServingModelReader;
let projection: ProjectionSupervisor | undefined;
const engines = new Set<WorkflowEngine>();
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startTestNatsServer();
  nc = await connectNats(server.url);
  store = await JetStreamEventStore.connect(nc);
  stops.push(startAggregateHosts(nc, store, [taskAggregate, workflowAggregate], logger));
  commands = new CommandClient(nc);
  checkpoints = await KvCheckpointStore.connect(nc);
  storage = await KvReadModelStorage.connect(nc);
  model = new ServingModelReader(storage, workflowTimers.name);
  await startProjection();
  await nc.flush();
});

afterAll(async () => {
  for (const engine of engines) await engine.stop();
  await projection?.stop();
  for (const stop of stops.reverse()) await stop();
  await nc?.close();
  await server?.dispose();
});

async function startProjection(): Promise<void> {
  projection = new ProjectionSupervisor({ definition: workflowTimers, store, storage, clock: systemClock, logger, flushEveryMs: 50 });
  await projection.start();
}

async function stopProjection(): Promise<void> {
  await projection?.stop();
  projection = undefined;
}

async function startEngine(): Promise<WorkflowEngine> {
  const engine = new WorkflowEngine({
    store,
    checkpoints,
    commands,
    logger,
    routeTask: (taskType) => (taskType === 'count' ? { pool: 'nobody', timeoutMs: 30_000 } : undefined),
    timersModel: workflowTimersAgenda(model),
    confirmEveryMs: 50,
  });
  await engine.start();
  engines.add(engine);
  return engine;
}

async function stopEngine(engine: WorkflowEngine): Promise<void> {
  await engine.stop();
  engines.delete(engine);
}

async function start(root: unknown): Promise<string> {
  const compiled = registerDefinition({ form: 'stepTree', name: 'agenda test', root }, { taskTypes: ['count'] });
  if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
  const workflowId = `wf-${randomUUID().slice(0, 8)}`;
  const reply = await commands.send(
    { category: 'workflow', id: workflowId },
    { commandId: `start-${workflowId}`, type: 'StartWorkflow', actor: 'U-req', data: { definition: compiled.right, requestedBy: 'U-req' } },
  );
  expect(reply.status, JSON.stringify(reply)).toBe('accepted');
  return workflowId;
}

const history = async (category: 'workflow' | 'task', id: string): Promise<RecordedEvent[]> => [...(await store.read(streamName(category, id))).events];
const ofType = (events: readonly RecordedEvent[], type: string) => events.filter((e) => e.type === type);
const field = <T>(event: RecordedEvent, name: string) => (event.data as Record<string, T>)[name]!;

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> =>
  waitUntil(what, probe, { timeoutMs, intervalMs: 25 });

const eventOf = (workflowId: string, type: string, match: (e: RecordedEvent) => boolean = () => true) =>
  waitFor(`${type} in workflow-${workflowId}`, async () => (await history('workflow', workflowId)).find((e) => e.type === type && match(e)));
const modelDoc = async (workflowId: string) => (await model.get(workflowId)) as WorkflowTimers | undefined;
const checkpointPassed = (event: RecordedEvent) =>
  waitFor(`the engine checkpoint past ${event.type}`, async () => {
    const at = await checkpoints.load(CHECKPOINT);
    return at !== undefined && comparePositions(at, event.position) >= 0;
  });

async function expectTimedOutOnTime(workflowId: string, stepId: string): Promise<void> {
  const requested = await eventOf(workflowId, 'ApprovalRequested', (e) => field(e, 'stepId') === stepId);
  const timedOut = await eventOf(workflowId, 'ApprovalTimedOut', (e) => field(e, 'stepId') === stepId);
  const late = Date.parse(field(timedOut, 'at')) - Date.parse(field(requested, 'dueAt'));
  expect(late).toBeGreaterThanOrEqual(0);
  expect(late).toBeLessThan(TOLERANCE_MS);
  await eventOf(workflowId, 'WorkflowFailed');
  expect(ofType(await history('workflow', workflowId), 'ApprovalTimedOut')).toHaveLength(1);
}

/** A worker that takes the task and then goes silent, or fails it. */
const ghost = (taskId: string) => ({
  assign: () =>
    commands.send(
      { category: 'task', id: taskId },
      { commandId: `ghost-assign-${taskId}`, type: 'AssignTask', actor: 'ghost', data: { workerId: 'ghost', attempt: 1 } },
    ),
  fail: () =>
    commands.send(
      { category: 'task', id: taskId },
      {
        commandId: `ghost-fail-${taskId}`,
        type: 'FailTask',
        actor: 'ghost',
        data: { attempt: 1, error: { code: 'Flaky', message: 'flaked' }, retryable: true },
      },
    ),
});

describe('the agenda rebuilt from the workflow-timers read model', () => {
  it('arms an approval timeout from the model when the engine checkpoint is already past its request', async () => {
    let engine = await startEngine();
    const id = await start({ type: 'approval', id: 'gate', timeoutMs: 2_500 });
    const requested = await eventOf(id, 'ApprovalRequested');
    await waitFor('the model to hold the gate', async () => (await modelDoc(id))?.timers.some((t) => t.kind === 'approval-timeout'));
    // Past the request: a restarted engine replays nothing of this workflow; only the model knows the gate.
    await checkpointPassed(requested);
    await stopEngine(engine);
    engine = await startEngine();
    await expectTimedOutOnTime(id, 'gate');
    await waitFor('the model to drop the ended workflow', async () => (await modelDoc(id)) === undefined);
    await stopEngine(engine);
  });

  it('loses no timer when the model is behind the log: the rest of the stream is folded in at start', async () => {
    let engine = await startEngine();
    const id = await start({
      type: 'sequence',
      steps: [
        { type: 'approval', id: 'first' },
        { type: 'approval', id: 'second', timeoutMs: 2_500 },
      ],
    });
    await waitFor('the model to hold the workflow', async () => (await modelDoc(id))?.timers.some((t) => t.kind === 'approval-timeout'));
    await stopProjection(); // from here on the model is behind
    const granted = await commands.send(
      { category: 'workflow', id },
      { commandId: randomUUID(), type: 'GrantApproval', actor: 'U-boss', data: { stepId: 'first' } },
    );
    expect(granted.status).toBe('accepted');
    const second = await eventOf(id, 'ApprovalRequested', (e) => field(e, 'stepId') === 'second');
    await checkpointPassed(second);
    await stopEngine(engine);
    const stale = (await modelDoc(id))!;
    expect(stale.timers.map((t) => t.kind === 'approval-timeout' && t.stepId)).toContain('first');
    expect(stale.timers.some((t) => t.kind === 'approval-timeout' && t.stepId === 'second')).toBe(false);

    engine = await startEngine();
    await expectTimedOutOnTime(id, 'second');
    await stopEngine(engine);
    await startProjection();
  });

  it('keeps the checkpoint before a start the model has not seen, and lets it go once the model holds it', async () => {
    await stopProjection();
    let engine = await startEngine();
    const id = await start({ type: 'approval', id: 'gate', timeoutMs: 2_500 });
    const startedAt = (await eventOf(id, 'WorkflowStarted')).position;
    await eventOf(id, 'ApprovalRequested');
    await new Promise((r) => setTimeout(r, 1_300)); // more than the reactor's checkpoint interval
    const held = await checkpoints.load(CHECKPOINT);
    expect(held === undefined || comparePositions(held, startedAt) < 0).toBe(true);

    // Restarted while the model has never seen the workflow: the replay from the checkpoint arms the gate.
    await stopEngine(engine);
    engine = await startEngine();
    await startProjection();
    await waitFor('the model to hold the workflow', async () => (await modelDoc(id)) !== undefined);
    await checkpointPassed(await eventOf(id, 'ApprovalRequested'));
    await expectTimedOutOnTime(id, 'gate');
    await stopEngine(engine);
  });

  it('timers armed twice (two engines) decide once: one reminder, one timeout, one task per retry attempt', async () => {
    const [a, b] = [await startEngine(), await startEngine()];
    const gateId = await start({ type: 'approval', id: 'gate', timeoutMs: 1_500, reminderBeforeMs: 1_000 });
    const retryId = await start({ type: 'task', id: 'flaky', taskType: 'count', params: {}, retry: { attempts: 2, backoffMs: 300, maxBackoffMs: 300 } });
    const first = `${retryId}_flaky_1`;
    await waitFor('the first attempt queued', async () => (await history('task', first)).length > 0);
    expect((await ghost(first).assign()).status).toBe('accepted');
    await eventOf(retryId, 'StepStarted');
    expect((await ghost(first).fail()).status).toBe('accepted');
    await eventOf(retryId, 'StepRetryScheduled');
    const second = `${retryId}_flaky_2`;
    await waitFor('the retry queued', async () => (await history('task', second)).length > 0);

    await expectTimedOutOnTime(gateId, 'gate');
    expect(ofType(await history('workflow', gateId), 'WorkflowFailed')).toHaveLength(1);
    expect(ofType(await history('workflow', gateId), 'ApprovalReminderDue')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 300)); // the slower engine's timer has fired too
    expect(ofType(await history('task', second), 'TaskQueued')).toHaveLength(1);
    expect(ofType(await history('workflow', retryId), 'StepFailed')).toHaveLength(1);
    // The same timer fired again by hand: the decided gate ignores it, the queued task refuses a second queueing.
    const again = await commands.send(
      { category: 'workflow', id: gateId },
      { commandId: `approval-timeout-${gateId}-gate-1`, type: 'TimeOutApproval', actor: 'workflow-engine', data: { stepId: 'gate', visit: 1 } },
    );
    expect(again.status).toBe('accepted');
    expect(ofType(await history('workflow', gateId), 'ApprovalTimedOut')).toHaveLength(1);
    await stopEngine(a);
    await stopEngine(b);
  });

  it("fires a step's timeout when its worker went silent: the task is cancelled and the attempt fails as timed out", async () => {
    const engine = await startEngine();
    const id = await start({ type: 'task', id: 'hang', taskType: 'count', params: {}, timeoutMs: 800, retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 } });
    const taskId = `${id}_hang_1`;
    await waitFor('the task queued', async () => (await history('task', taskId)).length > 0);
    expect((await ghost(taskId).assign()).status).toBe('accepted');
    const started = await eventOf(id, 'StepStarted');
    const failed = await eventOf(id, 'StepFailed');
    expect(failed.data).toMatchObject({ stepId: 'hang', attempt: 1, error: { code: 'StepTimedOut' }, final: true });
    expect(Date.parse(field(failed, 'at')) - Date.parse(field(started, 'timesOutAt'))).toBeGreaterThanOrEqual(0);
    expect(ofType(await history('task', taskId), 'TaskCancelled')).toHaveLength(1);
    await eventOf(id, 'WorkflowFailed');
    await stopEngine(engine);
  });
});

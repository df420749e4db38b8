import { randomUUID } from 'node:crypto';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetAggregate } from '../../actors/aggregates/budget.ts';
import { taskAggregate } from '../../actors/aggregates/task.ts';
import { PaidRunBudget } from '../../actors/paid-run-budget.ts';
import { workflowAggregate } from '../../actors/aggregates/workflow.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { TaskDispatcher } from '../../actors/task-dispatcher.ts';
import { WorkerActor } from '../../actors/workers/worker-actor.ts';
import { WorkflowEngine } from '../../actors/workflow-engine.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { JetStreamWorkQueue } from '../../adapters/jetstream/work-queue.ts';
import { KvCheckpointStore } from '../../adapters/nats/kv-checkpoint-store.ts';
import { KvReadModelStorage } from '../../adapters/nats/kv-read-model-storage.ts';
import { systemClock } from '../../infra/system-clock.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { ExecutionFailed, type Executor } from '../../domain/ports/executor.ts';
import { streamName } from '../../domain/streams.ts';
import { registerDefinition } from '../../domain/workflow/index.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { workflowTimers, workflowTimersAgenda } from '../../projections/models/workflow-timers.ts';
import { ProjectionSupervisor } from '../../projections/runtime/projection-supervisor.ts';
import { ServingModelReader } from '../../projections/runtime/serving-model.ts';
import { startAggregateHosts } from '../support/aggregate-hosts.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { waitFor } from '../support/waiting.ts';
import { AggregateHost } from '../../actors/runtime/aggregate-host.ts';

// The workflow engine on a real nats-server with the real task pipeline (hosts, dispatcher,
// work queue, a worker), the workflow-timers read model it rebuilds its agenda from, and test
// executors that count how often each step really ran.

const logger = pino({ level: 'silent' });
const executions = new Map<string, number>();
const ran = (label: string) => executions.get(label) ?? 0;

const labelled = z.object({ label: z.string(), failTimes: z.number().default(0) });
const countExecutor: Executor<z.infer<typeof labelled>, { label: string; n: number }> = {
  taskType: 'count',
  pool: 'wf-test',
  parameters: labelled,
  stages: [{ name: 'run', weight: 1 }],
  sideEffects: false,
  async execute({ label, failTimes }) {
    const n = ran(label) + 1;
    executions.set(label, n);
    if (n <= failTimes) throw new ExecutionFailed('Flaky', `${label} failed on run ${n}`, true);
    return { label, n };
  },
};
const deployExecutor: Executor<z.infer<typeof labelled>, { deployed: string }> = {
  ...countExecutor,
  taskType: 'deploy',
  sideEffects: true,
  execute: async ({ label }) => (executions.set(label, ran(label) + 1), { deployed: label }),
};
const waitExecutor: Executor<z.infer<typeof labelled>, null> = {
  ...countExecutor,
  taskType: 'wait',
  execute: ({ label }, context) =>
    new Promise((resolve, reject) => {
      executions.set(label, ran(label) + 1);
      context.signal.addEventListener('abort', () => reject(new ExecutionFailed('Cancelled', 'stopped', false)));
    }),
};
/** A paid run (as headless Claude Code is) that reports what it cost; `pricey` may cost more than the month allows. */
const paidExecutor: Executor<z.infer<typeof labelled>, { label: string; costUsd: number }> = {
  ...countExecutor,
  taskType: 'paid',
  async execute({ label, failTimes }) {
    const n = ran(label) + 1;
    executions.set(label, n);
    if (n <= failTimes) throw new ExecutionFailed('Broke', `${label} broke on run ${n}`, false);
    return { label, costUsd: 0.42 };
  },
};
const priceyExecutor = { ...paidExecutor, taskType: 'pricey' };
const executors = [countExecutor, deployExecutor, waitExecutor, paidExecutor, priceyExecutor];
const registry = { taskTypes: executors.map((e) => e.taskType), sideEffecting: ['deploy'] };

let server: TestNatsServer;
let nc: NatsConnection;
let store: JetStreamEventStore;
let commands: CommandClient;
let engine: WorkflowEngine;
let timersModel: ReturnType<typeof workflowTimersAgenda>;
const stops: (() => Promise<unknown>)[] = [];

const paidRuns = () =>
  new PaidRunBudget({
    ceilingUsd: (taskType) => ({ paid: 1, pricey: 1_000 })[taskType],
    caps: { monthlyUsd: 500, warningFraction: 0.8, criticalFraction: 0.95 },
  });
const newEngine = async () =>
  new WorkflowEngine({
    paidRuns: paidRuns(),
    store,
    checkpoints: await KvCheckpointStore.connect(nc),
    commands,
    logger,
    routeTask: (taskType) => (registry.taskTypes.includes(taskType) ? { pool: 'wf-test', timeoutMs: 30_000 } : undefined),
    timersModel,
    classify: (taskType) => (taskType === 'deploy' ? 'deploy' : 'read-only'),
    costGate: { kind: 'cost', approvers: ['U-fin'], quorum: 1, requesterMayApprove: false, timeoutMs: 60_000 },
  });

beforeAll(async () => {
  server = await startTestNatsServer();
  nc = await connectNats(server.url);
  store = await JetStreamEventStore.connect(nc);
  stops.push(startAggregateHosts(nc, store, [workflowAggregate, budgetAggregate], logger));
  // The deployment's door on tasks (infra/doors in production): here it refuses one marked label.
  const taskHost = new AggregateHost({ nc, store, definition: taskAggregate, clock: systemClock, logger, admit: refuseMarkedTasks });
  taskHost.start();
  stops.push(() => taskHost.stop());
  commands = new CommandClient(nc);
  const storage = await KvReadModelStorage.connect(nc);
  const projection = new ProjectionSupervisor({ definition: workflowTimers, store, storage, clock: systemClock, logger, flushEveryMs: 50 });
  await projection.start();
  stops.push(() => projection.stop());
  timersModel = workflowTimersAgenda(new ServingModelReader(storage, workflowTimers.name));
  const queue = await JetStreamWorkQueue.connect(nc, { pools: ['wf-test'], ackWaitMs: 30_000 });
  const dispatcher = new TaskDispatcher({ store, queue, checkpoints: await KvCheckpointStore.connect(nc), nc, logger });
  await dispatcher.start();
  stops.push(() => dispatcher.stop());
  for (let i = 1; i <= 2; i++) {
    const worker = new WorkerActor({
      workerId: `w${i}`,
      pool: 'wf-test',
      concurrency: 1,
      queue,
      commands,
      executors: new Map(executors.map((e) => [e.taskType, e as unknown as Executor])),
      workspaceRoot: process.cwd(),
      nc,
      logger,
    });
    worker.start();
    stops.push(() => worker.stop());
  }
  engine = await newEngine();
  await engine.start();
  await nc.flush();
});

afterAll(async () => {
  await engine?.stop();
  for (const stop of stops.reverse()) await stop();
  await nc?.close();
  await server?.dispose();
});

function definition(root: unknown) {
  const compiled = registerDefinition({ form: 'stepTree', name: 'engine test', root }, registry);
  if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
  return compiled.right;
}

async function start(root: unknown, extra: Record<string, unknown> = {}): Promise<string> {
  const workflowId = `wf-${randomUUID().slice(0, 8)}`;
  const reply = await commands.send(
    { category: 'workflow', id: workflowId },
    { commandId: `start-${workflowId}`, type: 'StartWorkflow', actor: 'U-req', data: { definition: definition(root), requestedBy: 'U-req', ...extra } },
  );
  expect(reply.status, JSON.stringify(reply)).toBe('accepted');
  return workflowId;
}

async function history(workflowId: string): Promise<RecordedEvent[]> {
  return [...(await store.read(streamName('workflow', workflowId))).events];
}

async function until(workflowId: string, type: string, timeoutMs = 20_000): Promise<RecordedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await history(workflowId);
    if (events.some((e) => e.type === type)) return events;
    if (Date.now() > deadline) throw new Error(`no ${type} in workflow-${workflowId}: ${events.map((e) => e.type).join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A door that refuses the task of any step labelled `door-says-no`, as infra/doors refuses a path outside the workspace. */
const refuseMarkedTasks = (command: { type: string; data: Readonly<Record<string, unknown>> }) =>
  command.type === 'QueueTask' && JSON.stringify(command.data.payload ?? {}).includes('door-says-no')
    ? { code: 'OutsideWorkspace', message: 'the task: paths must stay inside the workspace' }
    : undefined;

const step = (label: string, extra: object = {}) => ({ type: 'task', id: label, taskType: 'count', params: { label }, ...extra });

describe('the workflow engine', () => {
  it('runs a sequence with a parallel branch and a condition over an earlier output; each step once', async () => {
    const id = await start({
      type: 'sequence',
      steps: [
        step('s1-a'),
        { type: 'parallel', branches: [step('s1-b'), step('s1-c')] },
        { type: 'conditional', condition: 'steps.s1-a.output.n == 1', then: step('s1-d'), else: step('s1-e') },
      ],
    });
    const events = await until(id, 'WorkflowCompleted');
    expect(['s1-a', 's1-b', 's1-c', 's1-d'].map(ran)).toEqual([1, 1, 1, 1]);
    expect(ran('s1-e')).toBe(0);
    expect(
      events
        .filter((e) => e.type === 'StepCompleted')
        .map((e) => (e.data as { stepId: string }).stepId)
        .sort(),
    ).toEqual(['s1-a', 's1-b', 's1-c', 's1-d']);
    expect(events.some((e) => e.type === 'StepSkipped' && (e.data as { stepId: string }).stepId === 's1-e')).toBe(true);
    const order = events.filter((e) => e.type === 'StepScheduled').map((e) => (e.data as { stepId: string }).stepId);
    expect(order[0]).toBe('s1-a');
    expect(order.at(-1)).toBe('s1-d');
  });

  it("a step whose task the door refuses fails at once with the door's reason, and the workflow with it", async () => {
    const id = await start({ type: 'sequence', steps: [step('door-says-no'), step('s-after-refusal')] });
    const events = await until(id, 'WorkflowFailed');
    expect(events.find((e) => e.type === 'StepFailed')?.data).toMatchObject({ stepId: 'door-says-no', error: { code: 'OutsideWorkspace' } });
    expect(ran('door-says-no')).toBe(0);
    expect(ran('s-after-refusal')).toBe(0);
  });

  it('retries a failed step after its backoff, as a new task attempt', async () => {
    const id = await start(step('s2-flaky', { params: { label: 's2-flaky', failTimes: 1 }, retry: { attempts: 3, backoffMs: 200, maxBackoffMs: 1_000 } }));
    const events = await until(id, 'WorkflowCompleted');
    expect(ran('s2-flaky')).toBe(2);
    const retry = events.find((e) => e.type === 'StepRetryScheduled')!;
    expect(retry.data).toMatchObject({ stepId: 's2-flaky', attempt: 2, taskId: `${id}_s2-flaky_2` });
    const second = events.find((e) => e.type === 'StepStarted' && (e.data as { attempt: number }).attempt === 2)!;
    expect(Date.parse((second.data as { at: string }).at)).toBeGreaterThanOrEqual(Date.parse((retry.data as { dueAt: string }).dueAt));
  });

  it('a granted approval lets the workflow go on', async () => {
    const id = await start({ type: 'sequence', steps: [step('s3-a'), { type: 'approval', id: 'gate', approvers: ['U-boss'] }, step('s3-b')] });
    await until(id, 'ApprovalRequested');
    expect(ran('s3-b')).toBe(0);
    const own = await commands.send({ category: 'workflow', id }, { commandId: randomUUID(), type: 'GrantApproval', actor: 'U-req', data: { stepId: 'gate' } });
    expect(own.status).toBe('rejected');
    const granted = await commands.send(
      { category: 'workflow', id },
      { commandId: randomUUID(), type: 'GrantApproval', actor: 'U-boss', data: { stepId: 'gate' } },
    );
    expect(granted.status).toBe('accepted');
    await until(id, 'WorkflowCompleted');
    expect(ran('s3-b')).toBe(1);
  });

  it('an approval timeout fires at its original due time, even across an engine restart', async () => {
    const id = await start({ type: 'sequence', steps: [{ type: 'approval', id: 'gate', timeoutMs: 1_500 }, step('s4-after')] });
    const requested = (await until(id, 'ApprovalRequested')).find((e) => e.type === 'ApprovalRequested')!;
    const dueAt = Date.parse((requested.data as { dueAt: string }).dueAt);
    await engine.stop();
    engine = await newEngine();
    await engine.start();
    const events = await until(id, 'WorkflowFailed');
    const timedOut = events.find((e) => e.type === 'ApprovalTimedOut')!;
    const firedAt = Date.parse((timedOut.data as { at: string }).at);
    expect(firedAt).toBeGreaterThanOrEqual(dueAt);
    expect(firedAt - dueAt).toBeLessThan(1_500);
    expect(events.filter((e) => e.type === 'ApprovalTimedOut')).toHaveLength(1);
    expect(events.find((e) => e.type === 'WorkflowFailed')!.data).toMatchObject({ cause: 'ApprovalTimedOut' });
    expect(ran('s4-after')).toBe(0);
  });

  it('cancelling a workflow cancels its running task', async () => {
    const id = await start({ type: 'task', id: 's5-wait', taskType: 'wait', params: { label: 's5-wait' } });
    await until(id, 'StepStarted');
    const reply = await commands.send(
      { category: 'workflow', id },
      { commandId: randomUUID(), type: 'CancelWorkflow', actor: 'U-req', data: { reason: 'changed my mind' } },
    );
    expect(reply.status).toBe('accepted');
    const deadline = Date.now() + 10_000;
    let cancelled = false;
    while (!cancelled && Date.now() < deadline) {
      cancelled = (await store.read(streamName('task', `${id}_s5-wait_1`))).events.some((e) => e.type === 'TaskCancelled');
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(cancelled).toBe(true);
  });

  it('a dry run records what a side-effecting step would do instead of running it', async () => {
    // The gate a side-effecting step needs is skipped in a dry run, as nothing happens to approve.
    const id = await start(
      {
        type: 'sequence',
        steps: [
          step('s6-check'),
          { type: 'approval', id: 's6-approve' },
          { type: 'task', id: 's6-deploy', taskType: 'deploy', params: { label: 's6-deploy' } },
        ],
      },
      { dryRun: true },
    );
    const events = await until(id, 'WorkflowCompleted');
    expect(ran('s6-check')).toBe(1);
    expect(ran('s6-deploy')).toBe(0);
    const deploy = events.find((e) => e.type === 'StepCompleted' && (e.data as { stepId: string }).stepId === 's6-deploy')!;
    expect(deploy.data).toMatchObject({ output: { dryRun: true, wouldRun: { taskType: 'deploy', params: { label: 's6-deploy' } } } });
  });
});

describe('paid runs and the budget (AG5)', () => {
  const reservationEvents = async (workflowId: string) =>
    [...(await store.readAll({ category: 'budget' }))].filter((e) =>
      String((e.data as { reservationId?: string }).reservationId ?? '').startsWith(`run-${workflowId}_`),
    );

  it('reserves the ceiling under the workflow before the run, and commits what the run reported after', async () => {
    const id = await start({ type: 'task', id: 'review', taskType: 'paid', params: { label: 'paid-ok' } });
    await until(id, 'WorkflowCompleted');
    const events = await reservationEvents(id);
    expect(events.map((e) => e.type)).toEqual(['CostReserved', 'CostCommitted']);
    expect(events[0]!.data).toMatchObject({ amountUsd: 1, workflowId: id, user: 'U-req', reservationId: `run-${id}_review_1` });
    expect(events[1]!.data).toMatchObject({ reservedUsd: 1, actualUsd: 0.42 });
    // Reserved before the task existed.
    const queued = (await store.read(streamName('task', `${id}_review_1`))).events[0]!;
    expect(events[0]!.position < queued.position).toBe(true);
  });

  const decide = (workflowId: string, type: 'GrantApproval' | 'RejectApproval', approver: string) =>
    commands.send(
      { category: 'workflow', id: workflowId },
      { commandId: randomUUID(), type, actor: approver, data: { stepId: 'review', ...(type === 'RejectApproval' ? { reason: 'not this month' } : {}) } },
    );

  it('over a cap the step waits for a cost gate; rejected, it fails with the reason and never runs', async () => {
    const id = await start({ type: 'task', id: 'review', taskType: 'pricey', params: { label: 'pricey-rejected' } });
    const asked = (await until(id, 'ApprovalRequested')).find((e) => e.type === 'ApprovalRequested')!.data;
    expect(asked).toMatchObject({ stepId: 'review', approvers: ['U-fin'], requesterMayApprove: false, cost: { attempt: 1, amountUsd: 1_000 } });
    expect((asked as { title: string }).title).toMatch(/may cost up to \$1000\.00, over the budget \(\$1,?000\.00 would exceed the monthly cap/);
    expect(ran('pricey-rejected')).toBe(0);
    expect((await decide(id, 'GrantApproval', 'U-req')).status).toBe('rejected'); // the requester is not a cost approver
    expect((await decide(id, 'RejectApproval', 'U-fin')).status).toBe('accepted');
    const events = await until(id, 'WorkflowFailed');
    const failed = events.find((e) => e.type === 'StepFailed')!.data as { error: { code: string; message: string } };
    expect(failed.error).toEqual({ code: 'CostApprovalRejected', message: 'U-fin rejected the cost of step "review": not this month' });
    expect(ran('pricey-rejected')).toBe(0);
    expect((await store.read(streamName('task', `${id}_review_1`))).events).toHaveLength(0);
    const released = await waitFor('the request for approval released on the budget', async () => {
      const types = (await reservationEvents(id)).map((e) => e.type);
      return types.includes('CostReleased') && types;
    });
    expect(released).toEqual(['CostApprovalRequired', 'CostReleased']);
  });

  it('over a cap, once the cost gate is granted, the run is reserved in the approver’s name and runs', async () => {
    const id = await start({ type: 'task', id: 'review', taskType: 'pricey', params: { label: 'pricey-granted' } });
    await until(id, 'ApprovalRequested');
    expect((await decide(id, 'GrantApproval', 'U-fin')).status).toBe('accepted');
    await until(id, 'WorkflowCompleted');
    expect(ran('pricey-granted')).toBe(1);
    const events = await reservationEvents(id);
    expect(events.map((e) => e.type)).toEqual(['CostApprovalRequired', 'CostReserved', 'CostCommitted']);
    expect(events[1]!.data).toMatchObject({ amountUsd: 1_000, overCap: { approvedBy: 'U-fin' } });
  });

  it('a paid run that fails without reporting its cost is charged its ceiling', async () => {
    const id = await start({
      type: 'task',
      id: 'review',
      taskType: 'paid',
      params: { label: 'paid-broke', failTimes: 1 },
      retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0 },
    });
    await until(id, 'WorkflowFailed');
    const events = await reservationEvents(id);
    expect(events.map((e) => e.type)).toEqual(['CostReserved', 'CostCommitted']);
    expect(events[1]!.data).toMatchObject({ actualUsd: 1 });
  });

  it('a run that costs nothing reserves nothing', async () => {
    const id = await start({ type: 'task', id: 'plain', taskType: 'count', params: { label: 'not-paid' } });
    await until(id, 'WorkflowCompleted');
    expect(await reservationEvents(id)).toHaveLength(0);
  });
});

describe('gates the model cannot skip (WF3)', () => {
  const raw = (deploy: { sideEffects: boolean }) => ({
    name: 'raw',
    form: 'stepTree',
    machine: {
      start: 'deploy',
      nodes: [
        {
          kind: 'task',
          id: 'deploy',
          taskType: 'deploy',
          params: { label: `raw-${deploy.sideEffects}` },
          retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0, nonRetryable: [] },
          sideEffects: deploy.sideEffects,
          next: [{ to: 'done' }],
        },
        { kind: 'end', id: 'done', outcome: 'completed' },
      ],
    },
  });
  const startRaw = (workflowId: string, definition: Record<string, unknown>) =>
    commands.forward(
      { category: 'workflow', id: workflowId },
      { commandId: `start-${workflowId}`, type: 'StartWorkflow', actor: 'U-req', data: { definition, requestedBy: 'U-req' } },
    );

  it('a raw StartWorkflow whose definition deploys without a gate is refused, and nothing is recorded', async () => {
    const id = `wf-${randomUUID().slice(0, 8)}`;
    const reply = await startRaw(id, raw({ sideEffects: true }));
    expect(reply).toMatchObject({ status: 'rejected', code: 'UngatedSideEffect' });
    expect(await history(id)).toHaveLength(0);
  });

  it('a definition that understates a deploy as free of side effects starts, but the step fails instead of deploying', async () => {
    const id = `wf-${randomUUID().slice(0, 8)}`;
    expect((await startRaw(id, raw({ sideEffects: false }))).status).toBe('accepted');
    const events = await until(id, 'WorkflowFailed');
    expect(events.find((e) => e.type === 'StepFailed')!.data).toMatchObject({ error: { code: 'UndeclaredSideEffect' } });
    expect(ran('raw-false')).toBe(0);
    expect((await store.read(streamName('task', `${id}_deploy_1`))).events).toHaveLength(0);
  });
});

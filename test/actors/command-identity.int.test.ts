import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowAggregate } from '../../actors/aggregates/workflow.ts';
import { taskAggregate } from '../../actors/aggregates/task.ts';
import { AggregateHost, MAX_COMMAND_BYTES } from '../../actors/runtime/aggregate-host.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { startUnknownCategoryDoor } from '../../actors/runtime/unknown-category-door.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { systemClock } from '../../infra/system-clock.ts';
import { streamName } from '../../domain/streams.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { tree } from '../domain/workflow-fixtures.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';

// Who acted is who sent the command (the envelope's actor, set by the front end or gateway that
// verified them), never a field of the payload; oversized commands and commands the deployment's
// door refuses are answered with a named reason and leave no trace in the store.

describe('identity and the door of the aggregate host', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let client: CommandClient;
  let store: JetStreamEventStore;
  const hosts: AggregateHost<never, never, never>[] = [];

  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    store = await JetStreamEventStore.connect(nc);
    const logger = pino({ level: 'silent' });
    const admitTasks = (command: { type: string; data: Readonly<Record<string, unknown>> }) =>
      command.type === 'QueueTask' && command.data.pool === 'salesforce'
        ? { code: 'UnknownPool', message: 'run-tests tasks run in the local-ops pool, not salesforce' }
        : undefined;
    for (const [definition, admit] of [
      [workflowAggregate, undefined],
      [taskAggregate, admitTasks],
    ] as const) {
      const host = new AggregateHost({ nc, store, definition: definition as never, clock: systemClock, logger, ...(admit ? { admit } : {}) });
      host.start();
      hosts.push(host as never);
    }
    startUnknownCategoryDoor(nc, 'orch', ['workflow', 'task'], logger);
    await nc.flush();
    client = new CommandClient(nc);
  });
  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    await nc.close();
    await server.dispose();
  });

  const gated = tree(
    { type: 'approval', id: 'ok', approvers: ['U-boss'], requesterMayApprove: true },
    { type: 'task', id: 'a', taskType: 'run-tests', params: { repository: 'acme' } },
  );
  const send = (category: string, id: string, type: string, actor: string, data: Record<string, unknown>) =>
    client.forward({ category, id }, { commandId: crypto.randomUUID(), type, actor, data });
  const eventsOf = async (stream: string) => (await store.read(stream as never)).events;

  it('a GrantApproval naming the approver in its data but sent by someone else is refused, and records nothing', async () => {
    const id = `w-${crypto.randomUUID()}`;
    expect((await send('workflow', id, 'StartWorkflow', 'U-req', { definition: gated, requestedBy: 'U-req' })).status).toBe('accepted');
    const before = (await eventsOf(streamName('workflow', id))).length;
    const forged = await send('workflow', id, 'GrantApproval', 'U-mallory', { stepId: 'ok', approver: 'U-boss' });
    expect(forged).toMatchObject({ status: 'rejected', code: 'NotAnApprover' });
    expect(await eventsOf(streamName('workflow', id))).toHaveLength(before);

    const real = await send('workflow', id, 'GrantApproval', 'U-boss', { stepId: 'ok', approver: 'U-someone-else' });
    expect(real.status).toBe('accepted');
    const granted = (await eventsOf(streamName('workflow', id))).find((e) => e.type === 'ApprovalGranted');
    expect(granted?.data).toMatchObject({ approver: 'U-boss' });
    expect(granted?.metadata.actor).toBe('U-boss');
  });

  it('who cancels is who sent the cancel, whatever requestedBy says', async () => {
    const id = `w-${crypto.randomUUID()}`;
    await send('workflow', id, 'StartWorkflow', 'U-req', { definition: gated, requestedBy: 'U-req' });
    expect((await send('workflow', id, 'CancelWorkflow', 'U-stranger', { reason: 'stop', requestedBy: 'U-req' })).status).toBe('accepted');
    const cancelled = (await eventsOf(streamName('workflow', id))).find((e) => e.type === 'WorkflowCancelled');
    expect(cancelled?.data).toMatchObject({ requestedBy: 'U-stranger' });
  });

  it(`a command over ${MAX_COMMAND_BYTES} bytes is refused as PayloadTooLarge without being read, and records nothing`, async () => {
    const id = `t-${crypto.randomUUID()}`;
    const reply = await send('task', id, 'QueueTask', 'U-req', {
      taskType: 'run-tests',
      pool: 'local-ops',
      payload: { repository: 'acme', note: 'x'.repeat(MAX_COMMAND_BYTES) },
      requestedBy: 'U-req',
    });
    expect(reply).toMatchObject({ status: 'rejected', code: 'PayloadTooLarge' });
    expect(await eventsOf(streamName('task', id))).toHaveLength(0);
  });

  it('a command nested 100,000 levels deep is refused as PayloadTooDeep (no stack overflow), and records nothing', async () => {
    const id = `t-${crypto.randomUUID()}`;
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const body = `{"commandId":"deep-1","type":"QueueTask","actor":"U-req","data":{"taskType":"run-tests","pool":"local-ops","timeoutMs":60000,"requestedBy":"U-req","payload":${deep}}}`;
    const reply = JSON.parse(new TextDecoder().decode((await nc.request(`orch.cmd.task.${id}`, new TextEncoder().encode(body), { timeout: 5_000 })).data));
    expect(reply).toMatchObject({ status: 'rejected', code: 'PayloadTooDeep' });
    expect(await eventsOf(streamName('task', id))).toHaveLength(0);
    // 128 levels are still fine.
    const fine = await send('task', id, 'QueueTask', 'U-req', {
      taskType: 'run-tests',
      pool: 'local-ops',
      payload: { repository: 'acme', nested: JSON.parse(`${'['.repeat(120)}${']'.repeat(120)}`) },
      timeoutMs: 60_000,
      requestedBy: 'U-req',
    });
    expect(fine.status).toBe('accepted');
  });

  it("the deployment's door refuses with its named reason before anything is recorded; what it admits is recorded", async () => {
    const refusedId = `t-${crypto.randomUUID()}`;
    const refused = await send('task', refusedId, 'QueueTask', 'U-req', {
      taskType: 'run-tests',
      pool: 'salesforce',
      payload: { repository: 'acme' },
      timeoutMs: 60_000,
      requestedBy: 'U-req',
    });
    expect(refused).toMatchObject({ status: 'rejected', code: 'UnknownPool' });
    expect(await eventsOf(streamName('task', refusedId))).toHaveLength(0);

    const admittedId = `t-${crypto.randomUUID()}`;
    const admitted = await send('task', admittedId, 'QueueTask', 'U-req', {
      taskType: 'run-tests',
      pool: 'local-ops',
      payload: { repository: 'acme' },
      timeoutMs: 60_000,
      requestedBy: 'U-req',
    });
    expect(admitted.status).toBe('accepted');
    expect((await eventsOf(streamName('task', admittedId))).map((e) => e.type)).toEqual(['TaskQueued']);
  });

  it('a command to a category no aggregate hosts gets a typed UnknownCategory, and hosted categories still get their host', async () => {
    expect(await send('nope', 'x1', 'DoIt', 'U-req', {})).toMatchObject({ status: 'rejected', code: 'UnknownCategory' });
    // An id with a "." is more subject tokens than any host listens to: answered as invalid, not "no responders".
    expect(await send('task', 'a.b', 'CancelTask', 'U-req', {})).toMatchObject({
      status: 'invalid',
      errors: [expect.stringContaining('"a.b" is not a valid aggregate id')],
    });
    const id = `w-${crypto.randomUUID()}`;
    expect(await send('workflow', id, 'StartWorkflow', 'U-req', { definition: gated, requestedBy: 'U-req' })).toMatchObject({ status: 'accepted', events: 2 });
  });
});

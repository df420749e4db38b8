import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregates } from '../../actors/aggregates/index.ts';
import { taskAggregate } from '../../actors/aggregates/task.ts';
import { workflowAggregate } from '../../actors/aggregates/workflow.ts';
import { CommandGateway, refuseApprovalsFromApi, type GatewayRequest } from '../../actors/command-gateway.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import type { CommandReply } from '../../actors/runtime/command-envelope.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { producerUser, SERVICE_USER } from '../../infra/nats/embedded-identities.ts';
import { tree } from '../domain/workflow-fixtures.ts';
import { startAggregateHosts } from '../support/aggregate-hosts.ts';
import { startNatsWithIdentities, type NatsWithIdentities } from '../support/nats-identities.ts';

// Outside producers send commands through the gateway on the embedded server with its
// identities: what they send is recorded with actor `api:<producer>` from the credential they
// connected with, and every refusal comes back with a code and records nothing.

describe('command gateway for outside producers', () => {
  let nats: NatsWithIdentities;
  let service: NatsConnection;
  let ci: NatsConnection;
  let deployBot: NatsConnection;
  let store: JetStreamEventStore;
  let stopHosts: () => Promise<void>;
  let gateway: CommandGateway;
  const asked: GatewayRequest[] = [];

  beforeAll(async () => {
    nats = await startNatsWithIdentities({ producers: ['ci', 'deploy-bot'] });
    service = await nats.connectAs(SERVICE_USER);
    store = await JetStreamEventStore.connect(service);
    const logger = pino({ level: 'silent' });
    stopHosts = startAggregateHosts(service, store, [workflowAggregate, taskAggregate], logger);
    gateway = new CommandGateway({
      nc: service,
      commands: new CommandClient(service),
      categories: aggregates.map((a) => a.category),
      logger,
      // Stands in for the authorization policy: one repository is off limits; approvals as by default.
      authorize: (request) => {
        asked.push(request);
        const payload = request.data.payload as { repository?: string } | undefined;
        return payload?.repository === 'forbidden-repo'
          ? { allowed: false, code: 'OutsidePolicy', message: 'forbidden-repo is not for api producers' }
          : refuseApprovalsFromApi(request);
      },
    });
    gateway.start();
    await service.flush();
    ci = await nats.connectAs(producerUser('ci'));
    deployBot = await nats.connectAs(producerUser('deploy-bot'));
  });
  afterAll(async () => {
    await gateway.stop();
    await stopHosts();
    await Promise.all([ci, deployBot, service].map((nc) => nc.close()));
    await nats.dispose();
  });

  const request = async (nc: NatsConnection, subject: string, body: unknown): Promise<CommandReply> => {
    const data = body instanceof Uint8Array ? body : new TextEncoder().encode(JSON.stringify(body));
    const reply = await nc.request(subject, data, { timeout: 5_000 });
    return reply.json<CommandReply>();
  };
  const send = (nc: NatsConnection, producer: string, category: string, id: string, envelope: Record<string, unknown>) =>
    request(nc, `orch.api.${producer}.cmd.${category}.${id}`, { commandId: crypto.randomUUID(), ...envelope });
  const eventsOf = async (category: string, id: string) => (await store.read(streamName(category, id))).events;
  const queueTask = (extra: Record<string, unknown> = {}) => ({
    type: 'QueueTask',
    data: { taskType: 'run-tests', pool: 'local-ops', payload: { repository: 'acme' }, timeoutMs: 60_000, requestedBy: 'U-ci-owner', ...extra },
  });
  const gated = tree({ type: 'approval', id: 'ok', approvers: ['U-boss'] }, { type: 'task', id: 'a', taskType: 'run-tests', params: { repository: 'acme' } });

  it('a StartWorkflow from producer ci is recorded with actor api:ci', async () => {
    const id = `w-${crypto.randomUUID()}`;
    const reply = await send(ci, 'ci', 'workflow', id, { type: 'StartWorkflow', data: { definition: gated, requestedBy: 'U-ci-owner' } });
    expect(reply).toMatchObject({ status: 'accepted' });
    const events = await eventsOf('workflow', id);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.metadata.actor === 'api:ci')).toBe(true);
    expect(asked.at(-1)).toMatchObject({ actor: 'api:ci', category: 'workflow', id, type: 'StartWorkflow' });
  });

  it('a forged actor field is ignored: the credential names who acted', async () => {
    const id = `t-${crypto.randomUUID()}`;
    const reply = await send(deployBot, 'deploy-bot', 'task', id, { ...queueTask(), actor: 'U-boss' });
    expect(reply).toMatchObject({ status: 'accepted', events: 1 });
    const [queued] = await eventsOf('task', id);
    expect(queued).toMatchObject({ type: 'TaskQueued', metadata: { actor: 'api:deploy-bot' } });
    // The requester named in the payload (U-ci-owner) is replaced by the credential's identity.
    expect(queued?.data).toMatchObject({ requestedBy: 'api:deploy-bot' });
  });

  it("producers' command ids do not collide with each other's", async () => {
    const id = `t-${crypto.randomUUID()}`;
    const commandId = 'same-id-1';
    expect(await request(ci, `orch.api.ci.cmd.task.${id}`, { commandId, ...queueTask() })).toMatchObject({ status: 'accepted', events: 1 });
    // The same id from another producer is a new command, not a repeat of ci's.
    const cancel = await request(deployBot, `orch.api.deploy-bot.cmd.task.${id}`, {
      commandId,
      type: 'CancelTask',
      data: { reason: 'not needed', requestedBy: 'U-x' },
    });
    expect(cancel).toMatchObject({ status: 'accepted', events: 1 });
    // ci repeating its own command is answered as the repeat it is.
    expect(await request(ci, `orch.api.ci.cmd.task.${id}`, { commandId, ...queueTask() })).toMatchObject({ status: 'accepted' });
    const events = await eventsOf('task', id);
    expect(events.map((e) => [e.type, e.metadata.actor])).toEqual([
      ['TaskQueued', 'api:ci'],
      ['TaskCancelled', 'api:deploy-bot'],
    ]);
  });

  const refusals: [string, string, unknown, string][] = [
    ['an unknown category', 'orch.api.ci.cmd.nosuch.x1', { commandId: 'c1', ...queueTask() }, 'UnknownCategory'],
    [
      'an internal command of a hosted aggregate',
      'orch.api.ci.cmd.task.x2',
      { commandId: 'c2', type: 'CompleteTask', data: { attempt: 1, result: {}, durationMs: 1 } },
      'CommandNotAllowed',
    ],
    [
      'a command of an aggregate outside the API',
      'orch.api.ci.cmd.conversation.x3',
      { commandId: 'c3', type: 'StartConversation', data: {} },
      'CommandNotAllowed',
    ],
    [
      'a body over 256 KB',
      'orch.api.ci.cmd.task.x4',
      { commandId: 'c4', ...queueTask({ payload: { repository: 'acme', blob: 'x'.repeat(300 * 1024) } }) },
      'PayloadTooLarge',
    ],
    ['a body that is not JSON', 'orch.api.ci.cmd.task.x5', new TextEncoder().encode('{"type": QueueTask'), 'InvalidCommand'],
    ['a null body', 'orch.api.ci.cmd.task.x6', null, 'InvalidCommand'],
    ['an array body', 'orch.api.ci.cmd.task.x7', [1, 2], 'InvalidCommand'],
    ['an envelope without commandId', 'orch.api.ci.cmd.task.x8', queueTask(), 'InvalidCommand'],
    ['a subject without an id', 'orch.api.ci.cmd.task', { commandId: 'c9', ...queueTask() }, 'InvalidCommand'],
    ['a subject outside cmd', 'orch.api.ci.query.tasks', { commandId: 'c10' }, 'InvalidCommand'],
    [
      'a GrantApproval from an API identity',
      'orch.api.ci.cmd.workflow.x11',
      { commandId: 'c11', type: 'GrantApproval', data: { stepId: 'ok', approver: 'U-boss' } },
      'NotAuthorized',
    ],
    [
      'a RejectApproval from an API identity',
      'orch.api.ci.cmd.workflow.x12',
      { commandId: 'c12', type: 'RejectApproval', data: { stepId: 'ok', approver: 'U-boss' } },
      'NotAuthorized',
    ],
    [
      'a command the authorization hook refuses',
      'orch.api.ci.cmd.task.x13',
      { commandId: 'c13', ...queueTask({ payload: { repository: 'forbidden-repo' } }) },
      'OutsidePolicy',
    ],
  ];

  it.each(refusals)('%s is refused with a code and records nothing', async (_, subject, body, code) => {
    const reply = await request(ci, subject, body);
    expect(reply).toMatchObject({ status: 'rejected', code });
    expect((reply as { message: string }).message.length).toBeGreaterThan(0);
    const [, , , , category, id] = subject.split('.');
    if (category && id && /^[a-z]+$/.test(category) && aggregates.some((a) => a.category === category)) expect(await eventsOf(category, id)).toEqual([]);
  });

  it('an approval from an API identity leaves the gate waiting', async () => {
    const id = `w-${crypto.randomUUID()}`;
    expect(await send(ci, 'ci', 'workflow', id, { type: 'StartWorkflow', data: { definition: gated, requestedBy: 'U-ci-owner' } })).toMatchObject({
      status: 'accepted',
    });
    const before = (await eventsOf('workflow', id)).length;
    const reply = await send(ci, 'ci', 'workflow', id, { type: 'GrantApproval', data: { stepId: 'ok', approver: 'U-boss' } });
    expect(reply).toMatchObject({ status: 'rejected', code: 'NotAuthorized' });
    expect(await eventsOf('workflow', id)).toHaveLength(before);
  });

  it('still answers a normal command after all of that', async () => {
    const id = `t-${crypto.randomUUID()}`;
    expect(await send(ci, 'ci', 'task', id, queueTask())).toMatchObject({ status: 'accepted', events: 1 });
  });
});

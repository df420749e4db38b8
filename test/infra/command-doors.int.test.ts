import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import type { CommandReply } from '../../actors/runtime/command-envelope.ts';
import { slashCommands } from '../../actors/slash-commands.ts';
import { sideEffectingTaskTypes, taskTypes } from '../../adapters/executors/registry.ts';
import type { EventStore } from '../../domain/ports/event-store.ts';
import { compileTemplate } from '../../domain/workflow/index.ts';
import { loadConfig } from '../../infra/config/load-config.ts';
import { openEventStore } from '../../infra/event-store.ts';
import { AggregateStateClient } from '../../actors/runtime/aggregate-state-client.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { workflowRequestCheck } from '../../infra/doors/workflow-request-check.ts';
import { startRole } from '../../infra/roles.ts';
import { startNatsBroker, type NatsBroker } from '../support/nats-broker.ts';

// The doors of the aggregates role on a real nats-server: raw commands, as an outside producer
// would publish them, refused with a typed reason and nothing recorded; a good one accepted.

let broker: NatsBroker;
let nc: NatsConnection;
let store: EventStore;
let stop: () => Promise<unknown>;
let sequence = 0;

beforeAll(async () => {
  broker = await startNatsBroker();
  // No WEBHOOK_SIGNING_SECRET and no Slack: those reply targets cannot be served here.
  const config = loadConfig({ NATS_URL: broker.url, LOG_LEVEL: 'silent' }, { envFile: false });
  nc = await connectNats(broker.url);
  store = (await openEventStore(config, nc)).store;
  stop = await startRole('aggregates', { config, nc, store, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await stop?.();
  await store?.close();
  await nc?.close();
  await broker?.dispose();
});

async function raw(category: string, id: string, type: string, data: Record<string, unknown>): Promise<CommandReply> {
  sequence += 1;
  const envelope = { commandId: `door-${sequence}`, type, actor: 'api:ci', data };
  const reply = await nc.request(`orch.cmd.${category}.${id}`, new TextEncoder().encode(JSON.stringify(envelope)), { timeout: 5_000 });
  return JSON.parse(new TextDecoder().decode(reply.data)) as CommandReply;
}

const queueTask = (id: string, data: Record<string, unknown>) =>
  raw('task', id, 'QueueTask', {
    taskType: 'git-status',
    pool: 'local-ops',
    payload: { repository: 'acme' },
    timeoutMs: 60_000,
    requestedBy: 'api:ci',
    ...data,
  });
const eventsOf = async (stream: string) => (await store.read(stream as never)).events;

describe('QueueTask at the door', () => {
  const refused: [string, Record<string, unknown>, string][] = [
    ['an unknown task type', { taskType: 'rm-rf' }, 'UnknownTaskType'],
    ['an unknown pool', { pool: 'gpu' }, 'UnknownPool'],
    ['the wrong pool for the type', { pool: 'salesforce' }, 'UnknownPool'],
    ['parameters the executor refuses', { payload: { repo: 'acme' } }, 'InvalidTaskParameters'],
    ["repository '../../etc'", { payload: { repository: '../../etc' } }, 'OutsideWorkspace'],
    ['a webhook reply target without WEBHOOK_SIGNING_SECRET', { replyTo: { kind: 'webhook', url: 'https://ci.example.com/hook' } }, 'ReplyTargetNotServed'],
    ['a Slack reply target without Slack', { replyTo: { kind: 'slack', channel: 'C1', threadTs: '1.2' } }, 'ReplyTargetNotServed'],
  ];

  it.each(refused)('%s: refused with its name, nothing recorded', async (_, data, code) => {
    const id = `refused-${code}-${sequence}`;
    const reply = await queueTask(id, data);
    expect(reply).toMatchObject({ status: 'rejected', code });
    expect(await eventsOf(`task-${id}`)).toEqual([]);
  });

  it('a good one is accepted and recorded', async () => {
    const reply = await queueTask('good-1', { replyTo: { kind: 'nats', subject: 'ci.results' } });
    expect(reply).toMatchObject({ status: 'accepted', events: 1 });
    expect((await eventsOf('task-good-1')).map((e) => e.type)).toEqual(['TaskQueued']);
  });
});

describe('StartWorkflow at the door', () => {
  const registry = { taskTypes, sideEffecting: sideEffectingTaskTypes };
  const definitionFor = (repository: string) => {
    const compiled = compileTemplate('code-review', { repository }, registry);
    if (isLeft(compiled)) throw new Error(JSON.stringify(compiled.left));
    return compiled.right;
  };

  it('repository=../../etc: OutsideWorkspace when requested, nothing recorded', async () => {
    const reply = await raw('workflow', 'wf-etc', 'StartWorkflow', {
      definition: definitionFor('../../etc'),
      inputs: { repository: '../../etc' },
      requestedBy: 'U1',
    });
    expect(reply).toMatchObject({ status: 'rejected', code: 'OutsideWorkspace' });
    expect(await eventsOf('workflow-wf-etc')).toEqual([]);
  });

  it('a repository inside the workspace is started', async () => {
    const reply = await raw('workflow', 'wf-acme', 'StartWorkflow', { definition: definitionFor('acme'), inputs: { repository: 'acme' }, requestedBy: 'U1' });
    expect(reply).toMatchObject({ status: 'accepted' });
    expect((await eventsOf('workflow-wf-acme'))[0]?.type).toBe('WorkflowStarted');
  });
});

describe('size', () => {
  it('a command over 256 KB: PayloadTooLarge, nothing recorded', async () => {
    const reply = await queueTask('big-1', { payload: { repository: 'acme', padding: 'x'.repeat(300 * 1024) } });
    expect(reply).toMatchObject({ status: 'rejected', code: 'PayloadTooLarge' });
    expect(await eventsOf('task-big-1')).toEqual([]);
  });
});

describe('/workflow start: refused when requested, with the reason', () => {
  let workspace: string;
  const registry = { taskTypes, sideEffecting: sideEffectingTaskTypes };
  const answer = async (text: string, workspaceRoot?: string): Promise<string> => {
    const config = loadConfig({ NATS_URL: broker.url, ...(workspaceRoot ? { WORKSPACE_ROOT: workspaceRoot } : {}) }, { envFile: false });
    const desk = {
      commands: new CommandClient(nc),
      states: new AggregateStateClient(nc),
      logger: pino({ level: 'silent' }),
      registry,
      maxExecutionMs: 3_600_000,
      checkRequest: workflowRequestCheck(config),
    };
    const table = slashCommands({ planner: 'offline', frontEnd: 'test', pools: [], taskTotals: async () => undefined }, desk);
    return (await table.answer({ command: '/workflow', text, user: 'U42', channel: 'C1' })).text;
  };
  const workflowEvents = async () => (await store.readAll({ category: 'workflow' })).length;

  beforeAll(async () => {
    workspace = await mkdtemp(path.join(tmpdir(), 'orch-doors-'));
    await mkdir(path.join(workspace, 'acme'));
  });
  afterAll(async () => {
    await rm(workspace, { recursive: true, force: true });
  });

  it('repository=../../etc: OutsideWorkspace, nothing recorded', async () => {
    const before = await workflowEvents();
    const text = await answer('start code-review repository=../../etc', workspace);
    expect(text).toMatch(
      /^Cannot start code-review:\n• OutsideWorkspace: step "[a-z-]+": paths must stay inside the workspace: params.repository = "..\/..\/etc"/,
    );
    expect(await workflowEvents()).toBe(before);
  });

  it('a repository the workspace here does not hold: RepositoryNotFound, nothing recorded', async () => {
    const before = await workflowEvents();
    const text = await answer('start code-review repository=nowhere', workspace);
    expect(text).toContain('• RepositoryNotFound: step');
    expect(text).toContain('repository "nowhere" was not found in the workspace');
    expect(await workflowEvents()).toBe(before);
  });

  it('without the workspace on this machine (split layout) only the syntactic checks run', async () => {
    expect(await answer('start code-review repository=nowhere')).toMatch(/^Started workflow wf-/);
    expect(await answer('start code-review repository=../../etc')).toContain('OutsideWorkspace');
  });

  it('a repository that is there starts', async () => {
    expect(await answer('start code-review repository=acme', workspace)).toMatch(/^Started workflow wf-/);
  });
});

import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect, headers, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { UNHANDLED_FATAL } from '../../infra/process-guard.ts';
import { startNatsBroker, type NatsBroker } from '../support/nats-broker.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';
import { waitFor } from '../support/waiting.ts';

// One message in the event log that is not a commit must not stop the product: any local client
// may publish on `orch.es.>`, and the log denies deletes, so the message stays there for good.
// Two are published with a plain nats.js client: a JSON object with no headers, and one with a
// valid revision header whose body is not a JSON array of events. The product (every role, as
// run-role processes) keeps serving, survives a kill -9 and restart with the messages still in
// the log, lists them in `orch events quarantine`, and a projection rebuild passes over them.

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const ROLES = ['aggregates', 'dispatcher', 'workflow-engine', 'projections', 'public-events', 'reactors', 'workers:local-ops'];

let broker: NatsBroker;
let workspace: string;
let env: NodeJS.ProcessEnv;
let product: RoleProcess | undefined;
let raw: NatsConnection;
let store: JetStreamEventStore;
let commands: CommandClient;
const poison: { seq: number; subject: string }[] = [];

const orch = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, 'bin/orch.mjs'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, NATS_URL: broker.url },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

async function makeRepository(name: string): Promise<void> {
  const repo = path.join(workspace, name);
  await mkdir(repo, { recursive: true });
  await writeFile(path.join(repo, 'README.md'), '# demo\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
}

const history = async (taskId: string): Promise<readonly RecordedEvent[]> => (await store.read(streamName('task', taskId))).events;

/** Queues a git-status task and waits for it to complete: the whole product serving. */
async function taskCompletes(): Promise<void> {
  const taskId = randomUUID();
  const reply = await commands.sendUntilAnswered(
    { category: 'task', id: taskId },
    {
      commandId: `queue-${taskId}`,
      type: 'QueueTask',
      actor: 'U1',
      data: { taskType: 'git-status', pool: 'local-ops', payload: { repository: 'demo' }, timeoutMs: 60_000, requestedBy: 'U1' },
    },
    { signal: AbortSignal.timeout(30_000) },
  );
  expect(reply.status, JSON.stringify(reply)).toBe('accepted');
  await waitFor(`task ${taskId} completed`, async () => (await history(taskId)).some((e) => e.type === 'TaskCompleted'), {
    timeoutMs: 60_000,
    intervalMs: 200,
    context: () => product?.output().slice(-4_000) ?? '',
  });
}

const expectAlive = (p: RoleProcess) => {
  expect(p.child.exitCode, p.output().slice(-3_000)).toBeNull();
  expect(p.child.signalCode).toBeNull();
  expect(p.output()).not.toContain(UNHANDLED_FATAL);
};

beforeAll(async () => {
  broker = await startNatsBroker();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-poison-'));
  await makeRepository('demo');
  env = { NATS_URL: broker.url, WORKSPACE_ROOT: workspace, DATA_DIR: path.join(workspace, '.data'), LOCAL_WORKER_COUNT: '1' };
  product = await startRoleProcess(ROLES, env, 90_000);
  // A plain client, as any local process could be: no product code between it and the log.
  raw = await connect({ servers: broker.url, name: 'poisoner' });
  store = await JetStreamEventStore.connect(raw);
  commands = new CommandClient(raw);
}, 180_000);

afterAll(async () => {
  if (product && product.child.exitCode === null && product.child.signalCode === null) product.child.kill('SIGKILL');
  await raw?.close().catch(() => undefined);
  await broker?.dispose();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe('messages in the event log that are not commits', () => {
  it('are passed over by every role: the product keeps serving', async () => {
    await taskCompletes();
    const js = raw.jetstream();
    const plain = await js.publish('orch.es.task.x', new TextEncoder().encode(JSON.stringify({ hello: 'world' })));
    poison.push({ seq: plain.seq, subject: 'orch.es.task.x' });
    const h = headers();
    h.set('Orch-Revision', '0');
    const notEvents = await js.publish('orch.es.task.y', new TextEncoder().encode(JSON.stringify({ type: 'TaskQueued', data: {} })), { headers: h });
    poison.push({ seq: notEvents.seq, subject: 'orch.es.task.y' });

    await taskCompletes();
    expectAlive(product!);
    // Logged once each, with subject and sequence (one process here: it saw each first).
    for (const { seq, subject } of poison) {
      const lines = product!
        .output()
        .split('\n')
        .filter((l) => l.includes('quarantined and passed over') && l.includes(`"seq":${seq}`));
      expect(lines, product!.output().slice(-3_000)).toHaveLength(1);
      expect(lines[0]).toContain(subject);
    }
  }, 120_000);

  it('survive a kill -9 and restart of the product with the messages still in the log', async () => {
    const killed = product!;
    product = undefined;
    const exited = new Promise((resolve) => killed.child.once('exit', resolve));
    killed.child.kill('SIGKILL');
    await exited;
    product = await startRoleProcess(ROLES, env, 90_000);
    await taskCompletes();
    // Roles replay from their checkpoints, some from before the poison: still alive, and not logged again.
    await new Promise((r) => setTimeout(r, 2_000));
    expectAlive(product);
    expect(product.output()).not.toContain('quarantined and passed over');
  }, 180_000);

  it('reads pass over them: a stream that is only such a message does not exist; reading the whole log skips them', async () => {
    expect(await store.read(streamName('task', 'x'))).toEqual({ exists: false, events: [] });
    expect(await store.read(streamName('task', 'y'))).toEqual({ exists: false, events: [] });
    const all = await store.readAll();
    expect(all.length).toBeGreaterThan(0);
    expect(all.some((e) => e.stream === 'task-x' || e.stream === 'task-y')).toBe(false);
    expect(await store.headPosition()).toBeDefined();
  });

  it('a projection rebuild passes over them and swaps in', async () => {
    const rebuilt = await orch('projections', 'rebuild', 'task-progress');
    expect(rebuilt.code, rebuilt.stderr + rebuilt.stdout).toBe(0);
    expectAlive(product!);
  }, 120_000);

  it('`orch events quarantine` lists them: sequence, subject, time, reason, size', async () => {
    const listed = await orch('events', 'quarantine', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const entries = JSON.parse(listed.stdout) as { seq: number; subject: string; time: string; reason: string; size: number }[];
    expect(entries.map(({ seq, subject }) => ({ seq, subject }))).toEqual(poison);
    for (const entry of entries) {
      expect(Number.isNaN(Date.parse(entry.time))).toBe(false);
      expect(entry.size).toBeGreaterThan(0);
    }
    expect(entries[0]!.reason).toMatch(/no Orch-Revision header/);
    expect(entries[1]!.reason).toMatch(/not a non-empty JSON array of events/);

    const table = await orch('events', 'quarantine');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/SEQUENCE\s+SUBJECT\s+TIME\s+SIZE\s+REASON/);
    for (const { seq, subject } of poison) expect(table.stdout).toMatch(new RegExp(`^${seq}\\s+${subject.replace(/\./g, '\\.')}\\s`, 'm'));
    expect(table.stdout).toContain('2 quarantined messages');

    const help = await orch('events', 'quarantine', '--help');
    expect(help.stdout).toMatch(/not event-store commits/);
  }, 60_000);
});

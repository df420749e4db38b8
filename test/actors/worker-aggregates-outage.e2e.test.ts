import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { loadConfig } from '../../infra/config/load-config.ts';
import { openEventStore } from '../../infra/event-store.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startRole } from '../../infra/roles.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';
import { waitFor as waitUntil } from '../support/waiting.ts';

// Workers ride out an aggregate host that goes away: `aggregates` runs as its own process and
// is killed with SIGKILL while tasks run in two worker processes, then started again a few
// seconds later. Progress reports meanwhile find no host, completions wait for one; the workers
// keep heartbeating, so the queue hands nothing to another worker. Each task's test command
// writes its own marker file: every task must have run exactly once.

const HEARTBEAT_TIMEOUT_MS = 1_500;
const TASKS = 6;
const RUN_MS = 3_000;
const OUTAGE_MS = 4_000;

let server: TestNatsServer;
let nc: NatsConnection;
let store: EventStore;
let client: CommandClient;
let workspace: string;
let aggregates: RoleProcess | undefined;
const processes: RoleProcess[] = [];
const stops: (() => Promise<unknown>)[] = [];

const env = (): NodeJS.ProcessEnv => ({
  NATS_URL: server.url,
  WORKSPACE_ROOT: workspace,
  DATA_DIR: path.join(workspace, '.data'),
  WORKER_HEARTBEAT_TIMEOUT: String(HEARTBEAT_TIMEOUT_MS),
  LOCAL_WORKER_COUNT: '2',
});

const markerOf = (repo: string) => path.join(workspace, 'markers', `${repo}.log`);

async function repository(name: string): Promise<void> {
  const dir = path.join(workspace, name);
  await mkdir(dir, { recursive: true });
  const marker = JSON.stringify(markerOf(name));
  await writeFile(
    path.join(dir, 'count.js'),
    `const fs = require('node:fs');\nfs.appendFileSync(${marker}, 'start ' + process.pid + '\\n');\nsetTimeout(() => { fs.appendFileSync(${marker}, 'done ' + process.pid + '\\n'); console.log('# pass 1'); }, ${RUN_MS});\n`,
  );
  await writeFile(path.join(dir, '.orchestrator.json'), JSON.stringify({ testCommand: [process.execPath, 'count.js'] }));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
}

/** What a task's own test command wrote: the pids that started and that finished. */
async function marks(repo: string): Promise<{ started: number[]; done: number[] }> {
  const text = await readFile(markerOf(repo), 'utf8').catch(() => '');
  const pids = (word: string) => [...text.matchAll(new RegExp(`^${word} (\\d+)$`, 'gm'))].map((m) => Number(m[1]));
  return { started: pids('start'), done: pids('done') };
}

const outputs = () => processes.map((p) => p.output().slice(-3_000)).join('\n---\n');
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> =>
  waitUntil(what, probe, { timeoutMs, intervalMs: 100, context: outputs });
const history = async (taskId: string): Promise<RecordedEvent[]> => [...(await store.read(streamName('task', taskId))).events];

async function startAggregates(): Promise<void> {
  aggregates = await startRoleProcess(['aggregates'], env(), 60_000);
  processes.push(aggregates);
}

beforeAll(async () => {
  server = await startTestNatsServer();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-outage-'));
  await mkdir(path.join(workspace, 'markers'), { recursive: true });
  const config = loadConfig(env(), { envFile: false });
  nc = await connectNats(server.url);
  store = (await openEventStore(config, nc)).store;
  stops.push(await startRole('dispatcher', { config, nc, store, logger: pino({ level: 'silent' }) }));
  client = new CommandClient(nc);
}, 60_000);

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  for (const stop of stops.reverse()) await stop();
  await store?.close();
  await nc?.close();
  await server?.dispose();
  await rm(workspace, { recursive: true, force: true });
});

describe('workers while the aggregates are away', () => {
  it('keep running: every task completes exactly once, both worker processes live, nothing unhandled', async () => {
    await startAggregates();
    const workerProcesses = [await startRoleProcess(['workers:local-ops'], env(), 60_000), await startRoleProcess(['workers:local-ops'], env(), 60_000)];
    processes.push(...workerProcesses);

    const tasks: { taskId: string; repo: string }[] = [];
    for (let i = 0; i < TASKS; i++) {
      const repo = `repo-${i}`;
      await repository(repo);
      const taskId = randomUUID();
      const reply = await client.send(
        { category: 'task', id: taskId },
        {
          commandId: `queue-${taskId}`,
          type: 'QueueTask',
          actor: 'U1',
          data: { taskType: 'run-tests', pool: 'local-ops', payload: { repository: repo }, timeoutMs: 120_000, requestedBy: 'U1' },
        },
      );
      expect(reply.status, JSON.stringify(reply)).toBe('accepted');
      tasks.push({ taskId, repo });
    }

    // All four workers busy, then the aggregate host disappears while they run.
    await waitFor('four tasks running', async () => (await Promise.all(tasks.map((t) => marks(t.repo)))).filter((m) => m.started.length > 0).length >= 4);
    const killed = aggregates!;
    const exited = new Promise((resolve) => killed.child.once('exit', resolve));
    killed.child.kill('SIGKILL');
    await exited;
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    // The running tasks finished while no host could record it.
    const finishedDuringOutage = (await Promise.all(tasks.map((t) => marks(t.repo)))).filter((m) => m.done.length > 0).length;
    expect(finishedDuringOutage).toBeGreaterThanOrEqual(4);
    await startAggregates();

    for (const { taskId } of tasks) await waitFor(`task ${taskId} completed`, async () => (await history(taskId)).some((e) => e.type === 'TaskCompleted'));
    // Long enough for any redelivery to have started a second run.
    await new Promise((resolve) => setTimeout(resolve, 3 * HEARTBEAT_TIMEOUT_MS));

    for (const { taskId, repo } of tasks) {
      const { started, done } = await marks(repo);
      expect({ repo, started: started.length, done: done.length }).toEqual({ repo, started: 1, done: 1 });
      const types = (await history(taskId)).map((e) => e.type);
      expect(types.filter((t) => t === 'TaskAssigned')).toHaveLength(1);
      expect(types).not.toContain('TaskAttemptAbandoned');
    }
    for (const worker of workerProcesses) {
      expect(worker.child.exitCode).toBeNull();
      expect(worker.child.signalCode).toBeNull();
      expect(worker.output()).not.toMatch(/unhandled|uncaught|"level":60/i);
    }
    // It did notice the outage: commands waited for a host, under their own ids.
    expect(workerProcesses.map((w) => w.output()).join('\n')).toMatch(/command not answered yet; retrying under the same id/);
    for (const worker of workerProcesses) await worker.stop();
  }, 180_000);
});

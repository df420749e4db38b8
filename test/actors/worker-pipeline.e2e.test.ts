import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { startRoleProcess } from '../support/role-process.ts';

// A task's whole path on a real nats-server: command → Task aggregate → dispatcher → work
// queue → worker actor (in this process, or a separate process we kill) → executor on a real
// git repository → events back on the task.

const HEARTBEAT_TIMEOUT_MS = 1_500;

describe('task pipeline: queue, workers, executors', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let store: EventStore;
  let workspace: string;
  let client: CommandClient;
  const stops: (() => Promise<unknown>)[] = [];
  const children: ChildProcess[] = [];

  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NATS_URL: server.url,
    WORKSPACE_ROOT: workspace,
    WORKER_HEARTBEAT_TIMEOUT: String(HEARTBEAT_TIMEOUT_MS),
    LOCAL_WORKER_COUNT: '1',
    LOG_LEVEL: 'warn',
  });

  beforeAll(async () => {
    server = await startTestNatsServer();
    workspace = await mkdtemp(path.join(tmpdir(), 'orch-workspace-'));
    const config = loadConfig(env(), { envFile: false });
    nc = await connectNats(server.url);
    store = (await openEventStore(config, nc)).store;
    const logger = pino({ level: 'silent' });
    for (const role of ['aggregates', 'dispatcher'] as const) stops.push(await startRole(role, { config, nc, store, logger }));
    client = new CommandClient(nc);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const stop of stops.reverse()) await stop();
    await store.close();
    await nc.close();
    await server.dispose();
    await rm(workspace, { recursive: true, force: true });
  });

  const startWorkerProcess = async (): Promise<ChildProcess> => {
    const { child } = await startRoleProcess(['workers:local-ops'], env());
    children.push(child);
    return child;
  };

  const makeRepo = async (name: string, files: Record<string, string>): Promise<string> => {
    const dir = path.join(workspace, name);
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), content);
    }
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init');
    return name;
  };

  const queueTask = async (taskType: string, payload: unknown, extra: Record<string, unknown> = {}) => {
    const taskId = crypto.randomUUID();
    const reply = await client.send(
      { category: 'task', id: taskId },
      {
        commandId: `queue-${taskId}`,
        type: 'QueueTask',
        actor: 'U1',
        data: { taskType, pool: 'local-ops', payload, timeoutMs: 60_000, requestedBy: 'U1', ...extra },
      },
    );
    expect(reply.status).toBe('accepted');
    return taskId;
  };

  const history = async (taskId: string) => (await store.read(streamName('task', taskId))).events;
  const waitFor = async (taskId: string, done: (events: readonly RecordedEvent[]) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = await history(taskId);
      if (done(events)) return events;
      if (Date.now() > deadline) throw new Error(`timed out; history: ${events.map((e) => e.type).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const has = (type: string) => (events: readonly RecordedEvent[]) => events.some((e) => e.type === type);

  it('runs analyze-codebase on a real repository and records progress and the exact counts', async () => {
    stops.push(await startRole('workers:local-ops', { config: loadConfig(env(), { envFile: false }), nc, store, logger: pino({ level: 'silent' }) }));
    const repo = await makeRepo('planted', {
      'src/a.ts': 'export const a = 1;\n// TODO: one\n// FIXME: two\n',
      'src/b.ts': 'export const b = 2;\n',
      'tool.py': 'print("x")\n# TODO: three\n',
    });
    const taskId = await queueTask('analyze-codebase', { repository: repo });
    const events = await waitFor(taskId, has('TaskCompleted'));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('TaskQueued');
    expect(types[1]).toBe('TaskAssigned');
    expect(types.filter((t) => t === 'TaskProgressed').length).toBeGreaterThanOrEqual(1);
    const percents = events.filter((e) => e.type === 'TaskProgressed').map((e) => (e.data as { percent: number }).percent);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    const result = (events.at(-1)!.data as { result: Record<string, unknown> }).result;
    expect(JSON.stringify(result)).toMatch(/"todo(Count)?":2|"todos?":\{"count":2/i);
    expect(JSON.stringify(result)).toMatch(/"fixme(Count)?":1|"fixmes?":\{"count":1/i);
  });

  it('a worker process killed with SIGKILL mid-task: another worker completes it and the history shows both attempts', async () => {
    // Stop the in-process worker so the task goes to the process we kill.
    await stops.pop()!();
    const repo = await makeRepo('slow-tests', {
      'package.json': JSON.stringify({ name: 'slow', private: true, scripts: { test: 'node --test' } }),
      'test/slow.test.js': "const test = require('node:test');\ntest('slow', async () => { await new Promise((r) => setTimeout(r, 3000)); });\n",
    });
    const doomed = await startWorkerProcess();
    const taskId = await queueTask('run-tests', { repository: repo });
    await waitFor(taskId, has('TaskAssigned'));
    doomed.kill('SIGKILL');
    await startWorkerProcess();
    const events = await waitFor(taskId, has('TaskCompleted'), 60_000);
    const assigned = events.filter((e) => e.type === 'TaskAssigned').map((e) => e.data as { attempt: number; workerId: string });
    expect(assigned.map((a) => a.attempt)).toEqual([1, 2]);
    expect(assigned[0]!.workerId).not.toBe(assigned[1]!.workerId);
    expect(events.some((e) => e.type === 'TaskAttemptAbandoned' && (e.data as { attempt: number }).attempt === 1)).toBe(true);
    const result = (events.at(-1)!.data as { result: { passed: number; failed: number } }).result;
    expect(result.passed).toBe(1);
    expect(result.failed).toBe(0);
  });

  it('cancelling a task running a long sleep stops it within 2 s and leaves no child process', async () => {
    const marker = `${31 + Math.floor(Math.random() * 1000) / 1000}`;
    const repo = await makeRepo('sleeper', {
      '.orchestrator.json': JSON.stringify({ testCommand: ['sh', '-c', `sleep ${marker} & sleep ${marker}`] }),
    });
    const taskId = await queueTask('run-tests', { repository: repo });
    await waitFor(taskId, has('TaskAssigned'));
    const running = () => {
      try {
        return execFileSync('pgrep', ['-f', `sleep ${marker}`])
          .toString()
          .trim()
          .split('\n')
          .filter(Boolean);
      } catch {
        return [];
      }
    };
    const deadline = Date.now() + 10_000;
    // The shell and its two sleeps all carry the marker on their command lines.
    while (running().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(running().length).toBe(3);
    const cancelledAt = Date.now();
    const reply = await client.send(
      { category: 'task', id: taskId },
      { commandId: `cancel-${taskId}`, type: 'CancelTask', actor: 'U1', data: { reason: 'changed my mind' } },
    );
    expect(reply.status).toBe('accepted');
    while (running().length > 0 && Date.now() - cancelledAt < 5_000) await new Promise((r) => setTimeout(r, 50));
    expect(running()).toEqual([]);
    expect(Date.now() - cancelledAt).toBeLessThan(2_000);
    const events = await history(taskId);
    expect(events.at(-1)!.type).toBe('TaskCancelled');
    expect((events.at(-1)!.data as { wasRunning: boolean }).wasRunning).toBe(true);
  });
});

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../../actors/runtime/command-client.ts';
import type { EventStore, RecordedEvent } from '../../../domain/ports/event-store.ts';
import { streamName } from '../../../domain/streams.ts';
import { loadConfig } from '../../../infra/config/load-config.ts';
import { openEventStore } from '../../../infra/event-store.ts';
import { connectNats } from '../../../infra/nats/connect-nats.ts';
import { startRole } from '../../../infra/roles.ts';
import { startTestNatsServer, type TestNatsServer } from '../../support/nats.ts';
import { groupMembers, isRunning, procEntry, runningProcesses } from '../../support/proc-scan.ts';
import { startRoleProcess } from '../../support/role-process.ts';
import { waitFor } from '../../support/waiting.ts';

// A worker process killed with SIGKILL mid-task must not leave its executor running: the retry
// would run the real side effect a second time. The executor here is a `run-tests` whose test
// command writes a marker with its pid, sleeps, then writes a "done" marker: the side effect.

describe('executor process groups of a killed worker', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let store: EventStore;
  let client: CommandClient;
  let workspace: string;
  let dataDir: string;
  let markers: string;
  const stops: (() => Promise<unknown>)[] = [];
  const children: ChildProcess[] = [];

  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NATS_URL: server.url,
    WORKSPACE_ROOT: workspace,
    DATA_DIR: dataDir,
    WORKER_HEARTBEAT_TIMEOUT: '1500',
    LOCAL_WORKER_COUNT: '1',
  });

  beforeAll(async () => {
    server = await startTestNatsServer();
    workspace = await mkdtemp(path.join(tmpdir(), 'orch-orphans-ws-'));
    dataDir = await mkdtemp(path.join(tmpdir(), 'orch-orphans-data-'));
    markers = await mkdtemp(path.join(tmpdir(), 'orch-orphans-markers-'));
    const config = loadConfig({ ...env(), LOG_LEVEL: 'warn' }, { envFile: false });
    nc = await connectNats(server.url);
    store = (await openEventStore(config, nc)).store;
    for (const role of ['aggregates', 'dispatcher'] as const) stops.push(await startRole(role, { config, nc, store, logger: pino({ level: 'silent' }) }));
    client = new CommandClient(nc);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const stop of stops.reverse()) await stop();
    await store.close();
    await nc.close();
    await server.dispose();
    for (const dir of [workspace, dataDir, markers]) await rm(dir, { recursive: true, force: true });
  });

  const startWorker = async (): Promise<ChildProcess> => {
    const { child } = await startRoleProcess(['workers:local-ops'], env());
    children.push(child);
    return child;
  };

  /** A repository whose test command records its pid, sleeps, then records that it finished. */
  const sleeperRepo = async (name: string, sleepSeconds: number): Promise<string> => {
    const dir = path.join(workspace, name);
    await mkdir(dir, { recursive: true });
    const script = `echo $$ > ${markers}/${name}.started; sleep ${sleepSeconds}; echo done > ${markers}/${name}.done`;
    await writeFile(path.join(dir, '.orchestrator.json'), JSON.stringify({ testCommand: ['sh', '-c', script] }));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init');
    return name;
  };

  const queueRunTests = async (repository: string): Promise<string> => {
    const taskId = crypto.randomUUID();
    const reply = await client.send(
      { category: 'task', id: taskId },
      {
        commandId: `queue-${taskId}`,
        type: 'QueueTask',
        actor: 'U1',
        data: { taskType: 'run-tests', pool: 'local-ops', payload: { repository }, timeoutMs: 120_000, requestedBy: 'U1' },
      },
    );
    expect(reply.status).toBe('accepted');
    return taskId;
  };
  const cancel = async (taskId: string) => {
    const reply = await client.send(
      { category: 'task', id: taskId },
      { commandId: `cancel-${taskId}`, type: 'CancelTask', actor: 'U1', data: { reason: 'test over' } },
    );
    expect(reply.status).toBe('accepted');
  };
  const history = async (taskId: string): Promise<readonly RecordedEvent[]> => (await store.read(streamName('task', taskId))).events;

  /** The pid the executor's shell wrote: the leader of its process group. */
  const startedGroup = (name: string): Promise<number> =>
    waitFor(
      `${name} to start`,
      () => {
        const text = existsSync(`${markers}/${name}.started`) ? readFileSync(`${markers}/${name}.started`, 'utf8').trim() : '';
        return text === '' ? undefined : Number(text);
      },
      { timeoutMs: 30_000 },
    );

  const killed = (child: ChildProcess): Promise<void> =>
    new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });

  it('kill -9 of the worker mid-task: within 2 s nothing of the executor group runs, and it never finishes its side effect', async () => {
    const repo = await sleeperRepo('killed-mid-task', 6);
    const worker = await startWorker();
    const taskId = await queueRunTests(repo);
    const pgid = await startedGroup(repo);
    expect(procEntry(pgid)?.pgrp).toBe(pgid);
    expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(2); // the shell and its sleep

    await killed(worker);
    const killedAt = Date.now();
    await waitFor('the executor group to be gone', () => groupMembers(pgid).length === 0, { timeoutMs: 10_000, intervalMs: 20 });
    expect(Date.now() - killedAt).toBeLessThan(2_000);

    // Past the moment the sleep would have ended: the side effect never happened.
    await new Promise((r) => setTimeout(r, 7_000));
    expect(existsSync(`${markers}/${repo}.done`)).toBe(false);
    expect((await history(taskId)).some((e) => e.type === 'TaskAssigned')).toBe(true);
    await cancel(taskId); // so no later worker of this file runs it again
  });

  it('a worker starting on the host stops the executor group an earlier worker recorded and left running, and nothing else', async () => {
    const repo = await sleeperRepo('left-by-earlier-run', 60);
    const worker = await startWorker();
    const taskId = await queueRunTests(repo);
    const pgid = await startedGroup(repo);

    // Both the worker and its watchdog die: the group is orphaned, only its record remains.
    const watchdog = runningProcesses().find((p) => p.ppid === worker.pid && p.argv.some((a) => a.endsWith('group-watchdog.mjs')));
    expect(watchdog).toBeDefined();
    process.kill(watchdog!.pid, 'SIGKILL');
    await killed(worker);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(2);
    await cancel(taskId);
    const recordDir = path.join(dataDir, 'run', 'executors');
    const records = await readdir(recordDir);
    expect(records).toContain(`${worker.pid}-${pgid}.json`);
    const recorded = JSON.parse(readFileSync(path.join(recordDir, `${worker.pid}-${pgid}.json`), 'utf8')) as Record<string, unknown>;

    // An unrelated process in its own group, under a record of an earlier process that had its pid.
    const bystander = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    children.push(bystander);
    await waitFor('the bystander to run', () => isRunning(bystander.pid!));
    const bystanderStart = readFileSync(`/proc/${bystander.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
    await writeFile(
      path.join(recordDir, `${worker.pid}-${bystander.pid}.json`),
      JSON.stringify({ ...recorded, pgid: bystander.pid, startTime: String(Number(bystanderStart) - 1), command: ['sleep', '300'], host: hostname() }),
    );

    await startWorker();
    await waitFor('the recorded group to be stopped', () => groupMembers(pgid).length === 0, { timeoutMs: 5_000 });
    expect(isRunning(bystander.pid!)).toBe(true);
    expect(await readdir(recordDir)).not.toContain(`${worker.pid}-${pgid}.json`);
    expect(existsSync(`${markers}/${repo}.done`)).toBe(false);
  });
});

import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { registerDefinition } from '../../domain/workflow/index.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { waitFor as waitUntil } from '../support/waiting.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { isAlive } from '../support/processes.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';

// Durable workflows end to end: the whole product in a child process on a real nats-server,
// `kill -9` while a step runs and again while the workflow waits at an approval gate. Two
// workflows run side by side: one whose gate times out, one whose gate someone grants after the
// restart. Each step is `run-tests` on a real git repository whose test command appends
// "start <pid>" to runs.log, sleeps, then appends "done <pid>": the executions are counted there.
//
// A step killed mid-run was never recorded as completed, so it legitimately runs again: its
// attempt's task is handed to the next worker, found abandoned (the worker went silent) and the
// workflow retries the step. What must never happen is a step that completed running again, so
// the test counts "done" lines. The killed test process would finish on its own (it runs in its
// own process group, which a SIGKILL of the product does not reach); a crashed machine takes it
// down with the product, so the test kills it too, by the pid it wrote.

const ROLES = ['aggregates', 'dispatcher', 'workflow-engine', 'projections', 'public-events', 'reactors', 'workers:local-ops'];
const STEP_MS = 1_500;
const GATE_MS = 7_000;
const TOLERANCE_MS = 1_000;

let nats: TestNatsServer;
let workspace: string;
let env: NodeJS.ProcessEnv;
let product: RoleProcess | undefined;
let nc: NatsConnection;
let store: JetStreamEventStore;
let commands: CommandClient;

async function makeRepository(name: string): Promise<void> {
  const repo = path.join(workspace, name);
  await mkdir(repo, { recursive: true });
  await writeFile(
    path.join(repo, 'count.js'),
    `const fs = require('node:fs');
fs.appendFileSync('runs.log', 'start ' + process.pid + '\\n');
setTimeout(() => {
  fs.appendFileSync('runs.log', 'done ' + process.pid + '\\n');
  console.log('# pass 1');
}, ${STEP_MS});
`,
  );
  await writeFile(path.join(repo, '.orchestrator.json'), JSON.stringify({ testCommand: [process.execPath, 'count.js'] }));
  await writeFile(path.join(repo, '.gitignore'), 'runs.log\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
}

/** The runs a repository's test command started and finished, by pid. */
async function runs(repo: string): Promise<{ started: number[]; done: number[] }> {
  const text = await readFile(path.join(workspace, repo, 'runs.log'), 'utf8').catch(() => '');
  const pids = (word: string) => [...text.matchAll(new RegExp(`^${word} (\\d+)$`, 'gm'))].map((m) => Number(m[1]));
  return { started: pids('start'), done: pids('done') };
}

const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> =>
  waitUntil(what, probe, { timeoutMs, context: () => product?.output().slice(-3_000) ?? '' });

const history = async (workflowId: string): Promise<RecordedEvent[]> => [...(await store.read(streamName('workflow', workflowId))).events];
const eventOf = (workflowId: string, type: string, timeoutMs?: number) =>
  waitFor(`${type} in workflow-${workflowId}`, async () => (await history(workflowId)).find((e) => e.type === type), timeoutMs);
const count = async (workflowId: string, type: string, stepId?: string) =>
  (await history(workflowId)).filter((e) => e.type === type && (stepId === undefined || (e.data as { stepId?: string }).stepId === stepId)).length;
const data = (event: RecordedEvent) => event.data as Record<string, unknown>;

const startProduct = async (): Promise<void> => {
  product = await startRoleProcess(ROLES, env, 30_000);
};

/** SIGKILL by pid: no shutdown, no drain, no checkpoint saved. Test processes it had running die with it. */
async function killProduct(): Promise<void> {
  const running = product!;
  product = undefined;
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGKILL');
  await exited;
  // The worker's watchdog stops the test commands it was running (their process groups) within
  // 2 s; the test only checks that it did, and never signals a pid that may have been reused.
  for (const repo of repos) {
    const { started, done } = await runs(repo);
    const leftOver = started.filter((p) => !done.includes(p));
    await waitUntil(`the killed run in ${repo} to be stopped`, () => leftOver.every((p) => !isAlive(p)), { timeoutMs: 5_000 });
  }
}

let repos: string[] = [];

async function startWorkflow(name: string): Promise<string> {
  const root = {
    type: 'sequence',
    steps: [
      { type: 'task', id: 'build', taskType: 'run-tests', params: { repository: `${name}-build` }, retry: { attempts: 3, backoffMs: 200, maxBackoffMs: 200 } },
      { type: 'approval', id: 'gate', timeoutMs: GATE_MS },
      { type: 'task', id: 'verify', taskType: 'run-tests', params: { repository: `${name}-verify` } },
    ],
  };
  const compiled = registerDefinition({ form: 'stepTree', name: `crash ${name}`, root }, { taskTypes: ['run-tests'] });
  if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
  const workflowId = `wf-${name}-${randomUUID().slice(0, 8)}`;
  const reply = await commands.send(
    { category: 'workflow', id: workflowId },
    { commandId: `start-${workflowId}`, type: 'StartWorkflow', actor: 'U-req', data: { definition: compiled.right, requestedBy: 'U-req' } },
  );
  expect(reply.status, JSON.stringify(reply)).toBe('accepted');
  return workflowId;
}

beforeAll(async () => {
  nats = await startTestNatsServer();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-wf-crash-'));
  repos = ['timeout-build', 'timeout-verify', 'granted-build', 'granted-verify'];
  for (const repo of repos) await makeRepository(repo);
  env = {
    NATS_URL: nats.url,
    WORKSPACE_ROOT: workspace,
    DATA_DIR: path.join(workspace, '.data'),
    LOCAL_WORKER_COUNT: '2',
    // A killed worker's task goes back to the queue this long after its last heartbeat.
    WORKER_HEARTBEAT_TIMEOUT: '1000',
  };
  nc = await connectNats(nats.url);
  store = await JetStreamEventStore.connect(nc);
  commands = new CommandClient(nc);
  await startProduct();
}, 60_000);

afterAll(async () => {
  if (product) await killProduct().catch(() => undefined);
  await nc?.close();
  await nats?.dispose();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe('kill -9 of the product during a workflow', () => {
  let timingOut: string;
  let granted: string;

  it('during a step: after the restart the step runs again and each workflow reaches its gate; no completed step ran twice', async () => {
    timingOut = await startWorkflow('timeout');
    granted = await startWorkflow('granted');
    await waitFor('both builds running', async () => (await runs('timeout-build')).started.length > 0 && (await runs('granted-build')).started.length > 0);
    await killProduct();
    expect((await runs('timeout-build')).done).toEqual([]);
    expect((await runs('granted-build')).done).toEqual([]);

    await startProduct();
    for (const id of [timingOut, granted]) {
      await eventOf(id, 'ApprovalRequested');
      // The killed attempt failed as abandoned and was retried; the retry completed, once.
      expect(await count(id, 'StepCompleted', 'build')).toBe(1);
      expect((await history(id)).find((e) => e.type === 'StepFailed')!.data).toMatchObject({
        stepId: 'build',
        attempt: 1,
        error: { code: 'AttemptsExhausted' },
        retryable: true,
        final: false,
      });
    }
    for (const repo of ['timeout-build', 'granted-build']) {
      const { started, done } = await runs(repo);
      expect(started).toHaveLength(2);
      expect(done).toHaveLength(1);
    }
  });

  it('during the approval wait: the timeout fires at its original due time; a grant after the restart completes the other workflow', async () => {
    const requested = (await history(timingOut)).find((e) => e.type === 'ApprovalRequested')!;
    const dueAt = Date.parse(data(requested).dueAt as string);
    expect(dueAt - Date.parse(data(requested).at as string)).toBe(GATE_MS);
    await killProduct();
    await startProduct();
    // Up again before the due time, so a timer re-armed for "restart + timeout" would show as late.
    expect(Date.now()).toBeLessThan(dueAt - TOLERANCE_MS);
    // The engine's agenda came from the workflow-timers read model: both running workflows were in it.
    expect(product!.output()).toMatch(/"fromModel":2\b/);

    const grant = await commands.send(
      { category: 'workflow', id: granted },
      { commandId: randomUUID(), type: 'GrantApproval', actor: 'U-boss', data: { stepId: 'gate' } },
    );
    expect(grant.status, JSON.stringify(grant)).toBe('accepted');
    await eventOf(granted, 'WorkflowCompleted');

    const timedOut = await eventOf(timingOut, 'ApprovalTimedOut', GATE_MS + 5_000);
    const late = Date.parse(data(timedOut).at as string) - dueAt;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(TOLERANCE_MS);
    expect(data(await eventOf(timingOut, 'WorkflowFailed'))).toMatchObject({ cause: 'ApprovalTimedOut', stepId: 'gate' });
    expect(await count(timingOut, 'ApprovalTimedOut')).toBe(1);

    // Every step that completed ran to completion exactly once, across both restarts.
    expect((await runs('timeout-build')).done).toHaveLength(1);
    expect((await runs('timeout-verify')).started).toEqual([]);
    expect((await runs('granted-build')).done).toHaveLength(1);
    expect(await runs('granted-verify')).toMatchObject({ started: [expect.any(Number)], done: [expect.any(Number)] });
    expect(await count(granted, 'StepCompleted', 'verify')).toBe(1);
  });
});

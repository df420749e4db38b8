import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { registerDefinition } from '../../domain/workflow/index.ts';
import { loadConfig } from '../../infra/config/load-config.ts';
import { openEventStore } from '../../infra/event-store.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startRole } from '../../infra/roles.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { isAlive } from '../support/processes.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';
import { waitFor as waitUntil } from '../support/waiting.ts';

// At most once for side effects, end to end: a real nats-server, the aggregates and the
// dispatcher (and the workflow engine) in this process, workers as role processes that are
// killed with SIGKILL mid-run. The side effects are counted by the stand-ins' own records: the
// `sf` stand-in's org keeps one line per deploy started (deploys.jsonl) and logs every call; the
// `claude` stand-in logs every run. The product's events are only read to know when to look.

const SF_STANDIN = fileURLToPath(new URL('../support/sf-standin.mjs', import.meta.url));
const CLAUDE_STANDIN = fileURLToPath(new URL('../support/claude-standin.mjs', import.meta.url));
const HEARTBEAT_TIMEOUT_MS = 1_500;
/** How long a deploy runs in the stand-in's org: the worker is killed while it does. */
const DEPLOY_MS = 8_000;
const CLAUDE_RUN_MS = 5_000;

let server: TestNatsServer;
let nc: NatsConnection;
let store: EventStore;
let client: CommandClient;
let workspace: string;
let org: string;
let sfLog: string;
let claudeLog: string;
const stops: (() => Promise<unknown>)[] = [];
const workers: RoleProcess[] = [];

const env = (): NodeJS.ProcessEnv => ({
  NATS_URL: server.url,
  WORKSPACE_ROOT: workspace,
  DATA_DIR: path.join(workspace, '.data'),
  WORKER_HEARTBEAT_TIMEOUT: String(HEARTBEAT_TIMEOUT_MS),
  WORKER_COUNT: '1',
  LOCAL_WORKER_COUNT: '1',
  SF_BIN: SF_STANDIN,
  SF_STANDIN_LOG: sfLog,
  SF_STANDIN_ORG_DIR: org,
  SF_STANDIN_DEPLOY_MS: String(DEPLOY_MS),
  CLAUDE_BIN: CLAUDE_STANDIN,
  CLAUDE_STANDIN_LOG: claudeLog,
  CLAUDE_STANDIN_DELAY_MS: String(CLAUDE_RUN_MS),
  LOG_LEVEL: 'info',
});

beforeAll(async () => {
  server = await startTestNatsServer();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-at-most-once-'));
  org = path.join(workspace, '.org');
  sfLog = path.join(workspace, 'sf-calls.jsonl');
  claudeLog = path.join(workspace, 'claude-runs.jsonl');
  const config = loadConfig(env(), { envFile: false });
  nc = await connectNats(server.url);
  store = (await openEventStore(config, nc)).store;
  const logger = pino({ level: 'silent' });
  for (const role of ['aggregates', 'dispatcher', 'workflow-engine'] as const) stops.push(await startRole(role, { config, nc, store, logger }));
  client = new CommandClient(nc);
}, 60_000);

afterAll(async () => {
  for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  for (const stop of stops.reverse()) await stop();
  await store?.close();
  await nc?.close();
  await server?.dispose();
  await rm(workspace, { recursive: true, force: true });
});

// ── helpers ─────────────────────────────────────────────────────────────────
interface Call {
  readonly argv: string[];
  readonly pid: number;
}
const calls = async (file: string): Promise<Call[]> =>
  (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Call);

/** The org's own record of every deploy started. */
const deploys = async (): Promise<{ id: string; checkOnly: boolean }[]> =>
  (await readFile(path.join(org, 'deploys.jsonl'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { id: string; checkOnly: boolean });

const outputs = () => workers.map((w) => w.output().slice(-2_000)).join('\n---\n');
const waitFor = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 40_000): Promise<T> =>
  waitUntil(what, probe, { timeoutMs, intervalMs: 100, context: outputs });

const history = async (category: 'task' | 'workflow', id: string): Promise<RecordedEvent[]> => [...(await store.read(streamName(category, id))).events];
const eventIn = (category: 'task' | 'workflow', id: string, type: string, timeoutMs?: number) =>
  waitFor(`${type} in ${category}-${id}`, async () => (await history(category, id)).find((e) => e.type === type), timeoutMs);
const typesIn = async (category: 'task' | 'workflow', id: string) => (await history(category, id)).map((e) => e.type);
const data = (event: RecordedEvent) => event.data as Record<string, unknown>;

async function startWorker(pool: string): Promise<RoleProcess> {
  const worker = await startRoleProcess([`workers:${pool}`], env(), 60_000);
  workers.push(worker);
  return worker;
}

async function kill9(worker: RoleProcess): Promise<void> {
  const exited = new Promise((resolve) => worker.child.once('exit', resolve));
  worker.child.kill('SIGKILL');
  await exited;
}

async function queueTask(taskType: string, pool: string, payload: unknown): Promise<string> {
  const taskId = randomUUID();
  const reply = await client.send(
    { category: 'task', id: taskId },
    { commandId: `queue-${taskId}`, type: 'QueueTask', actor: 'U1', data: { taskType, pool, payload, timeoutMs: 120_000, requestedBy: 'U1' } },
  );
  expect(reply.status, JSON.stringify(reply)).toBe('accepted');
  return taskId;
}

const git = (dir: string, ...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });

async function salesforceProject(name: string): Promise<void> {
  const classes = path.join(workspace, name, 'force-app', 'main', 'default', 'classes');
  await mkdir(classes, { recursive: true });
  await writeFile(path.join(workspace, name, 'sfdx-project.json'), JSON.stringify({ packageDirectories: [{ path: 'force-app', default: true }] }));
  for (const cls of ['AccountService', 'InvoiceService']) {
    await writeFile(path.join(classes, `${cls}.cls`), `public class ${cls} {}\n`);
    await writeFile(path.join(classes, `${cls}.cls-meta.xml`), '<ApexClass/>\n');
  }
}

async function gitRepository(name: string, files: Record<string, string>): Promise<void> {
  const dir = path.join(workspace, name);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '.');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
}

/** A settled moment: several ack waits pass, in which a redelivery or a retry would have run. */
const quietFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ── cases ───────────────────────────────────────────────────────────────────
describe('at most once for side effects', () => {
  it('sf-deploy killed mid-deploy: the deploy runs once; the next worker asks the org (deploy report) and records its real result', async () => {
    await salesforceProject('acme-sf');
    const doomed = await startWorker('salesforce');
    const taskId = await queueTask('sf-deploy', 'salesforce', { repository: 'acme-sf', targetOrg: 'prod', mode: 'deploy' });

    // The job id is on the task before the worker waits on the org: kill it then, mid-deploy.
    const evidence = await eventIn('task', taskId, 'TaskAttemptEvidenceRecorded');
    const deployJobId = (data(evidence).evidence as { deployJobId: string }).deployJobId;
    expect(await deploys()).toEqual([expect.objectContaining({ id: deployJobId, checkOnly: false })]);
    await kill9(doomed);
    const reportsBefore = (await calls(sfLog)).filter((c) => c.argv.slice(0, 3).join(' ') === 'project deploy report').length;
    expect(reportsBefore).toBe(0);

    const rescuer = await startWorker('salesforce');
    const unknown = await eventIn('task', taskId, 'TaskOutcomeUnknown');
    expect(data(unknown)).toMatchObject({ attempt: 1, evidence: { deployJobId } });
    const completed = await eventIn('task', taskId, 'TaskCompleted', 60_000);
    expect(data(completed).result).toMatchObject({ success: true, deployId: deployJobId, status: 'Succeeded', mode: 'deploy', componentsDeployed: 2 });
    const resolved = (await history('task', taskId)).find((e) => e.type === 'TaskOutcomeResolved')!;
    expect(data(resolved)).toMatchObject({ attempt: 1, resolution: 'completed', via: 'check', resolvedBy: expect.stringMatching(/^worker:salesforce-/) });

    // Checked with the CLI, by job id; never deployed again.
    const reports = (await calls(sfLog)).filter((c) => c.argv.slice(0, 3).join(' ') === 'project deploy report');
    expect(reports.length).toBeGreaterThanOrEqual(1);
    for (const call of reports) expect(call.argv).toEqual(['project', 'deploy', 'report', '--job-id', deployJobId, '--json', '--target-org', 'prod']);
    await quietFor(3 * HEARTBEAT_TIMEOUT_MS);
    expect(await deploys()).toHaveLength(1);
    expect((await calls(sfLog)).filter((c) => c.argv.slice(0, 3).join(' ') === 'project deploy start')).toHaveLength(1);
    expect((await typesIn('task', taskId)).filter((t) => t === 'TaskAssigned')).toHaveLength(1);
    expect(rescuer.child.exitCode).toBeNull();
    await rescuer.stop();
  }, 150_000);

  it('claude-code in edit mode killed mid-run: left outcomeUnknown (run once); a re-run someone asks for runs exactly once more', async () => {
    await gitRepository('acme-app', { 'src/app.ts': 'export const answer = 41;\n' });
    const doomed = await startWorker('claude');
    const before = (await calls(claudeLog)).length;
    const taskId = await queueTask('claude-code', 'claude', { repository: 'acme-app', prompt: 'Make the answer 42.', mode: 'edit' });
    await waitFor('the claude stand-in to start', async () => (await calls(claudeLog)).length > before);
    await kill9(doomed);

    const rescuer = await startWorker('claude');
    const unknown = await eventIn('task', taskId, 'TaskOutcomeUnknown');
    expect(data(unknown)).toMatchObject({ attempt: 1 });
    await quietFor(3 * HEARTBEAT_TIMEOUT_MS + CLAUDE_RUN_MS);
    expect((await calls(claudeLog)).length - before).toBe(1);
    const waiting = await typesIn('task', taskId);
    expect(waiting.at(-1)).toBe('TaskOutcomeUnknown');
    expect(waiting).not.toContain('TaskRetryScheduled');

    const reply = await client.send(
      { category: 'task', id: taskId },
      {
        commandId: `resolve-${taskId}`,
        type: 'ResolveTaskOutcome',
        actor: 'U-ops',
        data: { resolution: 'rerun', via: 'person', reason: 'checked: nothing was changed' },
      },
    );
    expect(reply.status, JSON.stringify(reply)).toBe('accepted');
    const completed = await eventIn('task', taskId, 'TaskCompleted', 60_000);
    expect(data(completed)).toMatchObject({ attempt: 2, result: { success: true, mode: 'edit' } });
    await quietFor(3 * HEARTBEAT_TIMEOUT_MS);
    expect((await calls(claudeLog)).length - before).toBe(2);
    const assigned = (await history('task', taskId)).filter((e) => e.type === 'TaskAssigned').map((e) => data(e).attempt);
    expect(assigned).toEqual([1, 2]);
    expect(rescuer.child.exitCode).toBeNull();
    await rescuer.stop();
  }, 150_000);

  it('run-tests (safe to run again) killed mid-run is still retried by itself, as before', async () => {
    const runs = path.join(workspace, 'run-tests-runs.log');
    await gitRepository('acme-tests', {
      'count.js': `const fs = require('node:fs');\nfs.appendFileSync(${JSON.stringify(runs)}, 'start ' + process.pid + '\\n');\nsetTimeout(() => { fs.appendFileSync(${JSON.stringify(runs)}, 'done ' + process.pid + '\\n'); console.log('# pass 1'); }, 4000);\n`,
      '.orchestrator.json': JSON.stringify({ testCommand: [process.execPath, 'count.js'] }),
    });
    const started = async () => [...(await readFile(runs, 'utf8').catch(() => '')).matchAll(/^start (\d+)$/gm)].map((m) => Number(m[1]));
    const doomed = await startWorker('local-ops');
    const taskId = await queueTask('run-tests', 'local-ops', { repository: 'acme-tests' });
    const [first] = await waitFor('the first test run', async () => ((await started()).length > 0 ? started() : undefined));
    await kill9(doomed);
    // The killed worker's watchdog stops its test process (the whole group) within 2 s.
    await waitFor('the killed run to be stopped', async () => first === undefined || !isAlive(first), 5_000);

    const rescuer = await startWorker('local-ops');
    const completed = await eventIn('task', taskId, 'TaskCompleted', 60_000);
    expect(data(completed)).toMatchObject({ attempt: 2 });
    const types = await typesIn('task', taskId);
    expect(types).toContain('TaskAttemptAbandoned');
    expect(types).not.toContain('TaskOutcomeUnknown');
    expect(types).not.toContain('TaskOutcomeResolved');
    expect(await started()).toHaveLength(2);
    await rescuer.stop();
  }, 150_000);

  const gate = { type: 'approval', id: 'go' };
  const grantGate = async (workflowId: string) => {
    const granted = await client.send(
      { category: 'workflow', id: workflowId },
      { commandId: `grant-${workflowId}`, type: 'GrantApproval', actor: 'U-ops', data: { stepId: 'go' } },
    );
    expect(granted.status, JSON.stringify(granted)).toBe('accepted');
  };

  it('a workflow whose sf-deploy step was killed mid-deploy waits, then moves on with the result the check found', async () => {
    await salesforceProject('acme-wf');
    const deploysBefore = (await deploys()).length;
    const doomed = await startWorker('salesforce');
    // Nothing deploys without a gate (WF3): the test grants it right after the start.
    const root = {
      type: 'sequence',
      steps: [
        gate,
        {
          type: 'task',
          id: 'deploy',
          taskType: 'sf-deploy',
          params: { repository: 'acme-wf', targetOrg: 'prod', mode: 'deploy' },
          sideEffects: true,
          retry: { attempts: 3, backoffMs: 200, maxBackoffMs: 200 },
        },
      ],
    };
    const compiled = registerDefinition({ form: 'stepTree', name: 'deploy once', root }, { taskTypes: ['sf-deploy'] });
    if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
    const workflowId = `wf-deploy-${randomUUID().slice(0, 8)}`;
    const started = await client.send(
      { category: 'workflow', id: workflowId },
      { commandId: `start-${workflowId}`, type: 'StartWorkflow', actor: 'U-req', data: { definition: compiled.right, requestedBy: 'U-req' } },
    );
    expect(started.status, JSON.stringify(started)).toBe('accepted');
    await grantGate(workflowId);
    const taskId = `${workflowId}_deploy_1`;

    await eventIn('task', taskId, 'TaskAttemptEvidenceRecorded');
    await kill9(doomed);
    const rescuer = await startWorker('salesforce');
    const waiting = await eventIn('workflow', workflowId, 'StepOutcomeUnknown');
    expect(data(waiting)).toMatchObject({ stepId: 'deploy', attempt: 1, taskId });
    const done = await eventIn('workflow', workflowId, 'WorkflowCompleted', 60_000);
    expect(done).toBeDefined();
    const stepCompleted = (await history('workflow', workflowId)).find((e) => e.type === 'StepCompleted')!;
    expect(data(stepCompleted)).toMatchObject({ stepId: 'deploy', attempt: 1, output: { success: true, status: 'Succeeded' } });
    await quietFor(3 * HEARTBEAT_TIMEOUT_MS);
    expect((await deploys()).length - deploysBefore).toBe(1);
    expect(await typesIn('workflow', workflowId)).not.toContain('StepRetryScheduled');
    await rescuer.stop();
  }, 150_000);

  it('a workflow whose sf-deploy step times out mid-deploy waits for people instead of retrying the step (one deploy)', async () => {
    await salesforceProject('acme-slow');
    const deploysBefore = (await deploys()).length;
    const worker = await startWorker('salesforce');
    // The step's time runs out while the org is still deploying: retrying it could deploy twice.
    const root = {
      type: 'sequence',
      steps: [
        gate,
        {
          type: 'task',
          id: 'deploy',
          taskType: 'sf-deploy',
          params: { repository: 'acme-slow', targetOrg: 'prod', mode: 'deploy' },
          sideEffects: true,
          timeoutMs: 3_000,
          retry: { attempts: 3, backoffMs: 200, maxBackoffMs: 200 },
        },
      ],
    };
    const compiled = registerDefinition({ form: 'stepTree', name: 'deploy in time', root }, { taskTypes: ['sf-deploy'] });
    if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
    const workflowId = `wf-slow-${randomUUID().slice(0, 8)}`;
    const started = await client.send(
      { category: 'workflow', id: workflowId },
      { commandId: `start-${workflowId}`, type: 'StartWorkflow', actor: 'U-req', data: { definition: compiled.right, requestedBy: 'U-req' } },
    );
    expect(started.status, JSON.stringify(started)).toBe('accepted');
    await grantGate(workflowId);
    const taskId = `${workflowId}_deploy_1`;

    const waiting = await eventIn('workflow', workflowId, 'StepOutcomeUnknown');
    expect(data(waiting)).toMatchObject({ stepId: 'deploy', attempt: 1, taskId });
    const taskTypes = await typesIn('task', taskId);
    expect(taskTypes).toContain('TaskTimedOut');
    expect(taskTypes).toContain('TaskOutcomeUnknown');
    expect(taskTypes).not.toContain('TaskCancelled');
    await quietFor(DEPLOY_MS);
    expect((await deploys()).length - deploysBefore).toBe(1);
    const workflowTypes = await typesIn('workflow', workflowId);
    expect(workflowTypes).not.toContain('StepRetryScheduled');
    expect(workflowTypes).not.toContain('WorkflowFailed');
    await worker.stop();
  }, 150_000);
});

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
import { CONNECTION_RESTORED } from '../../infra/nats/connection-watch.ts';
import { UNHANDLED_FATAL } from '../../infra/process-guard.ts';
import { startNatsBroker, type NatsBroker } from '../support/nats-broker.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';
import { waitFor } from '../support/waiting.ts';

// The production layout rides out a broker restart: every role in its own process
// (`infra/run-role.ts <role>`), 20 workflows running, `kill -9` of nats-server and a restart 5 s
// later on the same port and store. Every workflow completes, no process exits, and each role is
// serving again within 10 s of the broker coming back, measured from outside by what it does:
//  - every process logs "NATS connection restored";
//  - aggregates: a command is answered (an unknown command type, answered `invalid`);
//  - projections: a query is answered;
//  - dispatcher, workers:local-ops, reactors: a task queued after the restart (high priority,
//    reply on a NATS subject) is enqueued, run, and its result published by the result reactor;
//  - workflow-engine: a step outcome is recorded on a workflow after the restart;
//  - public-events: a CloudEvent is published after the restart.
// Each workflow is `run-tests` on a real git repository (the test command sleeps, so steps are
// running when the broker dies) followed by `git-status`.

const ROLES = ['aggregates', 'dispatcher', 'workflow-engine', 'projections', 'public-events', 'reactors', 'workers:local-ops'] as const;
const WORKFLOWS = 20;
const REPOSITORIES = 4;
const STEP_MS = 1_200;
const OUTAGE_MS = 5_000;
const SERVING_WITHIN_MS = 10_000;

let broker: NatsBroker;
let workspace: string;
let nc: NatsConnection;
let store: JetStreamEventStore;
let commands: CommandClient;
const roles = new Map<string, RoleProcess>();
const publicEventTimes: number[] = [];

const repoName = (i: number) => `repo-${i}`;

async function makeRepository(name: string): Promise<void> {
  const repo = path.join(workspace, name);
  await mkdir(repo, { recursive: true });
  await writeFile(
    path.join(repo, 'slow-test.js'),
    `require('node:fs').appendFileSync('runs.log', 'start ' + process.pid + '\\n');
setTimeout(() => { require('node:fs').appendFileSync('runs.log', 'done ' + process.pid + '\\n'); console.log('# pass 1'); }, ${STEP_MS});
`,
  );
  await writeFile(path.join(repo, '.orchestrator.json'), JSON.stringify({ testCommand: [process.execPath, 'slow-test.js'] }));
  await writeFile(path.join(repo, '.gitignore'), 'runs.log\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
}

/** Test runs started so far, over every repository (the executors' own marker file). */
async function runsStarted(): Promise<number> {
  let started = 0;
  for (let i = 0; i < REPOSITORIES; i++) {
    const text = await readFile(path.join(workspace, repoName(i), 'runs.log'), 'utf8').catch(() => '');
    started += [...text.matchAll(/^start \d+$/gm)].length;
  }
  return started;
}

async function startWorkflow(n: number): Promise<string> {
  const root = {
    type: 'sequence',
    steps: [
      {
        type: 'task',
        id: 'test',
        taskType: 'run-tests',
        params: { repository: repoName(n % REPOSITORIES) },
        retry: { attempts: 4, backoffMs: 200, maxBackoffMs: 1_000 },
      },
      {
        type: 'task',
        id: 'status',
        taskType: 'git-status',
        params: { repository: repoName(n % REPOSITORIES) },
        retry: { attempts: 4, backoffMs: 200, maxBackoffMs: 1_000 },
      },
    ],
  };
  const compiled = registerDefinition({ form: 'stepTree', name: `broker restart ${n}`, root }, { taskTypes: ['run-tests', 'git-status'] });
  if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
  const workflowId = `wf-restart-${n}-${randomUUID().slice(0, 8)}`;
  const reply = await commands.send(
    { category: 'workflow', id: workflowId },
    { commandId: `start-${workflowId}`, type: 'StartWorkflow', actor: 'U-req', data: { definition: compiled.right, requestedBy: 'U-req' } },
  );
  expect(reply.status, JSON.stringify(reply)).toBe('accepted');
  return workflowId;
}

const history = async (workflowId: string): Promise<readonly RecordedEvent[]> => {
  try {
    return (await store.read(streamName('workflow', workflowId))).events;
  } catch {
    return []; // the broker is down or still starting: ask again
  }
};

const outputs = () => [...roles.entries()].map(([role, p]) => `--- ${role}\n${p.output().slice(-2_000)}`).join('\n');

/** When each role process first logged a line matching `msg` at or after `since` (ms), from its JSON log. */
function firstLogAt(output: string, msg: string, since: number): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes(msg)) continue;
    try {
      const { time } = JSON.parse(line) as { time?: number | string };
      const at = typeof time === 'string' ? Date.parse(time) : time;
      if (at !== undefined && at >= since) return at;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

/** Polls `probe` every 100 ms until it holds; resolves to the time it first held. */
async function timeUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<number> {
  await waitFor(what, async () => probe().catch(() => false), { timeoutMs, intervalMs: 100, context: outputs });
  return Date.now();
}

beforeAll(async () => {
  broker = await startNatsBroker();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-broker-restart-'));
  for (let i = 0; i < REPOSITORIES; i++) await makeRepository(repoName(i));
  const env = {
    NATS_URL: broker.url,
    WORKSPACE_ROOT: workspace,
    DATA_DIR: path.join(workspace, '.data'),
    LOCAL_WORKER_COUNT: '4',
    // A task whose worker could not report through the outage goes to another worker this long after its last heartbeat.
    WORKER_HEARTBEAT_TIMEOUT: '3000',
  };
  // Started one after another: on a loaded machine seven tsx start-ups at once can each take a minute.
  for (const role of ROLES) roles.set(role, await startRoleProcess([role], env, 90_000));
  nc = await connectNats(broker.url, { name: 'broker-restart-test' });
  store = await JetStreamEventStore.connect(nc);
  commands = new CommandClient(nc);
  const publicEvents = nc.subscribe('orch.events.>');
  void (async () => {
    for await (const _ of publicEvents) publicEventTimes.push(Date.now());
  })();
}, 600_000);

afterAll(async () => {
  // Set BROKER_RESTART_LOGS=<dir> to keep each role's whole output for a post-mortem.
  const keep = process.env.BROKER_RESTART_LOGS;
  if (keep) for (const [role, p] of roles) await writeFile(path.join(keep, `${role.replace(':', '-')}.log`), p.output());
  for (const role of roles.values()) {
    if (role.child.exitCode === null && role.child.signalCode === null) role.child.kill('SIGKILL');
  }
  await nc?.close().catch(() => undefined);
  await broker?.dispose();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe('kill -9 of the broker while 20 workflows run, restarted 5 s later', () => {
  it('every workflow completes, no role process exits, each role serves again within 10 s, no unhandled error', async () => {
    const workflows: string[] = [];
    for (let n = 0; n < WORKFLOWS; n++) workflows.push(await startWorkflow(n));
    // Some steps are running (their test commands started), most are still ahead.
    await waitFor('steps running', async () => (await runsStarted()) >= 4, { timeoutMs: 60_000, context: outputs });

    await broker.kill9();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await broker.restart();
    const back = Date.now();

    const probeTask = randomUUID();
    const probeReplies = nc.subscribe(`probe.reply.${probeTask}`, { max: 1 });
    const replied = (async () => {
      for await (const _ of probeReplies) return Date.now();
      return undefined;
    })();

    const served = {
      aggregates: await timeUntil('aggregates answering a command', async () => {
        const reply = await commands.forward(
          { category: 'task', id: `probe-${randomUUID()}` },
          { commandId: randomUUID(), type: 'NoSuchCommand', actor: 'probe' },
          1_000,
        );
        return reply.status === 'invalid' || reply.status === 'rejected';
      }),
      projections: await timeUntil('projections answering a query', async () => {
        const answer = JSON.parse(
          new TextDecoder().decode(
            (await nc.request('orch.query.task-progress', new TextEncoder().encode(JSON.stringify({ key: 'no-such-task' })), { timeout: 1_000 })).data,
          ),
        ) as { status: string };
        return answer.status === 'ok' || answer.status === 'error';
      }),
    };
    // Queued once the aggregates answer; high priority, so the next free worker takes it.
    const queued = await commands.sendUntilAnswered(
      { category: 'task', id: probeTask },
      {
        commandId: `queue-${probeTask}`,
        type: 'QueueTask',
        actor: 'probe',
        data: {
          taskType: 'git-status',
          pool: 'local-ops',
          priority: 'high',
          payload: { repository: repoName(0) },
          timeoutMs: 60_000,
          requestedBy: 'probe',
          replyTo: { kind: 'nats', subject: `probe.reply.${probeTask}` },
        },
      },
      { signal: AbortSignal.timeout(30_000) },
    );
    expect(queued.status, JSON.stringify(queued)).toBe('accepted');
    const probeReplied = await Promise.race([replied, new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000))]);
    expect(probeReplied, `the probe task's result was not published:\n${outputs()}`).toBeDefined();

    const stepRecordedAfter = await timeUntil('a step outcome recorded after the restart', async () => {
      for (const id of workflows) {
        if ((await history(id)).some((e) => e.type.startsWith('Step') && Date.parse(e.recordedAt) >= back)) return true;
      }
      return false;
    });
    const publicEventAfter = await timeUntil('a public event after the restart', async () => publicEventTimes.some((t) => t >= back));

    // Every workflow completes.
    const workflowSummaries: string[] = [];
    const summarize = async () => {
      workflowSummaries.splice(
        0,
        workflowSummaries.length,
        ...(await Promise.all(workflows.map(async (id) => `${id}: ${(await history(id)).map((e) => e.type).join(' ')}`))),
      );
    };
    const summarizing = setInterval(() => void summarize(), 5_000);
    const completed = await waitFor(
      '20 workflows completed',
      async () => {
        const done = (await Promise.all(workflows.map(async (id) => (await history(id)).some((e) => e.type === 'WorkflowCompleted')))).filter(Boolean).length;
        return done === WORKFLOWS ? done : false;
      },
      {
        timeoutMs: 180_000,
        intervalMs: 1_000,
        context: () => workflowSummaries.join('\n'),
      },
    );
    clearInterval(summarizing);
    expect(completed).toBe(WORKFLOWS);

    const serving: Record<string, number> = {
      aggregates: served.aggregates - back,
      projections: served.projections - back,
      dispatcher: probeReplied! - back,
      'workers:local-ops': probeReplied! - back,
      reactors: probeReplied! - back,
      'workflow-engine': stepRecordedAfter - back,
      'public-events': publicEventAfter - back,
    };
    const reconnected: Record<string, number | undefined> = {};
    for (const [role, p] of roles) {
      const at = firstLogAt(p.output(), CONNECTION_RESTORED, back - 1_000);
      reconnected[role] = at === undefined ? undefined : Math.max(0, at - back);
    }
    console.log('serving again after the broker came back (ms):', serving, 'connection restored (ms):', reconnected);

    for (const [role, p] of roles) {
      expect(p.child.exitCode, `${role} exited:\n${p.output().slice(-3_000)}`).toBeNull();
      expect(p.child.signalCode, `${role} was killed`).toBeNull();
      expect(p.output(), `${role} printed a fatal line`).not.toContain(UNHANDLED_FATAL);
      expect(p.output()).not.toMatch(/fatal (unhandledRejection|uncaughtException)/);
      expect(reconnected[role], `${role} never logged "${CONNECTION_RESTORED}"`).toBeDefined();
      expect(reconnected[role]!).toBeLessThan(SERVING_WITHIN_MS);
      expect(serving[role], `${role} serving again`).toBeLessThan(SERVING_WITHIN_MS);
    }
  }, 600_000);
});

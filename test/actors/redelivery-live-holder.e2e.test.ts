import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { UNHANDLED_FATAL } from '../../infra/process-guard.ts';
import { startNatsBroker, type NatsBroker } from '../support/nats-broker.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';
import { waitFor } from '../support/waiting.ts';

// A broker restart longer than the work queue's ack wait makes JetStream deliver an in-flight
// task again, although the worker running it is alive and only lost its connection for a few
// seconds. The worker that receives the redelivery asks the holder first and leaves the task to
// it: the test runs once (the executor's own marker file says so) and completes once.

const ACK_WAIT_MS = 2_000;
const RUN_MS = 9_000;

let broker: NatsBroker;
let workspace: string;
let nc: NatsConnection;
let store: JetStreamEventStore;
const roles: RoleProcess[] = [];

beforeAll(async () => {
  broker = await startNatsBroker();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-live-holder-'));
  const repo = path.join(workspace, 'slow');
  await mkdir(repo, { recursive: true });
  await writeFile(
    path.join(repo, 'slow-test.js'),
    `require('node:fs').appendFileSync('runs.log', 'start ' + process.pid + '\\n');
setTimeout(() => { require('node:fs').appendFileSync('runs.log', 'done ' + process.pid + '\\n'); console.log('# pass 1'); }, ${RUN_MS});
`,
  );
  await writeFile(path.join(repo, '.orchestrator.json'), JSON.stringify({ testCommand: [process.execPath, 'slow-test.js'] }));
  await writeFile(path.join(repo, '.gitignore'), 'runs.log\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
  const env = {
    NATS_URL: broker.url,
    WORKSPACE_ROOT: workspace,
    DATA_DIR: path.join(workspace, '.data'),
    WORKER_HEARTBEAT_TIMEOUT: String(ACK_WAIT_MS),
    LOCAL_WORKER_COUNT: '1',
  };
  roles.push(await startRoleProcess(['aggregates', 'dispatcher'], env));
  roles.push(await startRoleProcess(['workers:local-ops'], env));
  roles.push(await startRoleProcess(['workers:local-ops'], env));
  nc = await connectNats(broker.url);
  store = await JetStreamEventStore.connect(nc);
}, 60_000);

afterAll(async () => {
  for (const role of roles) if (role.child.exitCode === null && role.child.signalCode === null) role.child.kill('SIGKILL');
  await nc?.close();
  await broker.dispose();
  await rm(workspace, { recursive: true, force: true });
});

const runs = async () => (await readFile(path.join(workspace, 'slow', 'runs.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

describe('a redelivery while the worker holding the task is alive', () => {
  it('is left to the live worker: the run happens once and the task completes once', async () => {
    const taskId = 'live-holder-1';
    const queued = await new CommandClient(nc).send(
      { category: 'task', id: taskId },
      {
        commandId: `queue-${taskId}`,
        type: 'QueueTask',
        actor: 'test',
        data: { taskType: 'run-tests', pool: 'local-ops', payload: { repository: 'slow' }, timeoutMs: 60_000, maxAttempts: 3, requestedBy: 'test' },
      },
    );
    expect(queued.status).toBe('accepted');
    await waitFor('the run to start', async () => (await runs()).length > 0, { timeoutMs: 20_000 });
    // Down for longer than the ack wait: at restart the queue sees the delivery as expired.
    await broker.kill9();
    await new Promise((resolve) => setTimeout(resolve, ACK_WAIT_MS + 1_500));
    await broker.restart();

    const events = await waitFor(
      'the task to end',
      async () => {
        // The test's own connection may still be reconnecting: a failed read is just not yet.
        const read = await store.read(streamName('task', taskId)).catch(() => undefined);
        const events = read?.events ?? [];
        return events.some((e) => e.type === 'TaskCompleted' || e.type === 'TaskFailed') ? events : undefined;
      },
      { timeoutMs: 60_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 3 * ACK_WAIT_MS));
    const lines = await runs();
    expect(
      lines.filter((l) => l.startsWith('start')),
      lines.join('\n'),
    ).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('done'))).toHaveLength(1);
    expect(events.map((e) => e.type)).toContain('TaskCompleted');
    expect(events.map((e) => e.type)).not.toContain('TaskAttemptAbandoned');
    for (const role of roles) {
      expect(role.child.exitCode).toBeNull();
      expect(role.output()).not.toContain(UNHANDLED_FATAL);
    }
  }, 120_000);
});

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { taskAggregate } from '../../actors/aggregates/task.ts';
import { AggregateHost } from '../../actors/runtime/aggregate-host.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';

// `orch audit | replay | diff` as a user runs them, against a task stream written through the
// real aggregate host.

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

describe('ops command line: audit, replay, diff', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one host of whichever aggregate the test starts
  let host: AggregateHost<any, any, any>;
  const taskId = crypto.randomUUID();
  const stream = `task-${taskId}`;
  let tick = 0;
  const clock: Clock = { now: () => new Date(Date.UTC(2026, 10, 21, 10, 0, tick++)).toISOString() };

  const orch = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(root, 'bin/orch.mjs'), ...args], {
        cwd: root,
        env: { PATH: process.env.PATH, NATS_URL: server.url },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    host = new AggregateHost({ nc, store: await JetStreamEventStore.connect(nc), definition: taskAggregate, clock, logger: pino({ level: 'silent' }) });
    host.start();
    await nc.flush();
    const client = new CommandClient(nc);
    const send = async (type: string, data: Record<string, unknown>, actor = 'U42') => {
      const reply = await client.forward({ category: 'task', id: taskId }, { commandId: crypto.randomUUID(), type, data, actor, correlationId: 'corr-ops' });
      expect(reply.status).toBe('accepted');
    };
    await send('QueueTask', { taskType: 'git-status', pool: 'local-ops', payload: { repository: 'demo' }, timeoutMs: 60_000, requestedBy: 'U42' });
    await send('AssignTask', { workerId: 'w1', attempt: 1 }, 'worker:w1');
    await send('ReportProgress', { attempt: 1, stage: 'status', percent: 50 }, 'worker:w1');
    await send('CompleteTask', { attempt: 1, result: { branch: 'main', clean: true }, durationMs: 1200 }, 'worker:w1');
  });
  afterAll(async () => {
    await host.stop();
    await nc.close();
    await server.dispose();
  });

  it('audit prints every event with revision, time, type, actor and correlation id', async () => {
    const { code, stdout } = await orch('audit', stream);
    expect(code).toBe(0);
    expect(stdout).toContain(`${stream}: 4 events`);
    const lines = stdout.split('\n').filter((l) => /^\s+\d+\s+2026-/.test(l));
    expect(lines.map((l) => l.trim().split(/\s+/)[2])).toEqual(['TaskQueued', 'TaskAssigned', 'TaskProgressed', 'TaskCompleted']);
    expect(lines[0]).toContain('by U42');
    expect(lines[1]).toContain('by worker:w1');
    expect(lines.every((l) => l.includes('corr=corr-ops'))).toBe(true);
    expect(stdout).toContain('"branch":"main"');
  });

  it('audit --json gives the whole events', async () => {
    const events = JSON.parse((await orch('audit', stream, '--json')).stdout) as { revision: string; type: string; metadata: { occurredAt: string } }[];
    expect(events.map((e) => e.revision)).toEqual(['0', '1', '2', '3']);
    expect(events[0]!.metadata.occurredAt).toBe('2026-11-21T10:00:00.000Z');
  });

  it('replay --at shows the state at that revision', async () => {
    const atQueued = JSON.parse((await orch('replay', stream, '--at', '0', '--json')).stdout) as { revision: string; state: unknown };
    const now = JSON.parse((await orch('replay', stream, '--json')).stdout) as { revision: string; state: unknown };
    expect(atQueued.revision).toBe('0');
    expect(JSON.stringify(atQueued.state)).toMatch(/queued/);
    expect(now.revision).toBe('3');
    expect(JSON.stringify(now.state)).toMatch(/completed/);
    expect(JSON.stringify(now.state)).not.toMatch(/"queued"/);
  });

  it('diff shows what changed between two revisions', async () => {
    const text = await orch('diff', stream, '0', '3');
    expect(text.stdout).toContain('TaskAssigned, TaskProgressed, TaskCompleted');
    expect(text.stdout).toMatch(/~ .*status.*"queued" → "completed"/);
    const data = JSON.parse((await orch('diff', stream, '1', '2', '--json')).stdout) as { events: string[]; changes: { path: string }[] };
    expect(data.events).toEqual(['TaskProgressed']);
    expect(data.changes.length).toBeGreaterThan(0);
  });

  it('answers mistakes with a readable message and a non-zero exit', async () => {
    const missing = await orch('audit', `task-${crypto.randomUUID()}`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
    const beyond = await orch('replay', stream, '--at', '9');
    expect(beyond.stderr).toMatch(/revisions 0 to 3; there is no 9/);
    const badName = await orch('audit', 'no_dash');
    expect(badName.code).not.toBe(0);
    expect(badName.stderr).toMatch(/invalid stream name/);
    const help = await orch('--help');
    expect(help.stdout).toMatch(/audit/);
    expect(help.stdout).toMatch(/replay/);
    expect(help.stdout).toMatch(/diff/);
  });
});

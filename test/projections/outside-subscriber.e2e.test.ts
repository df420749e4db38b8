import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { JetStreamManager, NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { publicEventNames } from '../../adapters/jetstream/public-event-stream.ts';
import { conversationEventOf } from '../../domain/conversation/events.ts';
import type { NewEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { taskEventOf } from '../../domain/task/events.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { metadata } from '../support/events.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';

// An outside subscriber (its own process, plain nats.js, its own durable consumer) gets every
// domain event exactly once while the process publishing them is killed with SIGKILL in the
// middle of the stream and started again.

const root = path.resolve(import.meta.dirname, '../..');
const names = publicEventNames('orch');
const AT = '2026-11-21T10:00:00.000Z';

/** One task's whole life in one commit: queued, assigned, progress, completed. */
const taskCommit = (progressSteps: number): { stream: ReturnType<typeof streamName>; events: NewEvent[] } => {
  const taskId = crypto.randomUUID();
  const meta = metadata({ actor: 'U42', correlationId: `corr-${taskId}`, occurredAt: AT });
  const domainEvents = [
    taskEventOf('TaskQueued', {
      taskId,
      at: AT,
      taskType: 'git-status',
      pool: 'local-ops',
      priority: 'normal',
      payload: { repository: 'repo' },
      maxAttempts: 3,
      timeoutMs: 60_000,
      requestedBy: 'U42',
    }),
    taskEventOf('TaskAssigned', { taskId, at: AT, attempt: 1, workerId: 'w-1', timesOutAt: '2026-11-21T10:01:00.000Z' }),
    ...Array.from({ length: progressSteps }, (_, i) =>
      taskEventOf('TaskProgressed', { taskId, at: AT, attempt: 1, stage: 'scan', percent: ((i + 1) * 100) / (progressSteps + 1) }),
    ),
    taskEventOf('TaskCompleted', { taskId, at: AT, attempt: 1, workerId: 'w-1', result: { clean: true }, durationMs: 42 }),
  ];
  return { stream: streamName('task', taskId), events: domainEvents.map((e) => ({ ...e, metadata: meta })) };
};

const conversationCommit = (): { stream: ReturnType<typeof streamName>; events: NewEvent[] } => {
  const conversationId = crypto.randomUUID();
  const meta = metadata({ actor: 'U42', occurredAt: AT });
  const domainEvents = [
    conversationEventOf('ConversationStarted', { conversationId, at: AT, user: 'U42', channel: 'C1', source: 'console' }),
    conversationEventOf('MessageAdded', { conversationId, at: AT, messageId: 'm1', role: 'user', text: 'run the tests' }),
  ];
  return { stream: streamName('conversation', conversationId), events: domainEvents.map((e) => ({ ...e, metadata: meta })) };
};

describe('outside subscriber across a publisher crash', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let store: JetStreamEventStore;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    jsm = await nc.jetstreamManager();
    store = await JetStreamEventStore.connect(nc);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await nc.close();
    await server.dispose();
  });

  const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, NATS_URL: server.url, LOG_LEVEL: 'info' });

  const startPublisher = async (): Promise<RoleProcess> => {
    const started = await startRoleProcess(['public-events'], { NATS_URL: server.url });
    children.push(started.child);
    return started;
  };

  const startSubscriber = (): { child: ChildProcess; ids: () => string[]; output: () => string } => {
    const child = spawn(process.execPath, ['test/support/outside-subscriber.mjs', server.url, names.streamName, 'outside-app', 'orch.events.>'], {
      cwd: root,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const ids = () =>
      out
        .split('\n')
        .filter((line) => line.startsWith('{"id"'))
        .map((line) => (JSON.parse(line) as { id: string }).id);
    return { child, ids, output: () => `${out}${err}` };
  };

  const append = async (commits: { stream: ReturnType<typeof streamName>; events: NewEvent[] }[]) => {
    for (let i = 0; i < commits.length; i += 50) await Promise.all(commits.slice(i, i + 50).map((c) => store.append(c.stream, c.events, 'no_stream')));
  };

  const publicCount = async () => (await jsm.streams.info(names.streamName).catch(() => undefined))?.state.messages ?? 0;

  const exited = (child: ChildProcess) =>
    new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

  it('receives every event once per event id although the publisher is killed mid-stream and restarted', async () => {
    // 300 tasks of 20 events and 100 conversations of 2: enough that the kill lands mid-stream.
    await append([...Array.from({ length: 300 }, () => taskCommit(17)), ...Array.from({ length: 100 }, conversationCommit)]);
    const firstBatch = (await store.readAll()).length;
    expect(firstBatch).toBe(6_200);

    const subscriber = startSubscriber();
    const first = await startPublisher();
    const deadline = Date.now() + 60_000;
    while ((await publicCount()) < 1_000) {
      if (Date.now() > deadline) throw new Error(`publisher published too little: ${first.output()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    first.child.kill('SIGKILL');
    await exited(first.child);
    const atKill = await publicCount();
    expect(atKill, 'the kill must land mid-stream').toBeLessThan(firstBatch);

    // Recorded while no publisher runs: must still reach the subscriber.
    await append(Array.from({ length: 20 }, () => taskCommit(8)));
    const recorded = (await store.readAll()).map((e) => e.id);
    expect(recorded).toHaveLength(firstBatch + 20 * 11);

    const second = await startPublisher();
    const receiveDeadline = Date.now() + 90_000;
    while (new Set(subscriber.ids()).size < recorded.length) {
      if (Date.now() > receiveDeadline)
        throw new Error(
          `subscriber got ${new Set(subscriber.ids()).size} of ${recorded.length}: ${subscriber.output().slice(-2_000)}\n${second.output().slice(-2_000)}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
    // Time for a stray duplicate to show up before counting.
    await new Promise((r) => setTimeout(r, 1_000));

    const received = subscriber.ids();
    expect(received).toHaveLength(recorded.length);
    expect(new Set(received)).toEqual(new Set(recorded));
    expect(await publicCount()).toBe(recorded.length);
    // The restarted publisher sent again what was past its checkpoint (the server dropped those
    // as duplicates) and published only what the stream did not have.
    const caughtUp = second
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"public events caught up"'))
      .map((line) => JSON.parse(line) as { published: number; duplicates: number; skipped: number })[0];
    expect(caughtUp).toMatchObject({ published: recorded.length - atKill, skipped: 0 });

    second.child.kill('SIGTERM');
    subscriber.child.kill('SIGTERM');
    await Promise.all([exited(second.child), exited(subscriber.child)]);
    expect(second.child.exitCode).toBe(0);
  });
});

import type { ChildProcess } from 'node:child_process';
import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { KvReadModelStorage } from '../../adapters/nats/kv-read-model-storage.ts';
import { NO_STREAM } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { taskProgress } from '../../projections/models/index.ts';
import type { Doc } from '../../projections/runtime/projection.ts';
import { rebuildSubject, type RebuildAnswer } from '../../projections/runtime/projection-ops.ts';
import { foldInMemory } from '../support/fold.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { taskHistory } from '../support/task-histories.ts';
import { isAlive } from '../support/processes.ts';
import { startRoleProcess } from '../support/role-process.ts';

// `kill -9` of the projections process in the middle of a rebuild: after a restart the rebuild
// resumes from its last commit and ends with exactly the model a fold of the log gives.

const TASKS = 6_000;

describe('projections role killed during a rebuild', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let store: JetStreamEventStore;
  let storage: KvReadModelStorage;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    store = await JetStreamEventStore.connect(nc);
    storage = await KvReadModelStorage.connect(nc);
    let next = 0;
    const lane = async () => {
      while (next < TASKS) {
        const i = next++;
        const stream = streamName('task', `t${i}`);
        const history = taskHistory(`t${i}`, i);
        for (let r = 0; r < history.length; r++) await store.append(stream, history[r]!, r === 0 ? NO_STREAM : BigInt(r - 1));
      }
    };
    await Promise.all(Array.from({ length: 64 }, lane));
  }, 120_000);
  afterAll(async () => {
    for (const child of children) if (child.pid && isAlive(child.pid)) child.kill('SIGKILL');
    await nc.close();
    await server.dispose();
  });

  let lastOutput = () => '';
  const startRole = async (): Promise<ChildProcess> => {
    const { child, output } = await startRoleProcess(['projections'], { NATS_URL: server.url });
    children.push(child);
    lastOutput = output;
    return child;
  };
  const until = async (check: () => Promise<boolean>, timeoutMs = 150_000, pollMs = 50) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) {
        const state = JSON.stringify({
          record: (await storage.loadRecord('task-progress'))?.record,
          g1: await storage.loadProgress('task-progress', { version: 1, generation: 1 }),
          g2: await storage.loadProgress('task-progress', { version: 1, generation: 2 }),
        });
        throw new Error(`condition not met in time; state ${state}; projections process said:\n${lastOutput().slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  };

  it('resumes the rebuild after a restart and ends with the same model', async () => {
    const first = await startRole();
    const total = TASKS * 5;
    await until(async () => (await storage.loadProgress('task-progress', { version: 1, generation: 1 }))?.eventsApplied === total);

    const reply = await nc.request(rebuildSubject('orch'), new TextEncoder().encode(JSON.stringify({ name: 'task-progress' })), { timeout: 10_000 });
    const answer = JSON.parse(new TextDecoder().decode(reply.data)) as RebuildAnswer;
    expect(answer).toEqual({ status: 'started', name: 'task-progress', version: 1, generation: 2 });

    // Kill as soon as the rebuild has committed its first batch.
    const meta = await nc.jetstream().views.kv('orch_projections');
    await until(async () => Boolean(await meta.get('commit.task-progress.v1.g2')), 150_000, 5);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const header = JSON.parse((await meta.get('commit.task-progress.v1.g2'))!.string()) as { eventsApplied: number };
    const record = (await storage.loadRecord('task-progress'))!.record;
    expect(record.rebuilding).toMatchObject({ version: 1, generation: 2 });
    expect(header.eventsApplied).toBeLessThan(total);

    const second = await startRole();
    await until(async () => {
      const now = (await storage.loadRecord('task-progress'))!.record;
      return now.active.generation === 2 && now.rebuilding === undefined;
    });
    const bucket = (await storage.existingBucket('task-progress', { version: 1, generation: 2 }))!;
    const keys = await bucket.keys();
    const rebuilt = new Map(await Promise.all(keys.map(async (k) => [k, (await bucket.get(k))!] as [string, Doc])));
    const expected = await foldInMemory(taskProgress, await store.readAll({ category: 'task' }));
    expect(rebuilt.size).toBe(TASKS);
    expect(rebuilt).toEqual(expected);
    expect(await storage.existingBucket('task-progress', { version: 1, generation: 1 })).toBeUndefined();
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));
  }, 420_000);
});

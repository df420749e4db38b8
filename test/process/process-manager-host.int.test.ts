import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskAggregate } from '../../actors/aggregates/task.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { AbortError, ProcessManagerHost } from '../../actors/runtime/process-manager-host.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { KvCheckpointStore } from '../../adapters/nats/kv-checkpoint-store.ts';
import { taskEventIn } from '../../domain/events/typed-events.ts';
import { comparePositions, type RecordedEvent } from '../../domain/ports/event-store.ts';
import type { ManagerInput, TimedProcessManager } from '../../domain/process/process-manager.ts';
import { streamName } from '../../domain/streams.ts';
import type { TaskEvent } from '../../domain/task/events.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startAggregateHosts } from '../support/aggregate-hosts.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { waitFor } from '../support/waiting.ts';

// The one process-manager host on a real nats-server and the real task aggregate: a small
// manager (per task: note it, then note the answer, cancel it, wait on a timer, finish) shows
// what every hosted manager relies on: effects and their answers in order per key, commands
// under their ids sent as the manager, timers fired back as inputs, finished keys forgotten,
// and the checkpoint held before work not finished.

const logger = pino({ level: 'silent' });

type Effect = { readonly note: string; readonly taskId: string };
type Input = ManagerInput<{ readonly taskId: string; readonly event: TaskEvent }, unknown, { readonly taskId: string }, Effect>;
interface State {
  readonly taskId?: string;
  readonly waitUntil?: string;
  readonly done: boolean;
}

/** Per task: on TaskQueued note 'queued' (its answer noted too) and cancel the task; on TaskCancelled wait 300 ms; when due, note 'due' and finish. */
const manager: TimedProcessManager<Input, State, { readonly taskId: string }, Effect> = {
  name: 'host-test-manager',
  initialState: () => ({ done: false }),
  decide(input, state) {
    if (input.kind === 'event' && input.event.event.type === 'TaskQueued') {
      const { taskId } = input.event;
      return [
        { kind: 'effect', key: `queued-${taskId}`, effect: { note: 'queued', taskId }, wantsReply: true },
        {
          kind: 'command',
          category: 'task',
          id: taskId,
          commandId: `host-test-cancel-${taskId}`,
          type: 'CancelTask',
          data: { reason: 'the host test cancels it' },
        },
      ];
    }
    if (input.kind === 'reply' && input.intent.kind === 'effect')
      return [{ kind: 'effect', key: `answer-${input.intent.key}`, effect: { note: `answer:${String(input.reply)}`, taskId: input.intent.effect.taskId } }];
    if (input.kind === 'due' && state.taskId) return [{ kind: 'effect', key: `due-${state.taskId}`, effect: { note: 'due', taskId: state.taskId } }];
    return [];
  },
  evolve(state, input) {
    if (input.kind === 'event' && input.event.event.type === 'TaskCancelled')
      return { ...state, taskId: input.event.taskId, waitUntil: new Date(Date.parse(input.at) + 300).toISOString() };
    if (input.kind === 'due') return { ...state, done: true };
    return state;
  },
  timers: (state) => (state.waitUntil && state.taskId ? [{ name: 'wait', dueAt: state.waitUntil, payload: { taskId: state.taskId } }] : []),
  finished: (state) => state.done,
};

let server: TestNatsServer;
let nc: NatsConnection;
let store: JetStreamEventStore;
let commands: CommandClient;
let checkpoints: KvCheckpointStore;
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startTestNatsServer();
  nc = await connectNats(server.url);
  store = await JetStreamEventStore.connect(nc);
  stops.push(startAggregateHosts(nc, store, [taskAggregate], logger));
  commands = new CommandClient(nc);
  checkpoints = await KvCheckpointStore.connect(nc);
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await nc?.close();
  await server?.dispose();
});

const read = (recorded: RecordedEvent) => {
  const typed = taskEventIn(recorded);
  return typed && { key: typed.id, event: { taskId: typed.id, event: typed.event } };
};

function hostWith(checkpoint: string, perform: (effect: Effect) => Promise<unknown>) {
  return new ProcessManagerHost({
    manager,
    follows: [{ category: 'task', checkpoint, read }],
    store,
    checkpoints,
    commands,
    logger,
    perform: (effect) => perform(effect),
  });
}

const newTaskId = () => `host-${randomUUID().slice(0, 8)}`;

async function queueTask(taskId = newTaskId()): Promise<string> {
  const reply = await commands.send(
    { category: 'task', id: taskId },
    {
      commandId: `queue-${taskId}`,
      type: 'QueueTask',
      actor: 'U1',
      data: { taskType: 'count', pool: 'nobody', payload: {}, timeoutMs: 60_000, requestedBy: 'U1' },
    },
  );
  expect(reply.status).toBe('accepted');
  return taskId;
}

const history = async (taskId: string) => [...(await store.read(streamName('task', taskId))).events];

describe('the process-manager host', () => {
  it("carries out a key's intents in order, feeds an effect's answer back, sends commands as the manager, fires the state's timer and forgets the finished key", async () => {
    const notes: string[] = [];
    const host = hostWith(`host-test-${randomUUID().slice(0, 6)}`, async ({ note, taskId }) => (notes.push(`${taskId}:${note}`), 'ok'));
    await host.start();
    try {
      const [a, b] = [await queueTask(), await queueTask()];
      for (const taskId of [a, b]) {
        await waitFor(`${taskId} done`, () => notes.includes(`${taskId}:due`), { timeoutMs: 10_000 });
        expect(notes.filter((n) => n.startsWith(`${taskId}:`))).toEqual([`${taskId}:queued`, `${taskId}:answer:ok`, `${taskId}:due`]);
        const cancelled = (await history(taskId)).filter((e) => e.type === 'TaskCancelled');
        expect(cancelled).toHaveLength(1);
        expect(cancelled[0]!.data).toMatchObject({ requestedBy: 'host-test-manager', reason: 'the host test cancels it' });
        await waitFor(`${taskId} forgotten`, () => host.stateOf(taskId) === undefined, { timeoutMs: 2_000 });
      }
      expect(host.size()).toEqual({ keys: 0, armed: 0 });
    } finally {
      await host.stop();
    }
  });

  it('keeps the checkpoint before an event whose work has not finished, and lets it pass once it has', async () => {
    const checkpoint = `host-test-${randomUUID().slice(0, 6)}`;
    let unblock: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    const host = hostWith(checkpoint, async ({ note }) => (note === 'queued' ? blocked.then(() => 'late') : 'ok'));
    await host.start();
    try {
      const taskId = await queueTask();
      const queued = (await history(taskId))[0]!;
      // Later events of other tasks move the reactor on; the blocked one keeps the checkpoint behind.
      await queueTask();
      await new Promise((r) => setTimeout(r, 1_300)); // more than the reactor's checkpoint interval
      const held = await checkpoints.load(checkpoint);
      expect(held === undefined || comparePositions(held, queued.position) < 0).toBe(true);
      unblock();
      await waitFor(
        'the checkpoint past the unblocked event',
        async () => {
          const at = await checkpoints.load(checkpoint);
          return at !== undefined && comparePositions(at, queued.position) >= 0;
        },
        { timeoutMs: 10_000 },
      );
    } finally {
      unblock();
      await host.stop();
    }
  });

  it('an effect that gives up keeps its event before the checkpoint, and the host goes on with other keys', async () => {
    const checkpoint = `host-test-${randomUUID().slice(0, 6)}`;
    const notes: string[] = [];
    const refused = newTaskId();
    const host = hostWith(checkpoint, async ({ note, taskId }) => {
      if (taskId === refused) throw new AbortError('this one cannot be done');
      notes.push(`${taskId}:${note}`);
      return 'ok';
    });
    await host.start();
    try {
      const first = await queueTask(refused);
      const queued = (await history(first))[0]!;
      const second = await queueTask();
      await waitFor('the other key handled', () => notes.includes(`${second}:due`), { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 1_300));
      const held = await checkpoints.load(checkpoint);
      expect(held === undefined || comparePositions(held, queued.position) < 0).toBe(true);
      // The command after the given-up effect was not sent: the key's intents stop at the first that cannot be carried out.
      expect((await history(first)).some((e) => e.type === 'TaskCancelled')).toBe(false);
    } finally {
      await host.stop();
    }
  });
});

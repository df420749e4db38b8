import { StorageType, type NatsConnection } from 'nats';
import { CommandClient } from '../actors/runtime/command-client.ts';
import type { CommandReply } from '../actors/runtime/command-envelope.ts';
import type { JetStreamEventStore } from '../adapters/jetstream/jetstream-event-store.ts';
import { startScriptProcess } from '../test/support/role-process.ts';
import { BENCH_TASK, benchParams, eventWaiter, startBenchWorkers, withBenchCluster } from './bench-cluster.ts';
import { rawWork } from './raw-work.ts';
import { elapsedMs, machineLine, medianRate, pipelined, quantile, rate, timed, type Figure } from './measure.ts';

// Command-path benchmark: a command as a NATS request through an aggregate host (validate,
// decide, append to the JetStream event store, reply), beside raw core request/reply and raw
// JetStream publish measured against the same nats-server in the same run; then a task's
// whole round trip (QueueTask → dispatcher → work queue → worker → no-op executor →
// TaskCompleted) beside a raw JetStream work-queue round trip.

const SEQUENTIAL = Number(process.env.BENCH_COMMANDS_SEQUENTIAL ?? 2_000);
const PIPELINED = Number(process.env.BENCH_COMMANDS_PIPELINED ?? 20_000);
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = 64;
const CONVERSATIONS = 1_000;

const encoder = new TextEncoder();

/** A typical chat message, the same text on every path so each moves equal bytes. */
const TEXT = 'analyze repo platform-api and tell me which folders have the most TODOs';

const addMessage = (round: number, i: number) => ({
  commandId: `r${round}-m${i}`,
  type: 'AddMessage' as const,
  actor: 'U0BENCH',
  data: { messageId: `r${round}-m${i}`, role: 'user' as const, text: TEXT },
});

/** What the raw side sends and answers: the same envelope and a reply of the same shape. */
const rawRequest = (round: number, i: number) => encoder.encode(JSON.stringify(addMessage(round, i)));
/** What the append publishes for one AddMessage event, approximately: the event with its metadata. */
const rawEvent = (round: number, i: number) =>
  encoder.encode(
    JSON.stringify([
      {
        id: crypto.randomUUID(),
        type: 'MessageAdded',
        data: { conversationId: `c${i % CONVERSATIONS}`, at: new Date().toISOString(), messageId: `r${round}-m${i}`, role: 'user', text: TEXT, sequence: i },
        metadata: {
          correlationId: `r${round}-m${i}`,
          causationId: `r${round}-m${i}`,
          commandId: `r${round}-m${i}`,
          actor: 'U0BENCH',
          occurredAt: new Date().toISOString(),
          schemaVersion: 1,
        },
      },
    ]),
  );

const accepted = (reply: CommandReply): void => {
  if (reply.status !== 'accepted') throw new Error(`benchmark command not accepted: ${JSON.stringify(reply)}`);
};

interface Side {
  sequential(round: number): Promise<Figure>;
  pipelined(round: number): Promise<Figure>;
}

function rawRequestSide(client: NatsConnection): Side {
  return {
    sequential: (round) =>
      timed('raw request/reply', SEQUENTIAL, async () => {
        for (let i = 0; i < SEQUENTIAL; i++) await client.request(`rawcmd.c${i % CONVERSATIONS}`, rawRequest(round, i));
      }),
    pipelined: (round) =>
      timed('raw request/reply', PIPELINED, () => pipelined(PIPELINED, IN_FLIGHT, (i) => client.request(`rawcmd.c${i % CONVERSATIONS}`, rawRequest(round, i)))),
  };
}

function rawPublishSide(client: NatsConnection): Side {
  const js = client.jetstream();
  return {
    sequential: (round) =>
      timed('raw JetStream publish', SEQUENTIAL, async () => {
        for (let i = 0; i < SEQUENTIAL; i++) await js.publish(`rawes.r${round}.s.c${i % CONVERSATIONS}`, rawEvent(round, i));
      }),
    pipelined: (round) =>
      timed('raw JetStream publish', PIPELINED, () =>
        pipelined(PIPELINED, IN_FLIGHT, (i) => js.publish(`rawes.r${round}.p.c${i % CONVERSATIONS}`, rawEvent(round, i))),
      ),
  };
}

function commandSide(commands: CommandClient): Side {
  // In-flight commands go round-robin over the conversations, so no two share an aggregate.
  const send = (round: number, phase: string, i: number) =>
    commands.send({ category: 'conversation', id: `c${i % CONVERSATIONS}` }, { ...addMessage(round, i), commandId: `r${round}-${phase}${i}` }).then(accepted);
  return {
    sequential: (round) =>
      timed('command path', SEQUENTIAL, async () => {
        for (let i = 0; i < SEQUENTIAL; i++) await send(round, 's', i);
      }),
    pipelined: (round) => timed('command path', PIPELINED, () => pipelined(PIPELINED, IN_FLIGHT, (i) => send(round, 'p', i))),
  };
}

/** Task round trips one at a time: QueueTask sent → TaskCompleted seen on the event store. */
async function taskRoundTrips(store: JetStreamEventStore, commands: CommandClient): Promise<number[]> {
  const completions = eventWaiter(store, { category: 'task' }, 'TaskCompleted');
  const latencies: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const taskId = `bench-${crypto.randomUUID()}`;
    const done = completions.wait(taskId);
    const start = process.hrtime.bigint();
    accepted(
      await commands.send(
        { category: 'task', id: taskId },
        {
          commandId: `queue-${taskId}`,
          type: 'QueueTask',
          actor: 'U0BENCH',
          data: { ...BENCH_TASK, payload: benchParams(i), timeoutMs: 60_000, requestedBy: 'U0BENCH' },
        },
      ),
    );
    await done;
    latencies.push(elapsedMs(start));
  }
  await completions.close();
  return latencies;
}

/** The floor under a task round trip: JetStream publish → pull → ack → core reply, one at a time. */
async function rawWorkRoundTrips(nc: NatsConnection): Promise<number[]> {
  const work = await rawWork(nc, { stream: 'BENCH_RAW_WORK', subject: 'rawwork', maxMessages: 1 });
  const latencies: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const start = process.hrtime.bigint();
    await work.step(crypto.randomUUID(), { n: i });
    latencies.push(elapsedMs(start));
  }
  await work.close();
  return latencies;
}

export async function runCommandsBenchmark(): Promise<void> {
  // The aggregate hosts and the raw responder each run in their own process, as in production;
  // the dispatcher and workers share one connection, callers (product and raw) another.
  await withBenchCluster('commands', async (cluster) => {
    const { server, hostNc, clientNc, store, stops } = cluster;
    const responder = await startScriptProcess('bench/raw-responder.ts', [server.url], { ready: /ready/ });
    stops.push(() => responder.stop());
    const jsm = await hostNc.jetstreamManager();
    await jsm.streams.add({ name: 'BENCH_RAW_ES', subjects: ['rawes.>'], storage: StorageType.File, allow_direct: true });
    await hostNc.flush();

    const commands = new CommandClient(clientNc, 'bench', 30_000);
    // Warm every path and open the conversations, so the measured commands meet cached aggregates.
    await pipelined(CONVERSATIONS, IN_FLIGHT, (i) =>
      commands
        .send(
          { category: 'conversation', id: `c${i}` },
          { commandId: `start-c${i}`, type: 'StartConversation', actor: 'U0BENCH', data: { user: 'U0BENCH', channel: 'C0BENCH', source: 'console' } },
        )
        .then(accepted),
    );
    await pipelined(500, IN_FLIGHT, (i) => clientNc.request(`rawcmd.c${i}`, rawRequest(99, i)));
    await pipelined(500, IN_FLIGHT, (i) => clientNc.jetstream().publish(`rawes.warm.c${i}`, rawEvent(99, i)));

    const sides = { request: rawRequestSide(clientNc), publish: rawPublishSide(clientNc), command: commandSide(commands) };
    const measures = ['sequential', 'pipelined'] as const;
    type Results = Record<keyof typeof sides, Record<(typeof measures)[number], Figure[]>>;
    const results: Results = {
      request: { sequential: [], pipelined: [] },
      publish: { sequential: [], pipelined: [] },
      command: { sequential: [], pipelined: [] },
    };
    // The three sides alternate within each round, so all meet the same server state.
    for (let round = 0; round < ROUNDS; round++) {
      for (const measure of measures)
        for (const side of Object.keys(sides) as (keyof typeof sides)[]) results[side][measure].push(await sides[side][measure](round));
    }

    // Task round trips: a dispatcher and two workers (the local-ops default) with a no-op executor.
    await startBenchWorkers(cluster, { workers: 2, concurrency: 1 });
    const rawTrips = await rawWorkRoundTrips(clientNc);
    const taskTrips = await taskRoundTrips(store, commands);

    console.log('\nbench/commands — the command path and a task round trip vs raw NATS, same nats-server, same run');
    console.log(machineLine());
    console.log(
      `method: per round, ${SEQUENTIAL} commands one at a time, then ${PIPELINED} with ${IN_FLIGHT} in flight: AddMessage to ${CONVERSATIONS} ` +
        `open conversations (state cached in the host), each a NATS request to bench.cmd.conversation.<id> that the host validates, decides, ` +
        `appends (expected revision, de-dup id, file storage) and answers. Raw request/reply: the same envelope to a responder that answers ` +
        `at once. Raw JetStream publish: the event's JSON, plain js.publish. The three alternate; ${ROUNDS} rounds; medians shown.`,
    );
    console.log(
      `\n${'measure'.padEnd(22)}${'raw req/s'.padStart(12)}${'raw JS pub/s'.padStart(14)}${'commands/s'.padStart(12)}${'vs req'.padStart(9)}${'vs pub'.padStart(9)}  target`,
    );
    const targets = { sequential: undefined, pipelined: 0.5 } as const;
    for (const measure of measures) {
      const request = medianRate(results.request[measure]);
      const publish = medianRate(results.publish[measure]);
      const command = medianRate(results.command[measure]);
      const target = targets[measure];
      const vsPublish = command / publish;
      const verdict = target === undefined ? '—' : `≥ ${target}× of raw publish ${vsPublish >= target ? 'met' : 'MISSED'}`;
      const perRound = results.command[measure].map((f, i) => (rate(f) / rate(results.publish[measure][i]!)).toFixed(2)).join(' ');
      const label = measure === 'sequential' ? 'one at a time' : `${IN_FLIGHT} in flight`;
      console.log(
        `${label.padEnd(22)}${request.toFixed(0).padStart(12)}${publish.toFixed(0).padStart(14)}${command.toFixed(0).padStart(12)}${`${(command / request).toFixed(2)}×`.padStart(9)}${`${vsPublish.toFixed(2)}×`.padStart(9)}  ${verdict} (vs pub per round: ${perRound})`,
      );
    }
    // A command is one request/reply plus one JetStream publish, so even a host doing nothing
    // else cannot beat the two raw figures combined; printed so the ratio can be read against it.
    const ceiling = 1 / (1 / medianRate(results.request.pipelined) + 1 / medianRate(results.publish.pipelined));
    console.log(
      `${'ceiling'.padEnd(22)}request/reply and publish combined, ${IN_FLIGHT} in flight: ${ceiling.toFixed(0)}/s = ${(ceiling / medianRate(results.publish.pipelined)).toFixed(2)}× raw publish; the command path reaches ${(medianRate(results.command.pipelined) / ceiling).toFixed(2)}× of it`,
    );
    const p = (values: number[], q: number) => quantile(values, q).toFixed(2);
    console.log(
      `\ntask round trip, one at a time, ${ROUND_TRIPS} tasks (QueueTask → dispatcher → work queue → worker: AssignTask, no-op executor, CompleteTask → TaskCompleted seen by a subscriber)`,
    );
    console.log(`${''.padEnd(22)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`);
    console.log(
      `${'raw work round trip'.padEnd(22)}${p(rawTrips, 0.5).padStart(10)}${p(rawTrips, 0.99).padStart(10)}   (JetStream publish → pull → ack → core publish back)`,
    );
    console.log(
      `${'task round trip'.padEnd(22)}${p(taskTrips, 0.5).padStart(10)}${p(taskTrips, 0.99).padStart(10)}   (${(quantile(taskTrips, 0.5) / quantile(rawTrips, 0.5)).toFixed(1)}× the raw p50)`,
    );
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await runCommandsBenchmark();

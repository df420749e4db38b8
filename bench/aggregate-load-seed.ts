import { NO_STREAM, WrongExpectedRevision, type EventStore, type NewEvent } from '../domain/ports/event-store.ts';
import { streamName, type StreamName } from '../domain/streams.ts';
import { elapsedMs, pipelined } from './measure.ts';

// Fills an event store for the aggregate-load benchmark: background task streams taking
// appends of 1 to 8 events, and two task aggregates whose commits are spread through the
// whole log, as a long-lived aggregate's are: one of 10 events, one of 10,000.

export const SHORT_EVENTS = 10;
export const LONG_EVENTS = 10_000;
const BACKGROUND_STREAMS = 20_000;
const IN_FLIGHT = 256;

export interface SeedOptions {
  readonly totalEvents: number;
  /** Called once the long stream is at `revision`, before it grows further (the benchmark snapshots it there). */
  readonly pauseLongAt: { readonly revision: bigint; readonly run: (stream: StreamName) => Promise<void> };
  readonly log: (line: string) => void;
}

export interface SeededStore {
  readonly shortStream: StreamName;
  readonly longStream: StreamName;
  readonly events: number;
  readonly appends: number;
  readonly seconds: number;
}

const AT = '2026-11-21T10:00:00.000Z';
const metadata = (commandId: string) => ({ correlationId: commandId, causationId: commandId, commandId, actor: 'bench', occurredAt: AT, schemaVersion: 1 });

/** The i-th event of a task: queued, assigned, then progress reports, each from its own command. */
function taskEvent(taskId: string, i: number, commandId = `${taskId}-${i}`): NewEvent {
  if (i === 0) {
    const data = {
      taskId,
      at: AT,
      taskType: 'run-tests',
      pool: 'local-ops',
      priority: 'normal',
      payload: { repo: 'git@example.com:acme/app.git', ref: 'main' },
      maxAttempts: 3,
      timeoutMs: 600_000,
      requestedBy: 'U123',
    };
    return { type: 'TaskQueued', data, metadata: metadata(commandId) };
  }
  if (i === 1)
    return {
      type: 'TaskAssigned',
      data: { taskId, at: AT, attempt: 1, workerId: 'local-ops-bench-1', timesOutAt: '2026-11-21T10:10:00.000Z' },
      metadata: metadata(commandId),
    };
  const data = { taskId, at: AT, attempt: 1, stage: 'test', percent: Math.min(99, Math.floor(i / 100)), details: `suite ${i}: 42 passed, 0 failed` };
  return { type: 'TaskProgressed', data, metadata: metadata(commandId) };
}

/** Appends with retries: pipelined appends to one background stream may, rarely, overtake each other. */
async function appendInOrder(store: EventStore, stream: StreamName, events: NewEvent[], revisionBefore: bigint): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await store.append(stream, events, revisionBefore < 0n ? NO_STREAM : revisionBefore);
      return;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision) || attempt > 100) throw error;
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

export async function seedStore(store: EventStore, options: SeedOptions): Promise<SeededStore> {
  const run = Date.now().toString(36);
  const [shortId, longId] = [`short-${run}`, `long-${run}`];
  const [shortStream, longStream] = [streamName('task', shortId), streamName('task', longId)];
  const background = Math.max(0, options.totalEvents - SHORT_EVENTS - LONG_EVENTS);
  const sizes: number[] = [];
  for (let sum = 0; sum < background;) {
    const size = Math.min(1 + (sizes.length % 8), background - sum);
    sizes.push(size);
    sum += size;
  }
  const nextRevision = new Map<number, bigint>();
  const start = process.hrtime.bigint();
  let done = 0;
  let eventsDone = 0;
  let reported = 0;

  // The two measured streams append one event per command, in order, spread over the run.
  let shortChain = Promise.resolve();
  let longChain = Promise.resolve();
  let shortNext = 0;
  let longNext = 0;
  const appendShort = () => {
    const i = shortNext++;
    shortChain = shortChain.then(() => appendInOrder(store, shortStream, [taskEvent(shortId, i)], BigInt(i - 1)));
  };
  const appendLong = () => {
    const i = longNext++;
    longChain = longChain.then(async () => {
      await appendInOrder(store, longStream, [taskEvent(longId, i)], BigInt(i - 1));
      if (BigInt(i) === options.pauseLongAt.revision) await options.pauseLongAt.run(longStream);
    });
  };
  const longEvery = Math.max(1, Math.floor(sizes.length / LONG_EVENTS));
  const shortEvery = Math.max(1, Math.floor(sizes.length / SHORT_EVENTS));

  await pipelined(sizes.length, IN_FLIGHT, async (i) => {
    const s = i % BACKGROUND_STREAMS;
    const before = nextRevision.get(s) ?? -1n;
    nextRevision.set(s, before + BigInt(sizes[i]!));
    const commandId = `bg-${run}-${i}`;
    const id = `bg-${run}-${s}`;
    const events = Array.from({ length: sizes[i]! }, (_, j) => taskEvent(id, Number(before) + 1 + j, commandId));
    await appendInOrder(store, streamName('task', id), events, before);
    if (i % longEvery === 0 && longNext < LONG_EVENTS) appendLong();
    if (i % shortEvery === 0 && shortNext < SHORT_EVENTS) appendShort();
    done++;
    eventsDone += sizes[i]!;
    if (done * 10 >= sizes.length * (reported + 1)) {
      reported++;
      options.log(`  seeding: ${reported * 10}% — ${eventsDone.toLocaleString('en')} background events in ${(elapsedMs(start) / 1000).toFixed(1)} s`);
    }
  });
  while (longNext < LONG_EVENTS) appendLong();
  while (shortNext < SHORT_EVENTS) appendShort();
  await Promise.all([shortChain, longChain]);
  return {
    shortStream,
    longStream,
    events: background + SHORT_EVENTS + LONG_EVENTS,
    appends: sizes.length + SHORT_EVENTS + LONG_EVENTS,
    seconds: elapsedMs(start) / 1000,
  };
}

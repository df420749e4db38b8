import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventIdFor } from '../../domain/event-id.ts';
import {
  ANY,
  InvalidAppend,
  NO_STREAM,
  STREAM_EXISTS,
  WrongExpectedRevision,
  comparePositions,
  type EventStore,
  type GlobalPosition,
  type RecordedEvent,
  type Subscription,
  type SubscriptionMessage,
} from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { commandEvents, metadata, oneEvent, uniqueCategory, uniqueStream } from '../support/events.ts';

// One contract for every event-store adapter. Each adapter's test file calls this with a
// factory; add a case here, never a copy per adapter.

export interface EventStoreBackend {
  /** A store instance with its own connection to the shared backend. */
  connect(): Promise<EventStore>;
  dispose(): Promise<void>;
}

export function eventStoreContract(adapterName: string, start: () => Promise<EventStoreBackend>): void {
  describe(`event-store contract: ${adapterName}`, () => {
    let backend: EventStoreBackend;
    let store: EventStore;
    beforeAll(async () => {
      backend = await start();
      store = await backend.connect();
    });
    afterAll(async () => {
      await store?.close();
      await backend?.dispose();
    });

    const conflict = async (promise: Promise<unknown>): Promise<WrongExpectedRevision> => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WrongExpectedRevision);
      return error as WrongExpectedRevision;
    };

    describe('append with expected revision', () => {
      it('creates a new stream with NO_STREAM at revision 0', async () => {
        const s = uniqueStream();
        const result = await store.append(s, oneEvent(), NO_STREAM);
        expect(result.revision).toBe(0n);
        const read = await store.read(s);
        expect(read.exists).toBe(true);
        expect(read.events.map((e) => e.revision)).toEqual([0n]);
        expect(read.events[0]!.position).toBe(result.position);
      });

      it('NO_STREAM on an existing stream conflicts, carrying the actual revision', async () => {
        const s = uniqueStream();
        await store.append(s, oneEvent(), NO_STREAM);
        const error = await conflict(store.append(s, oneEvent(), NO_STREAM));
        expect(error.expected).toBe(NO_STREAM);
        expect(error.actual).toBe(0n);
        expect(error.stream).toBe(s);
      });

      it('the right bigint revision appends; a wrong one conflicts with the actual revision', async () => {
        const s = uniqueStream();
        await store.append(s, commandEvents(['A', 'B']), NO_STREAM);
        const ok = await store.append(s, oneEvent('C'), 1n);
        expect(ok.revision).toBe(2n);
        const error = await conflict(store.append(s, oneEvent('D'), 1n));
        expect(error.expected).toBe(1n);
        expect(error.actual).toBe(2n);
        const tooHigh = await conflict(store.append(s, oneEvent('D'), 7n));
        expect(tooHigh.actual).toBe(2n);
      });

      it('a bigint revision on a missing stream conflicts with NO_STREAM as actual', async () => {
        const error = await conflict(store.append(uniqueStream(), oneEvent(), 0n));
        expect(error.actual).toBe(NO_STREAM);
      });

      it('STREAM_EXISTS on a missing stream conflicts; on an existing one it appends', async () => {
        const s = uniqueStream();
        const error = await conflict(store.append(s, oneEvent(), STREAM_EXISTS));
        expect(error.actual).toBe(NO_STREAM);
        await store.append(s, oneEvent(), NO_STREAM);
        expect((await store.append(s, oneEvent(), STREAM_EXISTS)).revision).toBe(1n);
      });

      it('ANY appends to a missing and to an existing stream, keeping revisions dense', async () => {
        const s = uniqueStream();
        expect((await store.append(s, oneEvent(), ANY)).revision).toBe(0n);
        expect((await store.append(s, commandEvents(['A', 'B']), ANY)).revision).toBe(2n);
        expect((await store.read(s)).events.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      });

      it('a conflicting multi-event append writes none of its events', async () => {
        const s = uniqueStream();
        await store.append(s, oneEvent('First'), NO_STREAM);
        await conflict(store.append(s, commandEvents(['X', 'Y', 'Z']), NO_STREAM));
        const read = await store.read(s);
        expect(read.events.map((e) => e.type)).toEqual(['First']);
      });

      it('a multi-event append is stored together with consecutive revisions and ordered positions', async () => {
        const s = uniqueStream();
        const result = await store.append(s, commandEvents(['A', 'B', 'C']), NO_STREAM);
        const { events } = await store.read(s);
        expect(events.map((e) => [e.type, e.revision])).toEqual([
          ['A', 0n],
          ['B', 1n],
          ['C', 2n],
        ]);
        expect(events[2]!.position).toBe(result.position);
        expect(comparePositions(events[0]!.position, events[1]!.position)).toBeLessThan(0);
        expect(comparePositions(events[1]!.position, events[2]!.position)).toBeLessThan(0);
      });

      it('refuses an empty append and invalid metadata with InvalidAppend, writing nothing', async () => {
        const s = uniqueStream();
        await expect(store.append(s, [], NO_STREAM)).rejects.toBeInstanceOf(InvalidAppend);
        const bad = [{ type: 'ThingHappened', data: {}, metadata: { ...metadata(), occurredAt: 'yesterday' } }];
        await expect(store.append(s, bad, NO_STREAM)).rejects.toThrow(/occurredAt/);
        expect((await store.read(s)).exists).toBe(false);
      });
    });

    describe('idempotent retries', () => {
      it('a retried append with the same command id adds nothing and returns the original revision', async () => {
        const s = uniqueStream();
        const first = commandEvents(['A', 'B']);
        const original = await store.append(s, first, NO_STREAM);
        const retry = await store.append(s, first, NO_STREAM);
        expect(retry.revision).toBe(original.revision);
        expect(retry.position).toBe(original.position);
        expect((await store.read(s)).events).toHaveLength(2);
      });

      it('a retried ANY append with the same command id adds nothing', async () => {
        const s = uniqueStream();
        await store.append(s, oneEvent('Before'), NO_STREAM);
        const events = commandEvents(['A', 'B']);
        const original = await store.append(s, events, ANY);
        const retry = await store.append(s, events, ANY);
        expect(retry).toEqual(original);
        expect((await store.read(s)).events.map((e) => e.type)).toEqual(['Before', 'A', 'B']);
      });

      it('recognises the retry even after another command appended behind it', async () => {
        const s = uniqueStream();
        const first = oneEvent('A');
        await store.append(s, first, NO_STREAM);
        await store.append(s, oneEvent('B'), 0n);
        const retry = await store.append(s, first, NO_STREAM);
        expect(retry.revision).toBe(0n);
        expect((await store.read(s)).events.map((e) => e.type)).toEqual(['A', 'B']);
      });

      it('derives event ids from stream, command id and index', async () => {
        const s = uniqueStream();
        const events = commandEvents(['A', 'B']);
        await store.append(s, events, NO_STREAM);
        const ids = (await store.read(s)).events.map((e) => e.id);
        const commandId = events[0]!.metadata.commandId;
        expect(ids).toEqual([eventIdFor(s, commandId, 0), eventIdFor(s, commandId, 1)]);
      });
    });

    describe('reading a stream', () => {
      it('a missing stream reads empty and says it does not exist', async () => {
        const read = await store.read(uniqueStream());
        expect(read).toEqual({ exists: false, events: [] });
        const backward = await store.read(uniqueStream(), { direction: 'backward' });
        expect(backward.exists).toBe(false);
      });

      it('reads forward from a revision, backward, and with a max count', async () => {
        const s = uniqueStream();
        for (let i = 0; i < 10; i++) await store.append(s, oneEvent('Counted', { i }), i === 0 ? NO_STREAM : BigInt(i - 1));
        const revisions = (events: readonly RecordedEvent[]) => events.map((e) => Number(e.revision));
        expect(revisions((await store.read(s, { fromRevision: 6n })).events)).toEqual([6, 7, 8, 9]);
        expect(revisions((await store.read(s, { fromRevision: 2n, maxCount: 3 })).events)).toEqual([2, 3, 4]);
        expect(revisions((await store.read(s, { direction: 'backward' })).events)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        expect(revisions((await store.read(s, { direction: 'backward', maxCount: 2 })).events)).toEqual([9, 8]);
        expect(revisions((await store.read(s, { direction: 'backward', fromRevision: 4n, maxCount: 3 })).events)).toEqual([4, 3, 2]);
        expect(revisions((await store.read(s, { fromRevision: 10n })).events)).toEqual([]);
        expect(((await store.read(s, { fromRevision: 3n })).events[0]!.data as { i: number }).i).toBe(3);
      });

      it('reads a long stream forward in order', async () => {
        const s = uniqueStream();
        const n = 150;
        for (let i = 0; i < n; i += 10) {
          await store.append(
            s,
            commandEvents(Array(10).fill('Bulk'), (j) => ({ i: i + j })),
            i === 0 ? NO_STREAM : BigInt(i - 1),
          );
        }
        const { events } = await store.read(s);
        expect(events.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect((await store.read(s, { fromRevision: 100n, maxCount: 5 })).events.map((e) => Number(e.revision))).toEqual([100, 101, 102, 103, 104]);
      });

      it('a forward read given a position reads what it reads without one, whether the position is right or wrong', async () => {
        const [s, other] = [uniqueStream(), uniqueStream()];
        for (let i = 0; i < 60; i++) {
          await store.append(s, oneEvent('Counted', { i }), i === 0 ? NO_STREAM : BigInt(i - 1));
          if (i % 20 === 0) await store.append(other, oneEvent('Elsewhere'), ANY);
        }
        const later = await store.append(other, oneEvent('Elsewhere'), ANY);
        const positions = (await store.read(s)).events.map((e) => e.position);
        const plain = await store.read(s, { fromRevision: 10n });
        expect(plain.events.map((e) => Number(e.revision))).toEqual(Array.from({ length: 50 }, (_, i) => 10 + i));
        for (const fromPosition of [positions[10]!, positions[3]!, positions[40]!, later.position]) {
          expect(await store.read(s, { fromRevision: 10n, fromPosition })).toEqual(plain);
        }
        const five = await store.read(s, { fromRevision: 10n, maxCount: 5, fromPosition: positions[10]! });
        expect(five.events.map((e) => Number(e.revision))).toEqual([10, 11, 12, 13, 14]);
      });
    });

    describe('global order', () => {
      it('reads all events across streams in append order, after a position and by category', async () => {
        const category = uniqueCategory();
        const [a, b, c] = [streamName(category, 'a'), streamName(category, 'b'), uniqueStream()];
        const marker = await store.append(uniqueStream(), oneEvent('Marker'), NO_STREAM);
        await store.append(a, oneEvent('A0'), NO_STREAM);
        await store.append(c, oneEvent('C0'), NO_STREAM);
        await store.append(b, commandEvents(['B0', 'B1']), NO_STREAM);
        await store.append(a, oneEvent('A1'), 0n);
        const all = await store.readAll({ after: marker.position });
        expect(all.map((e) => e.type)).toEqual(['A0', 'C0', 'B0', 'B1', 'A1']);
        const positions = all.map((e) => e.position);
        expect([...positions].sort(comparePositions)).toEqual(positions);
        expect((await store.readAll({ category })).map((e) => e.type)).toEqual(['A0', 'B0', 'B1', 'A1']);
        expect((await store.readAll({ after: marker.position, maxCount: 2 })).map((e) => e.type)).toEqual(['A0', 'C0']);
        expect(await store.readAll({ category: uniqueCategory() })).toEqual([]);
      });

      it('names the head of the log, of a category too, so a subscriber can follow only what comes next', async () => {
        const category = uniqueCategory();
        expect(await store.headPosition({ category })).toBeUndefined();
        const first = await store.append(streamName(category, 'a'), commandEvents(['A0', 'A1']), NO_STREAM);
        const other = await store.append(uniqueStream(), oneEvent('Elsewhere'), NO_STREAM);
        expect(await store.headPosition({ category })).toBe(first.position);
        expect(comparePositions((await store.headPosition())!, other.position)).toBeGreaterThanOrEqual(0);
        const next = await store.append(streamName(category, 'b'), oneEvent('B0'), NO_STREAM);
        expect((await store.readAll({ category, after: first.position })).map((e) => e.type)).toEqual(['B0']);
        expect(await store.headPosition({ category })).toBe(next.position);
      });
    });

    describe('subscriptions', () => {
      const take = async (sub: Subscription, until: (seen: SubscriptionMessage[]) => boolean): Promise<SubscriptionMessage[]> => {
        const seen: SubscriptionMessage[] = [];
        for await (const message of sub) {
          seen.push(message);
          if (until(seen)) break;
        }
        return seen;
      };
      const eventsOf = (messages: SubscriptionMessage[]) => messages.flatMap((m) => (m.kind === 'event' ? [m.event] : []));
      const typesOf = (messages: SubscriptionMessage[]) => eventsOf(messages).map((e) => e.type);

      it('from the start delivers history, then caughtUp, then live events in order', async () => {
        const category = uniqueCategory();
        const s = streamName(category, 'one');
        await store.append(s, commandEvents(['H0', 'H1']), NO_STREAM);
        await store.append(streamName(category, 'two'), oneEvent('H2'), NO_STREAM);
        const sub = store.subscribe({ category });
        const iterator = sub[Symbol.asyncIterator]();
        const seen: SubscriptionMessage[] = [];
        while (!seen.some((m) => m.kind === 'caughtUp')) seen.push((await iterator.next()).value as SubscriptionMessage);
        expect(typesOf(seen)).toEqual(['H0', 'H1', 'H2']);
        await store.append(s, oneEvent('L0'), 1n);
        await store.append(streamName(category, 'three'), commandEvents(['L1', 'L2']), NO_STREAM);
        while (typesOf(seen).length < 6) seen.push((await iterator.next()).value as SubscriptionMessage);
        expect(typesOf(seen)).toEqual(['H0', 'H1', 'H2', 'L0', 'L1', 'L2']);
        expect(seen.filter((m) => m.kind === 'caughtUp')).toHaveLength(1);
        await sub.close();
      });

      it('reports caughtUp at once when there is no history for the filter', async () => {
        const sub = store.subscribe({ category: uniqueCategory() });
        const seen = await take(sub, (m) => m.some((x) => x.kind === 'caughtUp'));
        expect(eventsOf(seen)).toEqual([]);
        await sub.close();
      });

      it('resumes from a checkpoint exactly after it: no gap, no duplicate', async () => {
        const category = uniqueCategory();
        for (let i = 0; i < 5; i++) await store.append(streamName(category, `s${i % 2}`), oneEvent('E', { i }), ANY);
        const first = store.subscribe({ category });
        const seen = await take(first, (m) => eventsOf(m).length === 3);
        await first.close();
        const resumeAt: GlobalPosition = eventsOf(seen)[2]!.position;
        for (let i = 5; i < 8; i++) await store.append(streamName(category, `s${i % 2}`), oneEvent('E', { i }), ANY);
        const second = store.subscribe({ category, after: resumeAt });
        const rest = await take(second, (m) => eventsOf(m).length === 5);
        await second.close();
        expect(eventsOf(rest).map((e) => (e.data as { i: number }).i)).toEqual([3, 4, 5, 6, 7]);
      });

      it('resumes after an event in the middle of a multi-event commit', async () => {
        const category = uniqueCategory();
        await store.append(streamName(category, 'x'), commandEvents(['A', 'B', 'C']), NO_STREAM);
        const all = await store.readAll({ category });
        const sub = store.subscribe({ category, after: all[0]!.position });
        const seen = await take(sub, (m) => m.some((x) => x.kind === 'caughtUp') && eventsOf(m).length >= 2);
        await sub.close();
        expect(typesOf(seen)).toEqual(['B', 'C']);
      });

      it('checkpoints never run ahead of delivered events, and resuming from one skips exactly what it covers', async () => {
        const category = uniqueCategory();
        await store.append(streamName(category, 'x'), commandEvents(['A', 'B']), NO_STREAM);
        const sub = store.subscribe({ category });
        const seen = await take(sub, (m) => m.some((x) => x.kind === 'caughtUp'));
        await sub.close();
        // Filtered subscriptions may also checkpoint while scanning other categories' events.
        const checkpoints = seen.flatMap((m, i) => (m.kind === 'checkpoint' ? [{ i, position: m.position }] : []));
        expect(checkpoints.length).toBeGreaterThan(0);
        for (const { i, position } of checkpoints) {
          for (const e of eventsOf(seen.slice(0, i))) expect(comparePositions(e.position, position)).toBeLessThanOrEqual(0);
        }
        const last = checkpoints.at(-1)!.position;
        await store.append(streamName(category, 'x'), oneEvent('C'), 1n);
        const all = await store.readAll({ category });
        const expected = all.filter((e) => comparePositions(e.position, last) > 0).map((e) => e.type);
        expect(expected).toContain('C');
        const resumed = store.subscribe({ category, after: last });
        const after = await take(resumed, (m) => eventsOf(m).length === expected.length);
        await resumed.close();
        expect(typesOf(after)).toEqual(expected);
      });

      it('filters by category', async () => {
        const [mine, other] = [uniqueCategory(), uniqueCategory()];
        await store.append(streamName(other, 'x'), oneEvent('Other'), NO_STREAM);
        await store.append(streamName(mine, 'x'), oneEvent('Mine'), NO_STREAM);
        await store.append(streamName(`${mine}x`, 'y'), oneEvent('PrefixLookalike'), NO_STREAM);
        const sub = store.subscribe({ category: mine });
        const seen = await take(sub, (m) => m.some((x) => x.kind === 'caughtUp'));
        await sub.close();
        expect(typesOf(seen)).toEqual(['Mine']);
        expect(eventsOf(seen)[0]!.stream).toBe(streamName(mine, 'x'));
      });

      it('close() ends an iteration that is waiting for live events', async () => {
        const sub = store.subscribe({ category: uniqueCategory() });
        const iteration = take(sub, () => false);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await sub.close();
        const seen = await iteration;
        expect(seen.filter((m) => m.kind !== 'checkpoint').map((m) => m.kind)).toEqual(['caughtUp']);
      });
    });

    describe('concurrency', () => {
      it('8 writers racing on one stream for 100 rounds: exactly one wins each revision', async () => {
        const writers = await Promise.all(Array.from({ length: 8 }, () => backend.connect()));
        const s = uniqueStream('race');
        const winners: string[] = [];
        try {
          for (let round = 0; round < 100; round++) {
            const expected = round === 0 ? NO_STREAM : BigInt(round - 1);
            const outcomes = await Promise.allSettled(
              writers.map((w, i) => w.append(s, oneEvent('Won', { writer: i, round }, { commandId: `r${round}-w${i}` }), expected)),
            );
            const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
            expect(won).toHaveLength(1);
            for (const o of outcomes) {
              if (o.status === 'rejected') {
                expect(o.reason).toBeInstanceOf(WrongExpectedRevision);
                expect((o.reason as WrongExpectedRevision).actual).toBe(BigInt(round));
              }
            }
            winners.push(`r${round}-w${won[0]}`);
          }
        } finally {
          await Promise.all(writers.map((w) => w.close()));
        }
        const { events } = await store.read(s);
        expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(i)));
        expect(events.map((e) => e.metadata.commandId)).toEqual(winners);
      });
    });

    describe('payloads and metadata', () => {
      it('stores a 256 KB event intact', async () => {
        const s = uniqueStream();
        const blob = 'x'.repeat(256 * 1024);
        await store.append(s, oneEvent('Big', { blob }), NO_STREAM);
        const [event] = (await store.read(s)).events;
        expect((event!.data as { blob: string }).blob).toBe(blob);
      });

      it('round-trips non-ASCII data', async () => {
        const s = uniqueStream();
        const data = { text: 'Grüße, 你好, مرحبا, 🚀 — “quotes”', nested: { emoji: ['✅', '❌'] } };
        await store.append(s, oneEvent('Unicode', data), NO_STREAM);
        expect((await store.read(s)).events[0]!.data).toEqual(data);
      });

      it('round-trips every metadata field and records when it was stored', async () => {
        const s = uniqueStream();
        const meta = {
          ...metadata({ correlationId: 'corr-42', causationId: 'evt-41', actor: 'U999', schemaVersion: 3, occurredAt: '2026-01-02T03:04:05.678Z' }),
          authorization: 'gates.deploy.approvers',
        };
        await store.append(s, [{ type: 'Meta', data: { ok: true }, metadata: meta }], NO_STREAM);
        const [event] = (await store.read(s)).events;
        expect(event!.metadata).toEqual(meta);
        expect(event!.stream).toBe(s);
        expect(event!.type).toBe('Meta');
        expect(Number.isNaN(Date.parse(event!.recordedAt))).toBe(false);
        expect(Date.parse(event!.recordedAt)).toBeGreaterThan(Date.parse('2026-01-01'));
      });
    });
  });
}

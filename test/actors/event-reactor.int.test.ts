import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EventReactor } from '../../actors/runtime/event-reactor.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { KvCheckpointStore } from '../../adapters/nats/kv-checkpoint-store.ts';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import { NO_STREAM, type EventStore, type GlobalPosition, type RecordedEvent, type Subscription } from '../../domain/ports/event-store.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { oneEvent, uniqueCategory, uniqueStream } from '../support/events.ts';
import { startNatsBroker, type NatsBroker } from '../support/nats-broker.ts';
import { waitFor } from '../support/waiting.ts';

// The reactor's loop on a real nats-server when the parts around it misbehave: a handler that
// throws or rejects, a store whose subscribe throws, a subscription whose close throws, a
// checkpoint store that fails. None of it may surface as an unhandled rejection (it would end
// the process), and the reactor must go on handling the events after it.

const logger = pino({ level: 'silent' });

let broker: NatsBroker;
let nc: NatsConnection;
let store: JetStreamEventStore;
let checkpoints: KvCheckpointStore;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
const reactors: EventReactor[] = [];

beforeAll(async () => {
  broker = await startNatsBroker();
  nc = await connectNats(broker.url);
  store = await JetStreamEventStore.connect(nc);
  checkpoints = await KvCheckpointStore.connect(nc);
});

afterAll(async () => {
  await nc?.close();
  await broker?.dispose();
});

beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  await Promise.all(reactors.splice(0).map((reactor) => reactor.stop()));
  // Unhandled rejections are reported after the microtask queue drains; give them that turn.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** The real store, except that `subscribe` goes through `subscribe(real)`. */
const storeWith = (subscribe: (real: EventStore['subscribe']) => EventStore['subscribe']): EventStore => {
  const real = store.subscribe.bind(store);
  return new Proxy(store, { get: (target, key) => (key === 'subscribe' ? subscribe(real) : Reflect.get(target, key, target)) });
};

const append = async (category: string, n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await store.append(uniqueStream(category), oneEvent('ThingHappened', { n: i }), NO_STREAM);
};

const started = async (options: {
  category: string;
  store?: EventStore;
  checkpoints?: CheckpointStore;
  handle: (event: RecordedEvent) => Promise<void> | void;
}): Promise<EventReactor> => {
  const reactor = new EventReactor({
    name: `reactor-${options.category}`,
    category: options.category,
    store: options.store ?? store,
    checkpoints: options.checkpoints ?? checkpoints,
    logger,
    handle: options.handle,
    checkpointIntervalMs: 20,
  });
  await reactor.start();
  reactors.push(reactor);
  return reactor;
};

const numberOf = (event: RecordedEvent): number => (event.data as { n: number }).n;

describe('EventReactor under faults', () => {
  it('a handler that throws or rejects is logged and the reactor handles every later event', async () => {
    const category = uniqueCategory();
    const handled: number[] = [];
    await started({
      category,
      handle: async (event) => {
        const n = numberOf(event);
        handled.push(n);
        if (n === 1) throw new Error('handler threw synchronously');
        if (n === 2) await Promise.reject(new Error('handler rejected'));
      },
    });
    await append(category, 5);
    await waitFor('all five events handled', () => handled.length === 5, { timeoutMs: 10_000 });
    expect(handled).toEqual([0, 1, 2, 3, 4]);
  });

  it('a store whose subscribe throws is subscribed again, and the events arrive', async () => {
    const category = uniqueCategory();
    let attempts = 0;
    const flaky = storeWith((real) => (options) => {
      attempts++;
      if (attempts <= 2) throw new Error('subscribe failed');
      return real(options);
    });
    const handled: number[] = [];
    await started({ category, store: flaky, handle: (event) => void handled.push(numberOf(event)) });
    await append(category, 3);
    await waitFor('the events after two failed subscribes', () => handled.length === 3, { timeoutMs: 10_000 });
    expect(attempts).toBe(3);
    expect(handled).toEqual([0, 1, 2]);
  });

  it('a subscription that ends and then throws from close is left behind; the next one goes on after the last handled event', async () => {
    const category = uniqueCategory();
    await append(category, 2);
    let subscriptions = 0;
    const closeThrows = storeWith((real) => (options) => {
      subscriptions++;
      const inner = real(options);
      if (subscriptions > 1) return inner;
      // The first subscription delivers one event, ends, and its close throws without returning a promise.
      const firstOnly: Subscription = {
        async *[Symbol.asyncIterator]() {
          for await (const message of inner) {
            yield message;
            if (message.kind === 'event') break;
          }
        },
        close: () => {
          void inner.close();
          throw new Error('close threw synchronously');
        },
      };
      return firstOnly;
    });
    const handled: number[] = [];
    await started({ category, store: closeThrows, handle: (event) => void handled.push(numberOf(event)) });
    await append(category, 1);
    await waitFor('every event once across the resubscription', () => handled.length === 3, { timeoutMs: 10_000 });
    expect(subscriptions).toBeGreaterThanOrEqual(2);
    expect(handled).toEqual([0, 1, 0]);
  });

  it('a checkpoint store that fails is retried: the reactor keeps handling and the checkpoint lands once saving works', async () => {
    const category = uniqueCategory();
    let failing = true;
    const saved: GlobalPosition[] = [];
    const flakyCheckpoints: CheckpointStore = {
      load: (name) => checkpoints.load(name),
      save: (name, position) => {
        if (failing) throw new Error('checkpoint bucket unavailable');
        saved.push(position);
        return checkpoints.save(name, position);
      },
    };
    const handled: RecordedEvent[] = [];
    await started({ category, checkpoints: flakyCheckpoints, handle: (event) => void handled.push(event) });
    await append(category, 3);
    await waitFor('three events handled while saving fails', () => handled.length === 3, { timeoutMs: 10_000 });
    // Several intervals pass with every save failing.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(saved).toEqual([]);
    failing = false;
    const last = handled[2]!.position;
    await waitFor('the checkpoint saved', () => saved.includes(last), { timeoutMs: 5_000 });
    expect(await checkpoints.load(`reactor-${category}`)).toBe(last);
  });

  it('stop() resolves when the subscription close rejects', async () => {
    const category = uniqueCategory();
    const closeRejects = storeWith((real) => (options) => {
      const inner = real(options);
      return {
        [Symbol.asyncIterator]: () => inner[Symbol.asyncIterator](),
        close: () => inner.close().then(() => Promise.reject(new Error('close rejected'))),
      };
    });
    const handled: number[] = [];
    const reactor = await started({ category, store: closeRejects, handle: (event) => void handled.push(numberOf(event)) });
    await append(category, 1);
    await waitFor('the event handled', () => handled.length === 1, { timeoutMs: 10_000 });
    reactors.splice(reactors.indexOf(reactor), 1);
    await expect(reactor.stop()).resolves.toBeUndefined();
  });
});

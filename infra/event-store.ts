import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { EsdbEventStore } from '../adapters/eventstoredb/esdb-event-store.ts';
import { JetStreamEventStore } from '../adapters/jetstream/jetstream-event-store.ts';
import type { EventStore } from '../domain/ports/event-store.ts';
import { streamName } from '../domain/streams.ts';
import type { Config } from './config/schema.ts';

// Picks the event-store adapter from configuration and proves it answers before the
// process reports ready.

export interface OpenedEventStore {
  readonly store: EventStore;
  readonly description: string;
}

/** `logger`: where the JetStream store reports interrupted subscriptions and quarantined messages. */
export async function openEventStore(config: Config, nc: NatsConnection, logger?: Logger): Promise<OpenedEventStore> {
  if (config.eventStore.kind === 'jetstream') {
    const store = await JetStreamEventStore.connect(nc, { prefix: config.prefix, replicas: config.nats.replicas, ...(logger ? { logger } : {}) });
    return { store, description: `JetStream stream ${store.streamName}` };
  }
  const store = EsdbEventStore.fromConnectionString(config.eventStore.url);
  try {
    await store.read(streamName('health', 'probe'), { maxCount: 1 });
  } catch (error) {
    await store.close().catch(() => undefined);
    throw new Error(`EventStoreDB did not answer at ESDB_URL: ${(error as Error).message}`);
  }
  return { store, description: 'EventStoreDB' };
}

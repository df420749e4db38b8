import { JetStreamPublicEventSink } from '../adapters/jetstream/public-event-sink.ts';
import { KvCheckpointStore } from '../adapters/nats/kv-checkpoint-store.ts';
import { PublicEventPublisher } from '../projections/public-events/public-event-publisher.ts';
import type { RoleContext } from './role-context.ts';
import { secretValuesOf } from './secret-values.ts';

// The `public-events` role: every domain event out to `<prefix>.events.<category>.<EventType>`
// as CloudEvents JSON. One process of this role is enough; a second one sends nothing twice
// to consumers (the stream drops repeats by event id) but does the work twice.

/** CloudEvents `source` of every public event: names the deployment by its subject prefix. */
export const publicEventSource = (prefix: string): string => `orch://${prefix}`;

export async function startPublicEvents({ config, nc, store, logger }: RoleContext): Promise<() => Promise<void>> {
  const sink = await JetStreamPublicEventSink.connect(nc, { prefix: config.prefix, replicas: config.nats.replicas });
  const checkpoints = await KvCheckpointStore.connect(nc, config.prefix, { replicas: config.nats.replicas });
  const publisher = new PublicEventPublisher({
    store,
    sink,
    checkpoints,
    logger: logger.child({ role: 'public-events' }),
    source: publicEventSource(config.prefix),
    secretValues: secretValuesOf(config),
  });
  await publisher.start();
  return () => publisher.stop();
}

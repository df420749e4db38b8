import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { AggregateHost } from '../../actors/runtime/aggregate-host.ts';
import { systemClock } from '../../infra/system-clock.ts';
import type { EventStore } from '../../domain/ports/event-store.ts';

/** Hosts for these aggregates on the test's connection and store; the result stops them all. */
export function startAggregateHosts(nc: NatsConnection, store: EventStore, definitions: readonly unknown[], logger: Logger): () => Promise<void> {
  const hosts = definitions.map((definition) => new AggregateHost({ nc, store, definition: definition as never, clock: systemClock, logger }));
  hosts.forEach((host) => host.start());
  return async () => {
    await Promise.all(hosts.map((host) => host.stop()));
  };
}

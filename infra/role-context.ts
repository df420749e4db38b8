import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { EventStore } from '../domain/ports/event-store.ts';
import type { Config } from './config/schema.ts';

/** What every process role is started with. */
export interface RoleContext {
  readonly config: Config;
  readonly nc: NatsConnection;
  readonly store: EventStore;
  readonly logger: Logger;
  /** How long a stopping worker waits for its running tasks before handing them back (default 10 s). */
  readonly workerGraceMs?: number;
}

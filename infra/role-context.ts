import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { EventStore } from '../domain/ports/event-store.ts';
import type { Config } from './config/schema.ts';
import type { HttpRoutes } from './http/ops-server.ts';

/** What every process role is started with. */
export interface RoleContext {
  readonly config: Config;
  readonly nc: NatsConnection;
  readonly store: EventStore;
  readonly logger: Logger;
  /** How long a stopping worker waits for its running tasks before handing them back (default 10 s). */
  readonly workerGraceMs?: number;
  /** The process's HTTP server on PORT, where the slack role mounts `/slack/events` (infra/http). */
  readonly http?: HttpRoutes;
  /** Told of every command the aggregate hosts of this process answer (orch_commands_total). */
  readonly onCommandHandled?: (category: string, outcome: string, seconds: number) => void;
}

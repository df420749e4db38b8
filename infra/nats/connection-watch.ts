import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';

// What a long-running process says about its NATS connection: one line when it is lost, one
// when it is back (tests and operators time a broker outage by these), and a fatal end when the
// connection closes for good while nobody asked it to.

export const CONNECTION_LOST = 'NATS connection lost; reconnecting';
export const CONNECTION_RESTORED = 'NATS connection restored';
export const CONNECTION_CLOSED = 'NATS connection closed for good; exiting';

export function watchConnection(nc: NatsConnection, logger: Logger, onClosed: (reason: string) => void, stopping: () => boolean): void {
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') logger.warn({ server: String(status.data) }, CONNECTION_LOST);
      else if (status.type === 'reconnect') logger.info({ server: String(status.data) }, CONNECTION_RESTORED);
    }
  })().catch(() => undefined);
  void nc.closed().then((error) => {
    if (stopping()) return;
    logger.fatal({ err: error }, CONNECTION_CLOSED);
    onClosed(`NATS connection closed${error ? `: ${error.message}` : ''}`);
  });
}

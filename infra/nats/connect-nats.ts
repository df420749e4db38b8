import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { authConnectionOptions, type NatsAuth } from './nats-auth.ts';

// Every NATS connection of the product is made here, so all roles share the same settings.
// `noAsyncTraces`: nats.js otherwise builds two Error objects per request to keep the caller's
// async stack; at event-store rates that is a quarter of the client's CPU. Our errors are
// mapped to named domain errors at the adapter, so the lost call-site trace costs little.

/** Base wait between two rounds of reconnect attempts, and the most added at random to it. */
const RECONNECT_WAIT_MS = 500;
const RECONNECT_JITTER_MS = 1_000;

/**
 * Long-running processes reconnect forever: a broker restart is an outage to ride out, never a
 * reason to exit. The random part keeps a fleet of processes from reconnecting in one wave; the
 * ceiling stays low so a process is serving again within seconds of the broker coming back.
 */
export const productConnectionOptions: Partial<ConnectionOptions> = {
  noAsyncTraces: true,
  maxReconnectAttempts: -1,
  reconnectDelayHandler: () => RECONNECT_WAIT_MS + Math.floor(Math.random() * RECONNECT_JITTER_MS),
};

/** The ops CLI fails fast instead: one try, no reconnects, a readable error. */
export const cliConnectionOptions: Partial<ConnectionOptions> = {
  noAsyncTraces: true,
  maxReconnectAttempts: 0,
  timeout: 3_000,
};

export interface ConnectNatsOptions extends Partial<ConnectionOptions> {
  /** Who this process is to NATS; none: an unauthenticated connection (test brokers, open servers). */
  readonly auth?: NatsAuth;
}

export const connectNats = (servers: string | string[], { auth, ...options }: ConnectNatsOptions = {}): Promise<NatsConnection> =>
  connect({ ...productConnectionOptions, servers, ...authConnectionOptions(auth), ...options });

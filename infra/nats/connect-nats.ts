import { connect, type ConnectionOptions, type NatsConnection } from 'nats';

// Every NATS connection of the product is made here, so all roles share the same settings.
// `noAsyncTraces`: nats.js otherwise builds two Error objects per request to keep the caller's
// async stack; at event-store rates that is a quarter of the client's CPU. Our errors are
// mapped to named domain errors at the adapter, so the lost call-site trace costs little.
export const productConnectionOptions: Partial<ConnectionOptions> = {
  noAsyncTraces: true,
  maxReconnectAttempts: -1,
};

export const connectNats = (servers: string | string[], options: Partial<ConnectionOptions> = {}): Promise<NatsConnection> =>
  connect({ ...productConnectionOptions, servers, ...options });

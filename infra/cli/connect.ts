import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { maskUrlCredentials, type Config } from '../config/schema.ts';
import { openEventStore, type OpenedEventStore } from '../event-store.ts';
import { cliConnectionOptions, connectNats, productConnectionOptions } from '../nats/connect-nats.ts';
import { readCredential } from '../nats/embedded-credentials.ts';
import { SERVICE_USER } from '../nats/embedded-identities.ts';
import type { NatsAuth } from '../nats/nats-auth.ts';

// The ops CLI reaches the running product's NATS: NATS_URL when set, otherwise the URL the
// embedded server of `npm start` wrote under DATA_DIR, as its service identity (the password
// the embedded server keeps under DATA_DIR/nats); with NATS_URL, the NATS_* credentials.

export class NoRunningProduct extends Error {
  override readonly name = 'NoRunningProduct';
}

export const embeddedUrlFile = (dataDir: string): string => path.resolve(dataDir, 'nats', 'nats.url');

export interface ProductConnectionOptions {
  /**
   * `cli` (default): one try, no reconnects, for commands that fail fast. `process`: a
   * long-running role process, which reconnects forever (see productConnectionOptions).
   */
  readonly kind?: 'cli' | 'process';
  readonly name?: string;
  readonly logger?: Logger;
}

export async function connectToProduct(config: Config, options: ProductConnectionOptions = {}): Promise<{ nc: NatsConnection } & OpenedEventStore> {
  let servers = config.nats.servers;
  let auth: NatsAuth | undefined = config.nats.auth;
  if (config.nats.embedded) {
    const file = embeddedUrlFile(config.dataDir);
    const url = await readFile(file, 'utf8').catch(() => undefined);
    if (!url) throw new NoRunningProduct(`no NATS to connect to: set NATS_URL, or start the product with "npm start" (looked for ${file})`);
    servers = [url.trim()];
    const service = await readCredential(path.dirname(file), SERVICE_USER);
    auth = service && { kind: 'user', user: service.user, password: service.password };
  }
  let nc: NatsConnection;
  try {
    // A role process started while the broker is down waits for it rather than exiting.
    const settings = options.kind === 'process' ? { ...productConnectionOptions, timeout: 3_000, waitOnFirstConnect: true } : cliConnectionOptions;
    if (options.kind === 'process') options.logger?.info({ servers: servers.map(maskUrlCredentials) }, 'connecting to NATS');
    nc = await connectNats(servers, { ...settings, name: options.name ?? 'orch-cli', auth });
  } catch (error) {
    throw new NoRunningProduct(`cannot reach NATS at ${servers.map(maskUrlCredentials).join(',')}: ${(error as Error).message}`);
  }
  return { nc, ...(await openEventStore(config, nc, options.logger)) };
}

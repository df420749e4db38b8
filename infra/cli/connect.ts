import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import type { Config } from '../config/schema.ts';
import { openEventStore, type OpenedEventStore } from '../event-store.ts';
import { connectNats } from '../nats/connect-nats.ts';

// The ops CLI reaches the running product's NATS: NATS_URL when set, otherwise the URL the
// embedded server of `npm start` wrote under DATA_DIR.

export class NoRunningProduct extends Error {
  override readonly name = 'NoRunningProduct';
}

export const embeddedUrlFile = (dataDir: string): string => path.resolve(dataDir, 'nats', 'nats.url');

export async function connectToProduct(config: Config): Promise<{ nc: NatsConnection } & OpenedEventStore> {
  let servers = config.nats.servers;
  if (config.nats.embedded) {
    const file = embeddedUrlFile(config.dataDir);
    const url = await readFile(file, 'utf8').catch(() => undefined);
    if (!url) throw new NoRunningProduct(`no NATS to connect to: set NATS_URL, or start the product with "npm start" (looked for ${file})`);
    servers = [url.trim()];
  }
  let nc: NatsConnection;
  try {
    nc = await connectNats(servers, { name: 'orch-cli', maxReconnectAttempts: 0, timeout: 3_000 });
  } catch (error) {
    throw new NoRunningProduct(`cannot reach NATS at ${servers.join(',')}: ${(error as Error).message}`);
  }
  return { nc, ...(await openEventStore(config, nc)) };
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { readCredential } from '../../infra/nats/embedded-credentials.ts';
import { inboxPrefixOf, SERVICE_USER } from '../../infra/nats/embedded-identities.ts';
import { startEmbeddedNatsServer, type EmbeddedNatsServer } from '../../infra/nats/embedded-nats-server.ts';

// The embedded nats-server with its identities (service, consumer, producer-<name>), as
// `npm start` runs it, in a temporary DATA_DIR; clients connect as one identity each, with the
// password the server keeps under DATA_DIR/nats, as an outside client given it would.

export interface NatsWithIdentities {
  readonly dataDir: string;
  server: EmbeddedNatsServer;
  /** Connects as `user` (outside identities with their private reply inbox); fails fast. */
  connectAs(user: string, options?: { password?: string }): Promise<NatsConnection>;
  /** Stops the server and starts it again on the same DATA_DIR. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startNatsWithIdentities(options: { prefix?: string; producers?: readonly string[] } = {}): Promise<NatsWithIdentities> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'orch-nats-identities-'));
  const identities = { prefix: options.prefix ?? 'orch', producers: options.producers ?? ['api'] };
  const start = () => startEmbeddedNatsServer({ dataDir, identities });
  const handle: NatsWithIdentities = {
    dataDir,
    server: await start(),
    async connectAs(user, { password } = {}) {
      const credential = await readCredential(handle.server.storeDir, user);
      if (!credential) throw new Error(`no credential for ${user}`);
      return connectNats(handle.server.url, {
        name: `test-${user}`,
        auth: { kind: 'user', user, password: password ?? credential.password },
        maxReconnectAttempts: 0,
        timeout: 3_000,
        ...(user === SERVICE_USER ? {} : { inboxPrefix: inboxPrefixOf(user) }),
      });
    },
    async restart() {
      await handle.server.stop();
      handle.server = await start();
    },
    async dispose() {
      await handle.server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return handle;
}

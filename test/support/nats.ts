import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedNatsServer, type EmbeddedNatsServer } from '../../infra/nats/embedded-nats-server.ts';

// A real nats-server per test file: random loopback port, temporary store, stopped by pid.
export interface TestNatsServer extends EmbeddedNatsServer {
  /** Stops the server and removes its temporary store. */
  dispose(): Promise<void>;
}

export async function startTestNatsServer(): Promise<TestNatsServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'orch-nats-'));
  const server = await startEmbeddedNatsServer({ dataDir });
  return {
    ...server,
    async dispose() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

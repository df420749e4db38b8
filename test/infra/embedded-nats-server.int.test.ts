import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../support/processes.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { NatsServerMissing, startEmbeddedNatsServer } from '../../infra/nats/embedded-nats-server.ts';

describe('embedded nats-server launcher', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'orch-launcher-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('starts on a random loopback port with JetStream under the data directory, and stops by its pid', async () => {
    const dataDir = await tempDir();
    const server = await startEmbeddedNatsServer({ dataDir });
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(isAlive(server.pid)).toBe(true);
    const nc = await connectNats(server.url);
    const jsm = await nc.jetstreamManager();
    const info = await jsm.getAccountInfo();
    expect(info.limits).toBeDefined();
    await jsm.streams.add({ name: 'PROBE', subjects: ['probe.>'] });
    await nc.jetstream().publish('probe.x', 'hello');
    await nc.close();
    expect((await stat(path.join(dataDir, 'nats', 'jetstream'))).isDirectory()).toBe(true);
    await server.stop();
    expect(isAlive(server.pid)).toBe(false);
  });

  it('two servers get different ports', async () => {
    const [a, b] = await Promise.all([startEmbeddedNatsServer({ dataDir: await tempDir() }), startEmbeddedNatsServer({ dataDir: await tempDir() })]);
    expect(a.port).not.toBe(b.port);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('says how to install nats-server when the binary is missing', async () => {
    const error = await startEmbeddedNatsServer({ dataDir: await tempDir(), binary: 'nats-server-that-does-not-exist' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsServerMissing);
    expect((error as Error).message).toMatch(/apt-get install nats-server/);
    expect((error as Error).message).toMatch(/brew install nats-server/);
  });
});

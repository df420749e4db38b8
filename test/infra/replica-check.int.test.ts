import { Writable } from 'node:stream';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEventLogStream, eventLogNames } from '../../adapters/jetstream/event-log-stream.ts';
import { KvCheckpointStore } from '../../adapters/nats/kv-checkpoint-store.ts';
import { warnOfFewerReplicas } from '../../infra/nats/replica-check.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';

// At start, every stream and bucket of the product with fewer replicas than NATS_REPLICAS asks
// for is named in one warning line, with both numbers; nothing is changed.

describe('the start-up check of replicas', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  );

  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    // As an earlier start with NATS_REPLICAS=1 left them, beside a stream that is not ours.
    await ensureEventLogStream(await nc.jetstreamManager(), eventLogNames('orch'));
    await KvCheckpointStore.connect(nc);
    await (await nc.jetstreamManager()).streams.add({ name: 'SOMEONE_ELSE', subjects: ['else.>'] });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  it('warns once per product stream with fewer replicas, naming it and both numbers', async () => {
    lines.length = 0;
    const short = await warnOfFewerReplicas(await nc.jetstreamManager(), 'orch', 3, logger);
    expect(short.map((s) => s.stream)).toEqual(['KV_orch_checkpoints', 'ORCH_EVENTS']);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 40, stream: 'ORCH_EVENTS', replicas: 1, wanted: 3 });
    expect(lines[1]!.msg).toMatch(/ORCH_EVENTS has 1 replica but NATS_REPLICAS asks for 3/);
  });

  it('says nothing when the replicas are as asked, and changes nothing', async () => {
    lines.length = 0;
    expect(await warnOfFewerReplicas(await nc.jetstreamManager(), 'orch', 1, logger)).toEqual([]);
    expect(lines).toEqual([]);
    expect((await (await nc.jetstreamManager()).streams.info('ORCH_EVENTS')).config.num_replicas).toBe(1);
  });
});

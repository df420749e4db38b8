import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../../adapters/jetstream/jetstream-event-store.ts';
import { JetStreamPublicEventSink } from '../../../adapters/jetstream/public-event-sink.ts';
import { JetStreamWorkQueue } from '../../../adapters/jetstream/work-queue.ts';
import { KvCheckpointStore } from '../../../adapters/nats/kv-checkpoint-store.ts';
import { KvReadModelStorage } from '../../../adapters/nats/kv-read-model-storage.ts';
import { KvSnapshotStore } from '../../../adapters/nats/kv-snapshot-store.ts';
import { connectNats } from '../../../infra/nats/connect-nats.ts';
import { startNatsCluster, type NatsCluster } from '../../support/nats-cluster.ts';

// NATS_REPLICAS reaches every stream and bucket the adapters create, on a real 3-node
// JetStream cluster (a single server refuses more than one replica). An existing stream keeps
// the replicas it was created with: replication of an event log is changed by an operator.

describe('replicas of the streams and buckets the adapters create', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  const replicasOf = async (stream: string) => (await (await nc.jetstreamManager()).streams.info(stream)).config.num_replicas;

  beforeAll(async () => {
    cluster = await startNatsCluster({ size: 3 });
    nc = await connectNats(cluster.urls.split(','));
  }, 60_000);
  afterAll(async () => {
    await nc?.close();
    await cluster?.dispose();
  });

  it('creates the event log, work queue, public events stream and every KV bucket with the replicas asked for', async () => {
    const options = { prefix: 'rthree', replicas: 3 };
    await JetStreamEventStore.connect(nc, options);
    await JetStreamWorkQueue.connect(nc, { ...options, pools: ['local-ops'] });
    await JetStreamPublicEventSink.connect(nc, options);
    await KvSnapshotStore.connect(nc, 'rthree', { replicas: 3 });
    await KvCheckpointStore.connect(nc, 'rthree', { replicas: 3 });
    const storage = await KvReadModelStorage.connect(nc, 'rthree', { replicas: 3 });
    await storage.bucket('task-progress', { version: 1, generation: 1 });

    for (const stream of [
      'RTHREE_EVENTS',
      'RTHREE_WORK',
      'RTHREE_PUBLIC_EVENTS',
      'KV_rthree_snapshots',
      'KV_rthree_checkpoints',
      'KV_rthree_projections',
      'KV_rthree_rm_task-progress_v1_g1',
    ]) {
      expect([stream, await replicasOf(stream)]).toEqual([stream, 3]);
    }
  });

  it('leaves one replica by default', async () => {
    await JetStreamEventStore.connect(nc, { prefix: 'rone' });
    await KvCheckpointStore.connect(nc, 'rone');
    expect(await replicasOf('RONE_EVENTS')).toBe(1);
    expect(await replicasOf('KV_rone_checkpoints')).toBe(1);
  });

  it('does not change the replicas of an event log that already exists', async () => {
    await JetStreamEventStore.connect(nc, { prefix: 'rkept', replicas: 1 });
    await JetStreamEventStore.connect(nc, { prefix: 'rkept', replicas: 3 });
    await KvSnapshotStore.connect(nc, 'rkept', { replicas: 1 });
    await KvSnapshotStore.connect(nc, 'rkept', { replicas: 3 });
    expect(await replicasOf('RKEPT_EVENTS')).toBe(1);
    expect(await replicasOf('KV_rkept_snapshots')).toBe(1);
  });
});

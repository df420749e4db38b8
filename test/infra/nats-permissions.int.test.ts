import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AckPolicy, connect, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { ensurePublicEventStream, publicEventNames } from '../../adapters/jetstream/public-event-stream.ts';
import { JetStreamWorkQueue } from '../../adapters/jetstream/work-queue.ts';
import { KvCheckpointStore } from '../../adapters/nats/kv-checkpoint-store.ts';
import { credentialsFile } from '../../infra/nats/embedded-credentials.ts';
import { CONSUMER_USER, inboxPrefixOf, producerUser, SERVICE_USER } from '../../infra/nats/embedded-identities.ts';
import { startNatsWithIdentities, type NatsWithIdentities } from '../support/nats-identities.ts';
import { pino } from 'pino';
import { conversationAggregate } from '../../actors/aggregates/conversation.ts';
import { AggregateHost } from '../../actors/runtime/aggregate-host.ts';
import { AggregateStateClient } from '../../actors/runtime/aggregate-state-client.ts';
import { systemClock } from '../../infra/system-clock.ts';

// The embedded server's identities against a real nats-server 2.9: the read-only consumer gets
// every public event and can write nothing; a producer can reach only its gateway subjects;
// only the service identity writes the event store, work queues and KV. "Refused" is checked by
// what the streams hold afterwards, not only by the client's error.

const PUBLIC = publicEventNames('orch');
const STREAMS = { events: 'ORCH_EVENTS', work: 'ORCH_WORK', kv: 'KV_orch_checkpoints', public: PUBLIC.streamName } as const;
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('NATS identities of the embedded server', () => {
  let nats: NatsWithIdentities;
  let service: NatsConnection;
  let jsm: JetStreamManager;
  const opened: NatsConnection[] = [];
  const as = async (user: string) => {
    const nc = await nats.connectAs(user);
    opened.push(nc);
    return nc;
  };
  const counts = async () =>
    Object.fromEntries(await Promise.all(Object.entries(STREAMS).map(async ([key, name]) => [key, (await jsm.streams.info(name)).state.messages] as const)));

  /** Publishes as `nc` through JetStream and reports how the server answered. */
  const tryPublish = async (nc: NatsConnection, subject: string): Promise<string> =>
    nc
      .jetstream()
      .publish(subject, encode({ forged: true }), { timeout: 2_000 })
      .then(() => 'stored')
      .catch((error: { code?: string; message: string }) => error.code ?? error.message);

  beforeAll(async () => {
    nats = await startNatsWithIdentities({ producers: ['ci', 'deploy-bot'] });
    service = await as(SERVICE_USER);
    jsm = await service.jetstreamManager();
    // The product's own streams, created by its own adapters as the service identity.
    await JetStreamEventStore.connect(service);
    (await JetStreamWorkQueue.connect(service, { prefix: 'orch', pools: ['local-ops'], ackWaitMs: 30_000 })).close();
    await KvCheckpointStore.connect(service);
    await ensurePublicEventStream(jsm, PUBLIC);
    for (const type of ['TaskQueued', 'TaskStarted', 'TaskCompleted']) {
      await service.jetstream().publish(`orch.events.task.${type}`, encode({ type }), { msgID: `ev-${type}` });
    }
  });
  afterAll(async () => {
    await Promise.all(opened.map((nc) => nc.close().catch(() => undefined)));
    await nats.dispose();
  });

  it('the consumer reads every public event with a durable pull consumer of its own', async () => {
    const consumer = await as(CONSUMER_USER);
    const cjsm = await consumer.jetstreamManager();
    expect((await cjsm.streams.info(PUBLIC.streamName)).state.messages).toBe(3);
    await cjsm.consumers.add(PUBLIC.streamName, { durable_name: 'outside-reader', filter_subject: 'orch.events.>', ack_policy: AckPolicy.Explicit });
    const reader = await consumer.jetstream().consumers.get(PUBLIC.streamName, 'outside-reader');
    const types: string[] = [];
    for await (const message of await reader.fetch({ max_messages: 3, expires: 2_000 })) {
      types.push((message.json() as { type: string }).type);
      message.ack();
    }
    expect(types).toEqual(['TaskQueued', 'TaskStarted', 'TaskCompleted']);
    await consumer.flush();
    expect((await jsm.consumers.info(PUBLIC.streamName, 'outside-reader')).num_ack_pending).toBe(0);
  });

  it('the consumer can publish nothing: event store, work queue, commands, KV and public events stay as they were', async () => {
    const consumer = await as(CONSUMER_USER);
    const before = await counts();
    for (const subject of ['orch.es.x.y', 'orch.work.local-ops', 'orch.cmd.workflow.w1', '$KV.orch_checkpoints.x', 'orch.events.task.TaskQueued']) {
      expect(await tryPublish(consumer, subject), subject).toBe('PERMISSIONS_VIOLATION');
    }
    // A command request is refused at the server too: no host would ever see it.
    const seen: string[] = [];
    const spy = service.subscribe('orch.cmd.>', { callback: (_, m) => seen.push(m.subject) });
    await service.flush();
    await expect(consumer.request('orch.cmd.workflow.w1', encode({ type: 'GrantApproval' }), { timeout: 1_000 })).rejects.toMatchObject({
      code: 'PERMISSIONS_VIOLATION',
    });
    await service.flush();
    spy.unsubscribe();
    expect(seen).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it('the consumer cannot delete or purge the public stream, or reach any other stream', async () => {
    const cjsm = await (await as(CONSUMER_USER)).jetstreamManager();
    await expect(cjsm.streams.delete(PUBLIC.streamName)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    await expect(cjsm.streams.purge(PUBLIC.streamName)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    await expect(cjsm.streams.info(STREAMS.events)).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    await expect(cjsm.consumers.add(STREAMS.work, { durable_name: 'steal', ack_policy: AckPolicy.Explicit })).rejects.toMatchObject({
      code: 'PERMISSIONS_VIOLATION',
    });
    expect((await jsm.streams.info(PUBLIC.streamName)).state.messages).toBe(3);
    expect((await jsm.consumers.list(STREAMS.work).next()).map((c) => c.name)).not.toContain('steal');
  });

  it('outside identities cannot listen to other subjects or to the replies other clients get', async () => {
    const consumer = await as(CONSUMER_USER);
    const producer = await as(producerUser('ci'));
    for (const [nc, subject] of [
      [consumer, 'orch.es.>'],
      [consumer, '_INBOX.>'],
      [producer, 'orch.events.>'],
      [producer, '_INBOX.>'],
      [producer, inboxPrefixOf(CONSUMER_USER) + '.>'],
    ] as const) {
      const received: string[] = [];
      const errors: string[] = [];
      const sub = nc.subscribe(subject, { callback: (error, m) => (error ? errors.push(error.code) : received.push(m.subject)) });
      // The server answers the SUB with a permissions violation, and the client closes the subscription.
      await Promise.race([sub.closed, new Promise((r) => setTimeout(r, 2_000))]);
      expect(errors, subject).toEqual(['PERMISSIONS_VIOLATION']);
      expect(sub.isClosed(), subject).toBe(true);
      expect(received, subject).toEqual([]);
    }
  });

  it('a producer may publish only under orch.api.<its name>.>', async () => {
    const producer = await as(producerUser('ci'));
    const before = await counts();
    for (const subject of [
      'orch.es.workflow.w1',
      'orch.work.local-ops',
      'orch.cmd.workflow.w1',
      'orch.events.task.TaskQueued',
      '$KV.orch_checkpoints.x',
      'orch.api.deploy-bot.cmd.workflow.w1',
    ]) {
      expect(await tryPublish(producer, subject), subject).toBe('PERMISSIONS_VIOLATION');
    }
    expect(await counts()).toEqual(before);

    const received: string[] = [];
    const gateway = service.subscribe('orch.api.>', { callback: (_, m) => received.push(m.subject) });
    await service.flush();
    producer.publish('orch.api.ci.cmd.workflow.w1', encode({ type: 'StartWorkflow' }));
    await producer.flush();
    await service.flush();
    gateway.unsubscribe();
    expect(received).toEqual(['orch.api.ci.cmd.workflow.w1']);
  });

  it('only the service identity may ask an aggregate host for a state: the consumer and producers are refused at the server', async () => {
    const host = new AggregateHost({
      nc: service,
      store: await JetStreamEventStore.connect(service),
      definition: conversationAggregate,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
    });
    host.start();
    try {
      await service.flush();
      expect(await new AggregateStateClient(service).read('conversation', 'c1')).toEqual({ status: 'none' });
      const seen: string[] = [];
      const spy = service.subscribe('orch.state.>', { callback: (_, m) => seen.push(m.subject) });
      await service.flush();
      for (const user of [CONSUMER_USER, producerUser('ci')]) {
        const outside = await as(user);
        await expect(outside.request('orch.state.conversation.c1', new Uint8Array(0), { timeout: 1_000 }), user).rejects.toMatchObject({
          code: 'PERMISSIONS_VIOLATION',
        });
        await expect(new AggregateStateClient(outside, 'orch', 1_000).read('conversation', 'c1'), user).rejects.toMatchObject({
          code: 'PERMISSIONS_VIOLATION',
        });
      }
      await service.flush();
      spy.unsubscribe();
      expect(seen).toEqual([]);
    } finally {
      await host.stop();
    }
  });

  it('no password, a wrong password or an unknown user cannot connect', async () => {
    await expect(connect({ servers: nats.server.url, maxReconnectAttempts: 0 })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(nats.connectAs(CONSUMER_USER, { password: 'not-the-password' })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(connect({ servers: nats.server.url, user: 'admin', pass: 'admin', maxReconnectAttempts: 0 })).rejects.toMatchObject({
      code: 'AUTHORIZATION_VIOLATION',
    });
  });

  it('keeps the passwords in a 0600 file in a 0700 folder, and only bcrypt hashes in the server config', async () => {
    const file = credentialsFile(nats.server.storeDir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(nats.server.storeDir)).mode & 0o777).toBe(0o700);
    const configFile = path.join(nats.server.storeDir, 'nats-server.conf');
    expect((await stat(configFile)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, 'utf8')) as { identities: Record<string, { password: string }> };
    expect(Object.keys(stored.identities).sort()).toEqual([CONSUMER_USER, producerUser('ci'), producerUser('deploy-bot'), SERVICE_USER].sort());
    const config = await readFile(configFile, 'utf8');
    for (const { password } of Object.values(stored.identities)) expect(config).not.toContain(password);
    expect(config.match(/"\$2[ab]\$10\$/g)).toHaveLength(4);
  });

  it('reuses the same credentials after a restart: the consumer keeps reading where it was', async () => {
    const file = credentialsFile(nats.server.storeDir);
    const before = await readFile(file, 'utf8');
    await Promise.all(opened.splice(0).map((nc) => nc.close().catch(() => undefined)));
    await nats.restart();
    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    service = await as(SERVICE_USER);
    jsm = await service.jetstreamManager();
    await service.jetstream().publish('orch.events.task.TaskFailed', encode({ type: 'TaskFailed' }), { msgID: 'ev-TaskFailed' });
    const consumer = await as(CONSUMER_USER);
    const reader = await consumer.jetstream().consumers.get(PUBLIC.streamName, 'outside-reader');
    const types: string[] = [];
    for await (const message of await reader.fetch({ max_messages: 5, expires: 1_000 })) {
      types.push((message.json() as { type: string }).type);
      message.ack();
    }
    expect(types).toEqual(['TaskFailed']);
  });
});

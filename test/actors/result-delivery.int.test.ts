import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryAggregate } from '../../actors/aggregates/delivery.ts';
import { taskAggregate } from '../../actors/aggregates/task.ts';
import { ResultReactor, type ResultMessage } from '../../actors/reactors/result-reactor.ts';
import { AggregateHost } from '../../actors/runtime/aggregate-host.ts';
import { AggregateStateClient } from '../../actors/runtime/aggregate-state-client.ts';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { taskTypeDescriptors } from '../../adapters/executors/registry.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { KvCheckpointStore } from '../../adapters/nats/kv-checkpoint-store.ts';
import { HttpWebhookSender } from '../../adapters/webhook/http-webhook-sender.ts';
import { verifyWebhookSignature } from '../../adapters/webhook/webhook-signature.ts';
import { systemClock } from '../../infra/system-clock.ts';
import { streamName } from '../../domain/streams.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';

// The result reactor's webhook and NATS targets on a real nats-server and a real HTTP receiver:
// signed POSTs, retries with every attempt recorded on the Delivery, dead-lettering after the
// last try, and the NATS result message.

const SECRET = 'webhook-secret-for-tests';
const logger = pino({ level: 'silent' });

let server: TestNatsServer;
let nc: NatsConnection;
let store: JetStreamEventStore;
let commands: CommandClient;
let reactor: ResultReactor;
const hosts: AggregateHost<never, never, never>[] = [];
let receiver: Server;
let receiverUrl: string;
/** Status codes the receiver answers with, in order, per path; 200 once the list is used up. */
const plans = new Map<string, number[]>();
const received: { path: string; body: string; headers: IncomingMessage['headers']; verified: boolean }[] = [];

beforeAll(async () => {
  server = await startTestNatsServer();
  nc = await connectNats(server.url);
  store = await JetStreamEventStore.connect(nc);
  for (const definition of [taskAggregate, deliveryAggregate]) {
    const host = new AggregateHost({ nc, store, definition: definition as never, clock: systemClock, logger });
    host.start();
    hosts.push(host as never);
  }
  await nc.flush();
  commands = new CommandClient(nc);
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verified = verifyWebhookSignature({
        secret: SECRET,
        signature: req.headers['x-orch-signature'] as string,
        timestamp: req.headers['x-orch-timestamp'] as string,
        body,
      }).ok;
      received.push({ path: req.url ?? '', body, headers: req.headers, verified });
      const status = plans.get(req.url ?? '')?.shift() ?? 200;
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  reactor = new ResultReactor({
    store,
    checkpoints: await KvCheckpointStore.connect(nc),
    commands,
    deliveryState: (deliveryId) => new AggregateStateClient(nc).read('delivery', deliveryId),
    webhooks: new HttpWebhookSender({ secret: SECRET, timeoutMs: 2_000 }),
    webhookMaxAttempts: 3,
    webhookDelayMs: () => 50,
    publish: (subject, payload) => nc.publish(subject, payload),
    logger,
    taskTypes: taskTypeDescriptors,
  });
  await reactor.start();
});

afterAll(async () => {
  await reactor?.stop();
  await Promise.all(hosts.map((h) => h.stop()));
  await new Promise((resolve) => receiver?.close(resolve));
  await nc?.close();
  await server?.dispose();
});

async function runTask(taskId: string, replyTo: Record<string, unknown>, result: unknown): Promise<void> {
  const send = async (type: string, data: Record<string, unknown>) => {
    const reply = await commands.forward({ category: 'task', id: taskId }, { commandId: `${type}-${taskId}`, type, actor: 'test', data });
    expect(reply.status, JSON.stringify(reply)).toBe('accepted');
  };
  await send('QueueTask', { taskType: 'git-status', pool: 'local-ops', payload: { repository: 'acme' }, timeoutMs: 60_000, replyTo, requestedBy: 'U1' });
  await send('AssignTask', { workerId: 'w1', attempt: 1 });
  await send('CompleteTask', { attempt: 1, result, durationMs: 12 });
}

async function deliveryEvents(taskId: string, until: string): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const types = (await store.read(streamName('delivery', taskId))).events.map((e) => e.type);
    if (types.includes(until)) return types;
    if (Date.now() > deadline) throw new Error(`no ${until} on delivery-${taskId}; have ${types.join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('webhook reply targets', () => {
  it('a 500 then a 503 then 200: three signed POSTs, two recorded failures, delivered', async () => {
    plans.set('/hook-a', [500, 503]);
    await runTask('wh-a', { kind: 'webhook', url: `${receiverUrl}/hook-a` }, { clean: true, branch: 'main' });
    expect(await deliveryEvents('wh-a', 'WebhookDelivered')).toEqual(['ReplyRequested', 'WebhookAttemptFailed', 'WebhookAttemptFailed', 'WebhookDelivered']);
    const posts = received.filter((r) => r.path === '/hook-a');
    expect(posts).toHaveLength(3);
    expect(posts.every((p) => p.verified)).toBe(true);
    expect(posts.map((p) => p.headers['x-orch-attempt'])).toEqual(['1', '2', '3']);
    expect(posts.every((p) => p.headers['x-orch-delivery'] === 'wh-a')).toBe(true);
    const body = JSON.parse(posts[2]!.body) as ResultMessage;
    expect(body).toMatchObject({ taskId: 'wh-a', taskType: 'git-status', outcome: 'completed', result: { clean: true, branch: 'main' }, requestedBy: 'U1' });
  });

  it('always 500: dead-lettered after the last of three attempts, with the last error', async () => {
    plans.set('/hook-b', [500, 500, 500, 500]);
    await runTask('wh-b', { kind: 'webhook', url: `${receiverUrl}/hook-b` }, { clean: false });
    expect(await deliveryEvents('wh-b', 'ReplyDeadLettered')).toEqual([
      'ReplyRequested',
      'WebhookAttemptFailed',
      'WebhookAttemptFailed',
      'WebhookAttemptFailed',
      'ReplyDeadLettered',
    ]);
    expect(received.filter((r) => r.path === '/hook-b')).toHaveLength(3);
    const dead = (await store.read(streamName('delivery', 'wh-b'))).events.at(-1)!;
    expect(dead.data).toMatchObject({ attempts: 3 });
    expect(String((dead.data as { lastError?: string }).lastError)).toContain('500');
  });

  it('a 404 is not retried: one POST, then the dead letter', async () => {
    plans.set('/hook-c', [404]);
    await runTask('wh-c', { kind: 'webhook', url: `${receiverUrl}/hook-c` }, {});
    expect(await deliveryEvents('wh-c', 'ReplyDeadLettered')).toEqual(['ReplyRequested', 'WebhookAttemptFailed', 'ReplyDeadLettered']);
    expect(received.filter((r) => r.path === '/hook-c')).toHaveLength(1);
  });
});

describe('NATS reply targets', () => {
  it('publishes the result message on the subject and records it', async () => {
    const subscription = nc.subscribe('results.for.test', { max: 1 });
    const first = (async () => {
      for await (const message of subscription) return JSON.parse(new TextDecoder().decode(message.data)) as ResultMessage;
      return undefined;
    })();
    await nc.flush();
    await runTask('nats-a', { kind: 'nats', subject: 'results.for.test' }, { clean: true });
    expect(await first).toMatchObject({ taskId: 'nats-a', outcome: 'completed', result: { clean: true } });
    expect(await deliveryEvents('nats-a', 'NatsReplyPublished')).toEqual(['ReplyRequested', 'NatsReplyPublished']);
  });
});

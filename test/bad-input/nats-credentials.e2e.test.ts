import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandReply } from '../../actors/runtime/command-envelope.ts';
import { readCredential } from '../../infra/nats/embedded-credentials.ts';
import { CONSUMER_USER, inboxPrefixOf, producerUser, SERVICE_USER } from '../../infra/nats/embedded-identities.ts';
import { startEmbeddedNatsServer } from '../../infra/nats/embedded-nats-server.ts';
import { bySize, commandFamilies, freshId, MAX_COMMAND_BYTES, refused, rejectedAs, validQueueTask, type CommandCase } from './command-cases.ts';
import { inChunks } from './generators.ts';
import { queryCases } from './query-cases.ts';
import { startProductUnderTest, type ProductUnderTest } from './product-under-test.ts';
import { fail, pass, report, type BadInputCase, type Verdict } from './verdicts.ts';

// The same bad commands (and queries) with credentials: the embedded nats-server with its
// generated identities, the aggregates role connected as `service`. Sent by the outside
// identities straight to the product's internal subjects (commands, queries, the event store,
// work queues), each
// publish is refused by NATS as a permissions violation and nothing is stored; sent by a
// producer through its gateway subject `orch.api.<producer>.cmd.<category>.<id>`, each is
// answered with a typed refusal. Then the producer's valid command is still accepted.

const PRODUCER = 'ci';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let dataDir: string;
let product: ProductUnderTest;
let consumer: NatsConnection;
let producer: NatsConnection;

/**
 * Publishes every case as `nc`, in order, and counts NATS's permission violations for publishes.
 * The server answers each refused publish with one -ERR, in the order of the publishes, so the
 * n-th violation is the n-th case's (the error text cannot name every subject: one holding a
 * quote, for one, does not parse back).
 */
async function publishRefused(nc: NatsConnection, cases: readonly (BadInputCase & { subject: string; body: string })[]): Promise<Verdict[]> {
  let violations = 0;
  const statuses = nc.status();
  void (async () => {
    for await (const status of statuses) {
      if ((status as { permissionContext?: { operation: string } }).permissionContext?.operation === 'publish') violations += 1;
    }
  })();
  for (const c of cases) nc.publish(c.subject, encoder.encode(c.body));
  await nc.flush();
  const deadline = Date.now() + 10_000;
  while (violations < cases.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  (statuses as unknown as { stop?: () => void }).stop?.();
  return cases.map((c, i) => (i < violations ? pass(c) : fail(c, `no permissions violation reported (${violations} for ${cases.length} publishes)`)));
}

/** What the gateway must answer: the case's own expectation where it is about a door, size or category; else any typed refusal. */
function gatewayCheck(c: CommandCase): CommandCase['check'] {
  if (c.group.startsWith('subject: unknown category')) return rejectedAs('UnknownCategory');
  if (c.group.startsWith('door:')) return c.check;
  if (Buffer.byteLength(c.body) > MAX_COMMAND_BYTES && !c.group.startsWith('subject:')) return bySize(c.body);
  return refused;
}

async function askGateway(c: CommandCase): Promise<Verdict> {
  try {
    const answer = await producer.request(c.subject, encoder.encode(c.body), { timeout: 10_000 });
    const reply = JSON.parse(decoder.decode(answer.data)) as CommandReply;
    const failure = gatewayCheck(c)(reply);
    return failure === undefined ? pass(c) : fail(c, failure);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'PERMISSIONS_VIOLATION' && c.natsRefuses) return pass(c);
    return fail(
      c,
      code === '503'
        ? 'no responders (NATS 503), no typed reply'
        : code === 'TIMEOUT'
          ? 'no answer within 10 s'
          : `request failed: ${(error as Error).message}`,
    );
  }
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'orch-bad-input-nats-'));
  const server = await startEmbeddedNatsServer({ dataDir, identities: { prefix: 'orch', producers: [PRODUCER] } });
  const service = server.service!;
  const credential = async (user: string) => (await readCredential(server.storeDir, user))!;
  // The policy names the producer as a requester, so its commands reach validation and the doors.
  const policyFile = path.join(dataDir, 'policy.json');
  await writeFile(policyFile, JSON.stringify({ roles: { requester: ['*', `api:${PRODUCER}`] } }));
  product = await startProductUnderTest(
    ['aggregates'],
    { NATS_API_PRODUCERS: PRODUCER, ORCH_POLICY_FILE: policyFile },
    {
      url: server.url,
      env: { NATS_USER: service.user, NATS_PASSWORD: service.password },
      connectOptions: { user: service.user, pass: service.password },
      async dispose() {
        await server.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    },
  );
  const asConsumer = await credential(CONSUMER_USER);
  consumer = await connect({
    servers: server.url,
    user: asConsumer.user,
    pass: asConsumer.password,
    inboxPrefix: inboxPrefixOf(asConsumer.user),
    name: 'bad-input-consumer',
  });
  const asProducer = await credential(producerUser(PRODUCER));
  producer = await connect({
    servers: server.url,
    user: asProducer.user,
    pass: asProducer.password,
    inboxPrefix: inboxPrefixOf(asProducer.user),
    name: 'bad-input-producer',
  });
}, 120_000);

afterAll(async () => {
  await consumer?.close().catch(() => undefined);
  await producer?.close().catch(() => undefined);
  await product?.stop();
});

describe('bad commands with credentials', () => {
  it('without the right credentials nobody connects: no password, a wrong one, an unknown user', async () => {
    const url = product.server.url;
    for (const options of [{}, { user: SERVICE_USER, pass: 'wrong' }, { user: 'nobody', pass: 'x' }, { user: producerUser(PRODUCER), pass: '' }]) {
      const error = await connect({ servers: url, ...options, reconnect: false, timeout: 3_000 }).then(
        async (nc) => {
          await nc.close();
          return undefined;
        },
        (e: unknown) => e as { code?: string },
      );
      expect(error?.code, JSON.stringify(options)).toBe('AUTHORIZATION_VIOLATION');
    }
  });

  it('as the consumer and producer identities, on internal subjects: every publish a permissions violation, nothing stored; through the gateway: typed refusals; then a valid command is accepted', async () => {
    const started = Date.now();
    const inside = commandFamilies((category, id) => `orch.cmd.${category}.${id}`).flatMap((f) => f.cases);
    const asKind = (kind: string, subject: (c: CommandCase, i: number) => string) =>
      inside.map((c, i) => ({ ...c, group: `${kind}: ${c.group}`, subject: subject(c, i) }));
    const verdicts: Verdict[] = [];
    const written: string[] = [];
    const batch = async (name: string, run: () => Promise<Verdict[]>) => {
      const before = await product.eventCount();
      verdicts.push(...(await run()));
      const after = await product.eventCount();
      if (after !== before) written.push(`${name}: ${after - before} event(s) written`);
    };
    const esSubject = (c: CommandCase, i: number) => `orch.es.${['task', 'workflow', 'plan'][i % 3]}.${freshId()}`;
    await batch('consumer → orch.cmd', () =>
      publishRefused(
        consumer,
        asKind('consumer → orch.cmd', (c) => c.subject),
      ),
    );
    await batch('consumer → orch.es', () => publishRefused(consumer, asKind('consumer → orch.es (the event store)', esSubject).slice(0, 500)));
    await batch('producer → orch.cmd', () =>
      publishRefused(
        producer,
        asKind('producer → orch.cmd', (c) => c.subject),
      ),
    );
    await batch('producer → orch.es, orch.work, orch.events', () =>
      publishRefused(
        producer,
        asKind(
          'producer → orch.es / orch.work / orch.events',
          (c, i) => [esSubject(c, i), `orch.work.local-ops.${freshId()}`, `orch.events.task.${freshId()}`][i % 3]!,
        ).slice(0, 600),
      ),
    );
    // Queries are the product's own (the service identity's): outside identities may not ask them.
    const queries = queryCases();
    await batch('consumer → orch.query', () =>
      publishRefused(
        consumer,
        queries.map((q) => ({ ...q, group: `consumer → orch.query: ${q.group}` })),
      ),
    );
    await batch('producer → orch.query', () =>
      publishRefused(
        producer,
        queries.map((q) => ({ ...q, group: `producer → orch.query: ${q.group}` })),
      ),
    );
    const throughGateway = commandFamilies((category, id) => `orch.api.${PRODUCER}.cmd.${category}.${id}`).flatMap((f) =>
      f.cases.map((c) => ({ ...c, group: `gateway: ${c.group}` })),
    );
    await batch('producer → gateway', () => inChunks(throughGateway, 64, askGateway));
    const failures = report('NATS commands with credentials', verdicts, Date.now() - started);
    expect(product.unhealthy(), product.role.output().slice(-3_000)).toBeUndefined();
    expect(consumer.isClosed() || producer.isClosed(), 'an outside connection was closed by the server').toBe(false);
    expect(written).toEqual([]);

    // Still serving: the producer's valid QueueTask through the gateway is accepted and recorded.
    const before = await product.eventCount();
    const id = freshId();
    const ok = await producer.request(
      `orch.api.${PRODUCER}.cmd.task.${id}`,
      encoder.encode(JSON.stringify({ commandId: `ok-${id}`, type: 'QueueTask', actor: 'forged', data: validQueueTask() })),
      { timeout: 10_000 },
    );
    const reply = JSON.parse(decoder.decode(ok.data)) as CommandReply;
    expect(reply, JSON.stringify(reply)).toMatchObject({ status: 'accepted', events: 1 });
    expect(await product.eventCount()).toBe(before + 1);
    expect(failures).toEqual([]);
  });
});

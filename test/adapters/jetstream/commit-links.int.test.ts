import type { JetStreamClient, NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommit } from '../../../adapters/jetstream/commit-codec.ts';
import { JetStreamEventStore } from '../../../adapters/jetstream/jetstream-event-store.ts';
import { prepareAppend } from '../../../domain/ports/validate-append.ts';
import { parseStreamName, type StreamName } from '../../../domain/streams.ts';
import { connectNats } from '../../../infra/nats/connect-nats.ts';
import { oneEvent, uniqueStream } from '../../support/events.ts';
import { startTestNatsServer, type TestNatsServer } from '../../support/nats.ts';

// Each commit names a few earlier commits of its stream so that reads near the tail fetch
// them in parallel. Those links are only a shortcut: commits written before they existed, and
// links that point anywhere else, must still read exactly right.

describe('JetStream event store: links between commits', () => {
  let server: TestNatsServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let store: JetStreamEventStore;
  beforeAll(async () => {
    server = await startTestNatsServer();
    nc = await connectNats(server.url);
    js = nc.jetstream();
    store = await JetStreamEventStore.connect(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await server?.dispose();
  });

  /** Publishes a one-event commit as the adapter does, but with the links given (none: the format before links). */
  const publishCommit = async (stream: StreamName, revision: number, previousSeq: number, links?: (seqs: number[]) => number[]) => {
    const events = prepareAppend(stream, oneEvent('Counted', { i: revision }));
    const { category, id } = parseStreamName(stream);
    const { body, headers } = encodeCommit(BigInt(revision), events, links ? links([previousSeq]) : []);
    const ack = await js.publish(`orch.es.${category}.${id}`, body, { headers, msgID: events[0]!.id, expect: { lastSubjectSequence: previousSeq } });
    return ack.seq;
  };

  const revisions = async (stream: StreamName, options: Parameters<JetStreamEventStore['read']>[1] = {}) =>
    (await store.read(stream, options)).events.map((e) => Number(e.revision));
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('reads streams whose commits name no earlier commits, and links new commits onto them', async () => {
    const stream = uniqueStream();
    let seq = 0;
    for (let r = 0; r < 12; r++) seq = await publishCommit(stream, r, seq);
    for (let r = 12; r < 15; r++) await store.append(stream, oneEvent('Counted', { i: r }), BigInt(r - 1));
    expect(await revisions(stream)).toEqual(range(0, 14));
    expect(await revisions(stream, { fromRevision: 5n })).toEqual(range(5, 14));
    expect(await revisions(stream, { direction: 'backward', maxCount: 6 })).toEqual(range(9, 14).reverse());
    expect(await revisions(stream, { direction: 'backward', fromRevision: 20n, maxCount: 2 })).toEqual([14, 13]);
  });

  it('reads right when the links point at other streams or skip commits', async () => {
    const [stream, other] = [uniqueStream(), uniqueStream()];
    const otherSeqs: number[] = [];
    for (let r = 0; r < 5; r++) otherSeqs.push(await publishCommit(other, r, otherSeqs.at(-1) ?? 0));
    const seqs: number[] = [];
    for (let r = 0; r < 20; r++) {
      const previous = seqs.at(-1) ?? 0;
      // Odd commits link to the other stream; even ones skip their stream's commit before last.
      const links = r % 2 === 1 ? () => [previous, ...otherSeqs] : () => [previous, ...seqs.slice(0, -2).reverse()];
      seqs.push(await publishCommit(stream, r, previous, r === 0 ? undefined : links));
    }
    expect(await revisions(stream)).toEqual(range(0, 19));
    expect(await revisions(stream, { fromRevision: 3n })).toEqual(range(3, 19));
    expect(await revisions(stream, { direction: 'backward' })).toEqual(range(0, 19).reverse());
    expect(await revisions(other)).toEqual(range(0, 4));
  });

  it('a stream appended through the adapter is read back through its links, whatever the mix of commit sizes', async () => {
    const stream = uniqueStream();
    let revision = -1n;
    for (let i = 0; i < 100; i++) {
      const events = Array.from({ length: 1 + (i % 3) }, () => oneEvent('Counted')[0]!);
      // One command per commit: events of one append share a command id.
      const commandId = crypto.randomUUID();
      const result = await store.append(
        stream,
        events.map((e) => ({ ...e, metadata: { ...e.metadata, commandId } })),
        revision < 0n ? 'no_stream' : revision,
      );
      revision = result.revision;
    }
    const total = Number(revision) + 1;
    expect(await revisions(stream)).toEqual(range(0, total - 1));
    // Near the tail, a longer tail of a long stream (walked too), and far from the tail (by consumer).
    for (const from of [0, 1, 5, total - 40, total - 33, total - 32, total - 20, total - 3, total - 1]) {
      expect(await revisions(stream, { fromRevision: BigInt(from) })).toEqual(range(from, total - 1));
    }
    expect(await revisions(stream, { direction: 'backward', fromRevision: 10n, maxCount: 4 })).toEqual([10, 9, 8, 7]);
  });
});

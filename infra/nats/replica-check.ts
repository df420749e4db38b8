import type { JetStreamManager } from 'nats';
import type { Logger } from 'pino';

// NATS_REPLICAS applies when a stream or KV bucket is created; one that already exists keeps
// its replicas (changing an event log's replication is an operator's decision, never a side
// effect of a restart). So at start every stream of the product with fewer replicas than asked
// is named in one warning line each: the operator sees what a node's loss would take away.

export interface StreamReplicas {
  readonly stream: string;
  readonly replicas: number;
}

/** The product's streams under `prefix`: `<PREFIX>_EVENTS`, `_WORK`, `_PUBLIC_EVENTS`…, and its KV buckets `KV_<prefix>_…`. */
export const isProductStream = (stream: string, prefix: string): boolean =>
  stream.startsWith(`${prefix.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_`) || stream.startsWith(`KV_${prefix}_`);

export function fewerReplicasThanWanted(streams: readonly StreamReplicas[], prefix: string, wanted: number): StreamReplicas[] {
  return streams.filter((s) => isProductStream(s.stream, prefix) && s.replicas < wanted).sort((a, b) => a.stream.localeCompare(b.stream));
}

/** Lists the server's streams and warns once per product stream with fewer replicas than `wanted`; returns them. */
export async function warnOfFewerReplicas(jsm: JetStreamManager, prefix: string, wanted: number, logger: Logger): Promise<StreamReplicas[]> {
  const streams: StreamReplicas[] = [];
  for await (const info of jsm.streams.list()) streams.push({ stream: info.config.name, replicas: info.config.num_replicas ?? 1 });
  const short = fewerReplicasThanWanted(streams, prefix, wanted);
  for (const { stream, replicas } of short) {
    logger.warn(
      { stream, replicas, wanted },
      `JetStream stream ${stream} has ${replicas} replica${replicas === 1 ? '' : 's'} but NATS_REPLICAS asks for ${wanted}; it was created before and is left as it is (raise it with "nats stream edit ${stream} --replicas ${wanted}")`,
    );
  }
  return short;
}

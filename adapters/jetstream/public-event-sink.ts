import { headers as natsHeaders, type JetStreamClient, type NatsConnection } from 'nats';
import type { PublicEvent } from '../../domain/events/cloud-event.ts';
import type { PublicEventSink } from '../../domain/ports/public-event-sink.ts';
import { ensurePublicEventStream, publicEventNames, type PublicEventNames } from './public-event-stream.ts';

// Publishes public events on `<prefix>.events.<category>.<EventType>` in CloudEvents'
// structured JSON mode. `Nats-Msg-Id` is the event id, so a re-publish is dropped by the server.

export interface JetStreamPublicEventSinkOptions {
  /** Subject prefix, default `orch`. */
  readonly prefix?: string;
  readonly duplicateWindowMs?: number;
  /** How long to wait for the stream's ack before treating a publish as failed. */
  readonly ackTimeoutMs?: number;
  /** Replicas of the public stream when this creates it, default 1. */
  readonly replicas?: number;
}

export class JetStreamPublicEventSink implements PublicEventSink {
  private readonly encoder = new TextEncoder();

  private constructor(
    private readonly js: JetStreamClient,
    readonly names: PublicEventNames,
    private readonly ackTimeoutMs: number,
  ) {}

  /** Creates or verifies the public stream, then returns a sink that publishes to it. */
  static async connect(nc: NatsConnection, options: JetStreamPublicEventSinkOptions = {}): Promise<JetStreamPublicEventSink> {
    const names = publicEventNames(options.prefix ?? 'orch');
    await ensurePublicEventStream(await nc.jetstreamManager(), names, options.duplicateWindowMs, options.replicas);
    return new JetStreamPublicEventSink(nc.jetstream(), names, options.ackTimeoutMs ?? 5_000);
  }

  subjectOf({ category, cloudEvent }: PublicEvent): string {
    return `${this.names.subjectPrefix}.${category}.${cloudEvent.type}`;
  }

  async publish(event: PublicEvent): Promise<{ duplicate: boolean }> {
    const h = natsHeaders();
    h.set('Content-Type', 'application/cloudevents+json; charset=utf-8');
    const ack = await this.js.publish(this.subjectOf(event), this.encoder.encode(JSON.stringify(event.cloudEvent)), {
      headers: h,
      msgID: event.cloudEvent.id,
      // The ack must come from this stream: another stream on the same subjects would not de-duplicate.
      expect: { streamName: this.names.streamName },
      timeout: this.ackTimeoutMs,
    });
    return { duplicate: ack.duplicate };
  }
}

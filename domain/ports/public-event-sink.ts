import type { PublicEvent } from '../events/cloud-event.ts';

/** Where public events go for outside consumers (a JetStream stream in the NATS adapter). */
export interface PublicEventSink {
  /**
   * Resolves once the event is durably stored; rejects when that is not certain, and may then
   * be called again with the same event. Idempotent by `cloudEvent.id`: a repeat is stored once.
   */
  publish(event: PublicEvent): Promise<{ readonly duplicate: boolean }>;
}

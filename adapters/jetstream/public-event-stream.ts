import { DiscardPolicy, nanos, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from 'nats';

// The JetStream stream outside consumers read public events from, created or verified at
// start. Limits retention keeps every message for every consumer (work-queue or interest
// retention would let one consumer's ack take a message away from the others). The duplicate
// window is what makes re-publishing after a crash harmless: the publisher saves its checkpoint
// only after acks, so at most the events since the last checkpoint go out again, within
// seconds, and the server drops them by `Nats-Msg-Id` (the event id).

export interface PublicEventNames {
  /** JetStream stream name, e.g. ORCH_PUBLIC_EVENTS. */
  readonly streamName: string;
  /** Subject prefix of public events, e.g. `orch.events`. */
  readonly subjectPrefix: string;
}

export const publicEventNames = (prefix: string): PublicEventNames => ({
  streamName: `${prefix.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_PUBLIC_EVENTS`,
  subjectPrefix: `${prefix}.events`,
});

/** Generous next to the seconds a restart takes, so a re-published tail is always recognised. */
export const PUBLIC_DUPLICATE_WINDOW_MS = 60 * 60 * 1000;

export class PublicEventStreamMisconfigured extends Error {
  override readonly name = 'PublicEventStreamMisconfigured';
}

/** `replicas` applies when the stream is created; an existing stream keeps its own. */
export async function ensurePublicEventStream(
  jsm: JetStreamManager,
  names: PublicEventNames,
  duplicateWindowMs = PUBLIC_DUPLICATE_WINDOW_MS,
  replicas = 1,
): Promise<void> {
  const subjects = `${names.subjectPrefix}.>`;
  const wanted: Partial<StreamConfig> = {
    name: names.streamName,
    description: 'Domain events as CloudEvents 1.0 JSON for outside consumers; schemas in schemas/events/',
    subjects: [subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(duplicateWindowMs),
    num_replicas: replicas,
  };
  try {
    const { config: c } = await jsm.streams.info(names.streamName);
    const problems = [
      c.storage !== StorageType.File && 'storage is not file',
      c.retention !== RetentionPolicy.Limits && `retention is ${c.retention} (consumers would take messages from one another)`,
      (c.duplicate_window ?? 0) < nanos(duplicateWindowMs) &&
        `duplicate_window is below ${duplicateWindowMs / 60_000} minutes (re-published events could be stored twice)`,
      !c.subjects?.includes(subjects) && `subjects do not include ${subjects}`,
    ].filter(Boolean);
    if (problems.length > 0) {
      throw new PublicEventStreamMisconfigured(`JetStream stream ${names.streamName} exists but ${problems.join(', ')}`);
    }
  } catch (error) {
    if (error instanceof PublicEventStreamMisconfigured) throw error;
    if (!/stream not found/i.test((error as Error).message)) throw error;
    await jsm.streams.add(wanted);
  }
}

import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from 'nats';

// The JetStream stream that holds the event log, created or verified at start.

export interface EventLogNames {
  /** JetStream stream name, e.g. ORCH_EVENTS. */
  readonly streamName: string;
  /** Subject prefix of event streams, e.g. `orch.es`. */
  readonly subjectPrefix: string;
}

export const eventLogNames = (prefix: string): EventLogNames => ({
  streamName: `${prefix.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_EVENTS`,
  subjectPrefix: `${prefix}.es`,
});

export class EventLogMisconfigured extends Error {
  override readonly name = 'EventLogMisconfigured';
}

/**
 * `replicas` applies when the stream is created; an existing stream keeps its own (see
 * infra/nats/replica-check.ts, which reports one with fewer): changing an event log's
 * replication is an operator's decision.
 */
export async function ensureEventLogStream(jsm: JetStreamManager, names: EventLogNames, replicas = 1): Promise<void> {
  const wanted: Partial<StreamConfig> = {
    name: names.streamName,
    subjects: [`${names.subjectPrefix}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    deny_delete: true,
    deny_purge: true,
    allow_direct: true,
    num_replicas: replicas,
  };
  try {
    const info = await jsm.streams.info(names.streamName);
    const c = info.config;
    const problems = [
      c.storage !== StorageType.File && 'storage is not file',
      !c.deny_delete && 'deny_delete is off',
      !c.deny_purge && 'deny_purge is off',
      !c.allow_direct && 'allow_direct is off',
      (c.max_age ?? 0) !== 0 && 'max_age is set (events would expire)',
      (c.max_msgs ?? -1) !== -1 && 'max_msgs is set (events would be dropped)',
      !c.subjects?.includes(`${names.subjectPrefix}.>`) && `subjects do not include ${names.subjectPrefix}.>`,
    ].filter(Boolean);
    if (problems.length > 0) {
      throw new EventLogMisconfigured(`JetStream stream ${names.streamName} exists but ${problems.join(', ')}`);
    }
  } catch (error) {
    if (error instanceof EventLogMisconfigured) throw error;
    if (!/stream not found/i.test((error as Error).message)) throw error;
    await jsm.streams.add(wanted);
  }
}

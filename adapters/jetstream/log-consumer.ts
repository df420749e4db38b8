import { AckPolicy, ConsumerEvents, DeliverPolicy, nanos, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from 'nats';

// An ephemeral pull consumer over the event log that notices when it stops delivering.
//
// Not nats.js's ordered consumer: that one is an R1 consumer on one server of the stream's
// group (in a cluster often the stream leader). When that server is killed, nats.js 2.29 asks the
// dead consumer for its info to decide what to do; the request times out, which it does not read
// as "consumer not found", so it retries every `expires` forever: it neither recreates the
// consumer nor ends the iterator, and after a reconnect its heartbeat monitor stays off. The
// subscription then stalls without a word. Here a stall ends the iterator (with `stalled` saying
// why), and the caller starts a new consumer after the last message it handled.

export interface LogConsumer {
  /** Matching messages in stream order, each once; ends when stopped, or when it stalls. */
  readonly messages: AsyncIterable<JsMsg>;
  /** Messages matching the filter from the start sequence on, when the consumer was created. */
  readonly numPending: number;
  /** Why it ended by itself; undefined while it runs or after a plain stop(). */
  readonly stalled: string | undefined;
  /** Ends the iterator and deletes the consumer (best effort). */
  stop(): void;
}

export interface LogConsumerOptions {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly stream: string;
  /** One subject filter: consumers with several need nats-server 2.10. */
  readonly filter: string;
  readonly startSeq: number;
  /** The stream's last sequence matching the filter, 0 when none. */
  readonly lastSeq: () => Promise<number>;
  readonly timing?: Partial<typeof DEFAULT_TIMING>;
}

const DEFAULT_TIMING = {
  /** The server sends one while a pull waits idle; two missed in a row mean the consumer is gone. */
  heartbeatMs: 5_000,
  /** How often an idle consumer compares the log's last sequence with its position. */
  probeMs: 2_000,
  /** How long a message may sit in the log, undelivered to a waiting reader, before that is a stall. */
  stallMs: 6_000,
};

export async function openLogConsumer(options: LogConsumerOptions): Promise<LogConsumer> {
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  const { jsm, stream } = options;
  // The settings nats.js gives its ordered consumers: no acks, in memory, one replica.
  const info = await jsm.consumers.add(stream, {
    filter_subject: options.filter,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: Math.max(1, options.startSeq),
    ack_policy: AckPolicy.None,
    max_deliver: 1,
    mem_storage: true,
    num_replicas: 1,
    inactive_threshold: nanos(5 * 60_000),
  });
  let iterator: ConsumerMessages;
  try {
    iterator = await options.js.consumers.getPullConsumerFor(info).consume({ max_messages: 1024, idle_heartbeat: timing.heartbeatMs });
  } catch (error) {
    void jsm.consumers.delete(stream, info.name).catch(() => undefined);
    throw error;
  }

  let stopped = false;
  let stalled: string | undefined;
  let nextSeq = Math.max(1, options.startSeq);
  let deliverySeq = 0;
  let delivered = 0;
  /** Set while the reader waits for the next message: only then is silence a sign of a stall. */
  let waitingSince: number | undefined;
  /** When a probe first saw the log hold a message this consumer has not delivered. */
  let behindSince: number | undefined;

  const stop = (reason?: string): void => {
    if (stopped) return;
    stopped = true;
    stalled = reason;
    clearInterval(probe);
    iterator.stop();
    // Not awaited: on a dead server this times out, and the consumer goes by inactivity anyway.
    void jsm.consumers.delete(stream, info.name).catch(() => undefined);
  };

  void (async () => {
    for await (const status of await iterator.status()) {
      if (status.type === ConsumerEvents.HeartbeatsMissed) {
        // A reader busy elsewhere leaves no pull open, so no heartbeats: not a stall by itself.
        if (waitingSince !== undefined && Date.now() - waitingSince >= timing.heartbeatMs) stop(`${String(status.data)} heartbeats missed`);
      } else if (
        status.type === ConsumerEvents.ConsumerDeleted ||
        status.type === ConsumerEvents.ConsumerNotFound ||
        status.type === ConsumerEvents.StreamNotFound
      ) {
        stop(status.type);
      }
    }
  })().catch(() => undefined);

  // Heartbeats are not enough: after a reconnect nats.js stops watching them until the dead
  // consumer answers, which it never does. So an idle reader also checks that the log has
  // nothing for it.
  let probing = false;
  const probe = setInterval(() => {
    if (probing || stopped || waitingSince === undefined || Date.now() - waitingSince < timing.probeMs) return;
    probing = true;
    const before = delivered;
    options
      .lastSeq()
      .then((last) => {
        if (stopped || delivered !== before || waitingSince === undefined) return;
        if (last < nextSeq) {
          behindSince = undefined;
          return;
        }
        behindSince ??= Date.now();
        if (Date.now() - behindSince >= timing.stallMs)
          stop(`nothing delivered for ${Math.round((Date.now() - behindSince) / 1000)} s while the log holds sequence ${last} (next expected ${nextSeq})`);
      })
      // The log unreachable (an election under way): nothing to compare with this time.
      .catch(() => undefined)
      .finally(() => {
        probing = false;
      });
  }, timing.probeMs);
  probe.unref();

  async function* messages(): AsyncGenerator<JsMsg> {
    const it = iterator[Symbol.asyncIterator]();
    try {
      for (;;) {
        waitingSince = Date.now();
        const next = await it.next();
        waitingSince = undefined;
        if (next.done) return;
        const message = next.value;
        delivered++;
        behindSince = undefined;
        // A message lost on the way (a reconnect, a slow-consumer drop): start again after the last one.
        if (message.info.deliverySequence !== deliverySeq + 1) {
          stop(`delivery ${deliverySeq + 1} expected, ${message.info.deliverySequence} came`);
          return;
        }
        deliverySeq = message.info.deliverySequence;
        nextSeq = message.seq + 1;
        yield message;
      }
    } finally {
      waitingSince = undefined;
      stop();
    }
  }

  return {
    messages: { [Symbol.asyncIterator]: messages },
    numPending: info.num_pending,
    get stalled() {
      return stalled;
    },
    stop: () => stop(),
  };
}

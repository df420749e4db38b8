import type { NatsConnection } from 'nats';
import pRetry, { AbortError } from 'p-retry';
import type { CommandEnvelope, CommandReply } from './command-envelope.ts';

// Sends a command as a NATS request and returns the typed reply. A timeout does not mean the
// command failed: retry with the same commandId, which is always safe.

export class CommandTimedOut extends Error {
  override readonly name = 'CommandTimedOut';
  constructor(readonly subject: string, readonly commandId: string, timeoutMs: number) {
    super(`no reply to command ${commandId} on ${subject} within ${timeoutMs} ms; it may still have been applied — retry with the same commandId`);
  }
}

export class NoAggregateHost extends Error {
  override readonly name = 'NoAggregateHost';
  constructor(readonly subject: string) {
    super(`no host is taking commands on ${subject}; is the aggregates role running?`);
  }
}

export interface CommandTarget {
  readonly category: string;
  readonly id: string;
}

type Envelope = Omit<CommandEnvelope, 'data'> & { data?: Record<string, unknown> };

export interface UntilAnsweredOptions {
  /** Stops retrying (the last error is thrown); the process is shutting down, or the caller gave up. */
  readonly signal?: AbortSignal;
  /** Longest wait between two tries; default 5 s. */
  readonly maxDelayMs?: number;
  /** Called before each wait, for a log line. */
  readonly onRetry?: (error: Error, attempt: number) => void;
}

export class CommandClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix = 'orch',
    private readonly timeoutMs = 5_000,
  ) {}

  async send(target: CommandTarget, envelope: Envelope, timeoutMs = this.timeoutMs): Promise<CommandReply> {
    const subject = `${this.prefix}.cmd.${target.category}.${target.id}`;
    try {
      const reply = await this.nc.request(subject, new TextEncoder().encode(JSON.stringify(envelope)), { timeout: timeoutMs });
      return JSON.parse(new TextDecoder().decode(reply.data)) as CommandReply;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '503') throw new NoAggregateHost(subject);
      if (code === 'TIMEOUT') throw new CommandTimedOut(subject, envelope.commandId, timeoutMs);
      throw error;
    }
  }

  /**
   * `send`, retried with jittered backoff under the same command id until a host answers with a
   * decision (accepted, rejected or invalid): no host, a timeout, a lost connection while NATS
   * reconnects, or a host that could not record (`failed`) are all tried again. Safe because a
   * repeated command id is answered with the original outcome. Gives up only when `signal` is
   * aborted or the connection is closed for good.
   */
  sendUntilAnswered(target: CommandTarget, envelope: Envelope, options: UntilAnsweredOptions = {}): Promise<CommandReply> {
    return pRetry(
      async () => {
        if (this.nc.isClosed()) throw new AbortError(new Error(`NATS connection closed; command ${envelope.commandId} not answered`));
        const reply = await this.send(target, envelope);
        if (reply.status === 'failed') throw new HostCouldNotRecord(reply);
        return reply;
      },
      {
        retries: Number.POSITIVE_INFINITY,
        minTimeout: 100,
        maxTimeout: options.maxDelayMs ?? 5_000,
        factor: 2,
        randomize: true,
        ...(options.signal && { signal: options.signal }),
        onFailedAttempt: ({ error, attemptNumber }) => options.onRetry?.(error, attemptNumber),
      },
    ).catch((error: unknown) => {
      // The host's last `failed` answer is a reply like any other once the caller stops waiting.
      if (error instanceof HostCouldNotRecord) return error.reply;
      throw error;
    });
  }
}

/** A host answered `failed` (it could not record); retried like no answer at all. */
class HostCouldNotRecord extends Error {
  constructor(readonly reply: Extract<CommandReply, { status: 'failed' }>) {
    super(`${reply.code}: ${reply.message}`);
  }
}

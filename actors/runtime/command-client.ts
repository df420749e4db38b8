import type { NatsConnection } from 'nats';
import pRetry, { AbortError } from 'p-retry';
import type { CommandCategory, CommandDataOf, CommandTypeOf, RejectionCodeOf } from '../../domain/commands/catalog.ts';
import { BROKER_CALL_BACKOFF } from '../../domain/backoff.ts';
import type { CommandEnvelope, CommandReply } from './command-envelope.ts';
import { pRetryTiming } from './retry-timing.ts';

// Sends a command as a NATS request and returns the typed reply. A timeout does not mean the
// command failed: retry with the same commandId, which is always safe.

export class CommandTimedOut extends Error {
  override readonly name = 'CommandTimedOut';
  constructor(
    readonly subject: string,
    readonly commandId: string,
    timeoutMs: number,
  ) {
    super(`no reply to command ${commandId} on ${subject} within ${timeoutMs} ms; it may still have been applied — retry with the same commandId`);
  }
}

export class NoAggregateHost extends Error {
  override readonly name = 'NoAggregateHost';
  constructor(readonly subject: string) {
    super(`no host is taking commands on ${subject}; is the aggregates role running?`);
  }
}

export interface CommandTarget<C extends CommandCategory = CommandCategory> {
  readonly category: C;
  readonly id: string;
}

/** A command as its sender writes it: type and data checked at compile time against the category's schemas. */
export type TypedEnvelope<C extends CommandCategory, T extends CommandTypeOf<C>> = Omit<CommandEnvelope, 'type' | 'data'> & {
  readonly type: T;
  readonly data: CommandDataOf<C, T>;
};

/** The reply to a command of category `C`: a rejection carries one of `C`'s codes. */
export type ReplyOf<C extends CommandCategory> = CommandReply<RejectionCodeOf<C>>;

/** A command whose type and data are only known at run time (the gateway forwarding an outside command). */
export type UntypedEnvelope = Omit<CommandEnvelope, 'data'> & { data?: Record<string, unknown> };

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

  send<C extends CommandCategory, T extends CommandTypeOf<C>>(
    target: CommandTarget<C>,
    envelope: TypedEnvelope<C, T>,
    timeoutMs = this.timeoutMs,
  ): Promise<ReplyOf<C>> {
    // The host answers with codes of this category (or a host-level refusal): its own protocol.
    return this.forward(target, envelope, timeoutMs) as Promise<ReplyOf<C>>;
  }

  /** Sends a command checked only at run time, by the host (outside commands the gateway forwards). */
  async forward(target: { readonly category: string; readonly id: string }, envelope: UntypedEnvelope, timeoutMs = this.timeoutMs): Promise<CommandReply> {
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
  async sendUntilAnswered<C extends CommandCategory, T extends CommandTypeOf<C>>(
    target: CommandTarget<C>,
    envelope: TypedEnvelope<C, T>,
    options: UntilAnsweredOptions = {},
  ): Promise<ReplyOf<C>> {
    // One plain try first: almost every command is answered at once, and a retry loop per command costs time.
    let tried = 0;
    if (!this.nc.isClosed() && !options.signal?.aborted) {
      tried = 1;
      try {
        const reply = await this.send(target, envelope);
        if (reply.status !== 'failed') return reply;
        options.onRetry?.(new HostCouldNotRecord(reply), 1);
      } catch (error) {
        options.onRetry?.(error instanceof Error ? error : new Error(String(error)), 1);
      }
    }
    return pRetry(
      async () => {
        if (this.nc.isClosed()) throw new AbortError(new Error(`NATS connection closed; command ${envelope.commandId} not answered`));
        const reply = await this.send(target, envelope);
        if (reply.status === 'failed') throw new HostCouldNotRecord(reply);
        return reply;
      },
      {
        retries: Number.POSITIVE_INFINITY,
        ...pRetryTiming({ ...BROKER_CALL_BACKOFF, ...(options.maxDelayMs !== undefined && { maxMs: options.maxDelayMs }) }),
        ...(options.signal && { signal: options.signal }),
        onFailedAttempt: ({ error, attemptNumber }) => options.onRetry?.(error, attemptNumber + tried),
      },
    ).catch((error: unknown) => {
      // The host's last `failed` answer is a reply like any other once the caller stops waiting.
      if (error instanceof HostCouldNotRecord) return error.reply as ReplyOf<C>;
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

import type { NatsConnection } from 'nats';
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

export class CommandClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix = 'orch',
    private readonly timeoutMs = 5_000,
  ) {}

  async send(target: CommandTarget, envelope: Omit<CommandEnvelope, 'data'> & { data?: Record<string, unknown> }, timeoutMs = this.timeoutMs): Promise<CommandReply> {
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
}

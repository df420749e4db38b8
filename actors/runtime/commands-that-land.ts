import type { Logger } from 'pino';
import type { CommandClient, CommandTarget } from './command-client.ts';
import type { CommandReply } from './command-envelope.ts';

// For process managers and reactors whose commands must land: each is retried under its own id
// until a host decides (CommandClient.sendUntilAnswered), and gives up only when the component
// stops (its AbortSignal) or the connection is closed for good.

type Envelope = Parameters<CommandClient['send']>[1];
export type SendThatLands = (target: CommandTarget, envelope: Envelope) => Promise<CommandReply>;

export const sendThatLands =
  (commands: CommandClient, signal: AbortSignal, logger: Logger, sender: string): SendThatLands =>
  (target, envelope) =>
    commands.sendUntilAnswered(target, envelope, {
      signal,
      // Quiet for a blip; a warning once the host has been missing for a few tries.
      onRetry: (error, attempt) => logger[attempt > 3 ? 'warn' : 'debug']({ err: error, sender, ...target, type: envelope.type, attempt }, 'command not answered yet; retrying'),
    });

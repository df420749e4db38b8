import type { Logger } from 'pino';
import type { CommandCategory, CommandTypeOf } from '../../domain/commands/catalog.ts';
import type { CommandClient, CommandTarget, ReplyOf, TypedEnvelope } from './command-client.ts';

// For process managers and reactors whose commands must land: each is retried under its own id
// until a host decides (CommandClient.sendUntilAnswered), and gives up only when the component
// stops (its AbortSignal) or the connection is closed for good.

export type SendThatLands = <C extends CommandCategory, T extends CommandTypeOf<C>>(
  target: CommandTarget<C>,
  envelope: TypedEnvelope<C, T>,
) => Promise<ReplyOf<C>>;

export const sendThatLands =
  (commands: CommandClient, signal: AbortSignal, logger: Logger, sender: string): SendThatLands =>
  <C extends CommandCategory, T extends CommandTypeOf<C>>(target: CommandTarget<C>, envelope: TypedEnvelope<C, T>) =>
    commands.sendUntilAnswered(target, envelope, {
      signal,
      // Quiet for a blip; a warning once the host has been missing for a few tries.
      onRetry: (error, attempt) =>
        logger[attempt > 3 ? 'warn' : 'debug']({ err: error, sender, ...target, type: envelope.type, attempt }, 'command not answered yet; retrying'),
    });

import type { CommandReply } from './command-envelope.ts';

// Reading a command's reply: accepted, rejected with a named reason, or invalid.

export const accepted = (reply: CommandReply): reply is Extract<CommandReply, { status: 'accepted' }> => reply.status === 'accepted';

export const rejectedAs = (reply: CommandReply, code: string): boolean => reply.status === 'rejected' && reply.code === code;

/** One line for a person: the rejection's code and message, or what was invalid. */
export function describeReply(reply: CommandReply): string {
  switch (reply.status) {
    case 'accepted':
      return 'accepted';
    case 'invalid':
      return `invalid: ${reply.errors.join('; ')}`;
    default:
      return `${reply.code}: ${reply.message}`;
  }
}

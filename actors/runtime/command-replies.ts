import type { CommandReply } from './command-envelope.ts';

// Reading a command's reply: accepted, rejected with a named reason, or invalid.

export const accepted = <Code extends string>(reply: CommandReply<Code>): reply is Extract<CommandReply<Code>, { status: 'accepted' }> =>
  reply.status === 'accepted';

/** `code` must be one the reply's category can refuse with: a misspelt code does not compile. */
export const rejectedAs = <Code extends string>(reply: CommandReply<Code>, code: NoInfer<Code>): boolean => reply.status === 'rejected' && reply.code === code;

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

import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import type { CommandReply } from './command-envelope.ts';

// A command to a category no aggregate hosts would get NATS's bare "no responders". This door
// listens on every command subject (one member of the aggregates role answers, by queue group)
// and answers only those: a typed `UnknownCategory`. Commands to hosted categories pass by
// untouched; their own host answers them.

export function startUnknownCategoryDoor(nc: NatsConnection, prefix: string, hosted: readonly string[], logger: Logger): Subscription {
  const known = new Set(hosted);
  const start = `${prefix}.cmd.`.length;
  const encoder = new TextEncoder();
  return nc.subscribe(`${prefix}.cmd.*.*`, {
    queue: `${prefix}.aggregates.unknown-category`,
    callback: (error, message) => {
      if (error) return void logger.error({ err: error }, 'unknown-category door subscription failed');
      const category = message.subject.slice(start, message.subject.indexOf('.', start));
      if (known.has(category) || !message.reply) return;
      const reply: CommandReply = {
        status: 'rejected',
        code: 'UnknownCategory',
        message: `no aggregate is called "${category.slice(0, 100)}"; the categories are ${[...known].join(', ')}`,
      };
      message.respond(encoder.encode(JSON.stringify(reply)));
    },
  });
}

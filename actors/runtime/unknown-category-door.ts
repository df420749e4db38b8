import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import type { CommandReply } from './command-envelope.ts';

// A command no host subscribes to would get NATS's bare "no responders": a category no aggregate
// hosts, or an id holding a "." (more subject tokens than `<prefix>.cmd.<category>.<id>`). This
// door listens on every command subject (one member of the aggregates role answers, by queue
// group) and answers only those, with a typed reply. Commands to `<category>.<id>` of a hosted
// category pass by untouched; their own host answers them.

export function startUnknownCategoryDoor(nc: NatsConnection, prefix: string, hosted: readonly string[], logger: Logger): Subscription {
  const known = new Set(hosted);
  const start = `${prefix}.cmd.`.length;
  const encoder = new TextEncoder();
  return nc.subscribe(`${prefix}.cmd.>`, {
    queue: `${prefix}.aggregates.unknown-category`,
    callback: (error, message) => {
      if (error) return void logger.error({ err: error }, 'unknown-category door subscription failed');
      if (!message.reply) return;
      const [category = '', ...id] = message.subject.slice(start).split('.');
      if (known.has(category) && id.length === 1) return;
      const reply: CommandReply = !known.has(category)
        ? {
            status: 'rejected',
            code: 'UnknownCategory',
            message: `no aggregate is called "${category.slice(0, 100)}"; the categories are ${[...known].join(', ')}`,
          }
        : { status: 'invalid', errors: [`subject: "${id.join('.').slice(0, 200)}" is not a valid aggregate id (ids hold no ".")`] };
      message.respond(encoder.encode(JSON.stringify(reply)));
    },
  });
}

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { isValidCategory } from '../../domain/streams.ts';
import { loadConfig } from '../config/load-config.ts';
import { connectToProduct } from './connect.ts';
import { summarize } from './history.ts';

// `orch events tail`: follow the event log as it is written, optionally one category.

const categoryArg = (value: string): string => {
  if (!isValidCategory(value)) throw new InvalidArgumentError('a category is a word without "-", e.g. task');
  return value;
};

const line = (e: RecordedEvent) =>
  `${e.recordedAt}  ${e.stream.padEnd(44)} ${String(e.revision).padStart(4)}  ${e.type.padEnd(24)} by ${e.metadata.actor}  ${summarize(e.data)}`;

export function registerEventCommands(cli: Command): void {
  const events = cli.command('events').description('the event log');
  events
    .command('tail')
    .description('print events as they are written (Ctrl-C to stop)')
    .option('--category <category>', 'only streams of this category, e.g. task', categoryArg)
    .option('--from-start', 'begin with the first event instead of the next one')
    .option('--json', 'one JSON object per line')
    .action(async (options: { category?: string; fromStart?: boolean; json?: boolean }) => {
      const { nc, store } = await connectToProduct(loadConfig());
      const head = options.fromStart ? undefined : await store.headPosition();
      const subscription = store.subscribe({ ...(options.category ? { category: options.category } : {}), ...(head ? { after: head } : {}) });
      const stop = () => void subscription.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (!options.json) console.error(`following ${options.category ? `${options.category}-* streams` : 'every stream'}${options.fromStart ? ' from the first event' : ''}; Ctrl-C stops`);
      try {
        for await (const message of subscription) {
          if (message.kind !== 'event') continue;
          const e = message.event;
          console.log(options.json ? JSON.stringify({ ...e, revision: e.revision.toString() }) : line(e));
        }
      } finally {
        await store.close();
        await nc.close();
      }
    });
}

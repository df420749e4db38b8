import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { EventLogQuarantine, type QuarantinedMessage } from '../../adapters/jetstream/event-log-quarantine.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { isValidCategory } from '../../domain/streams.ts';
import { loadConfig } from '../config/load-config.ts';
import { connectToProduct } from './connect.ts';
import { summarize } from './history.ts';

// `orch events tail`: follow the event log as it is written, optionally one category.
// `orch events quarantine`: the messages in the log that are not commits, which readers pass over.

const categoryArg = (value: string): string => {
  if (!isValidCategory(value)) throw new InvalidArgumentError('a category is a word without "-", e.g. task');
  return value;
};

const line = (e: RecordedEvent) =>
  `${e.recordedAt}  ${e.stream.padEnd(44)} ${String(e.revision).padStart(4)}  ${e.type.padEnd(24)} by ${e.metadata.actor}  ${summarize(e.data)}`;

const quarantineTable = (entries: readonly QuarantinedMessage[]): string[] => {
  if (entries.length === 0) return ['no quarantined messages: every message in the event log is a commit'];
  const rows = entries.map((e) => [String(e.seq), e.subject, e.time, `${e.size} B`, e.reason]);
  const header = ['SEQUENCE', 'SUBJECT', 'TIME', 'SIZE', 'REASON'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [format(header), ...rows.map(format), `${entries.length} quarantined message${entries.length === 1 ? '' : 's'}`];
};

export function registerEventCommands(cli: Command): void {
  const events = cli.command('events').description('the event log');
  events
    .command('quarantine')
    .description(
      'messages in the event log that are not event-store commits (published there by something else, or undecodable); every reader passes over them',
    )
    .option('--json', 'one JSON array: seq, subject, time, reason, size')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const { nc, store } = await connectToProduct(config);
      try {
        const quarantine = await EventLogQuarantine.open(nc, { prefix: config.prefix, replicas: config.nats.replicas });
        const entries = await quarantine.list();
        if (options.json) console.log(JSON.stringify(entries, null, 2));
        else for (const line of quarantineTable(entries)) console.log(line);
      } finally {
        await store.close();
        await nc.close();
      }
    });
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
      if (!options.json)
        console.error(
          `following ${options.category ? `${options.category}-* streams` : 'every stream'}${options.fromStart ? ' from the first event' : ''}; Ctrl-C stops`,
        );
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

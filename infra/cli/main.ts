import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config/load-config.ts';
import { aggregateFor } from '../../actors/aggregates/index.ts';
import { parseStreamName, type StreamName } from '../../domain/streams.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { connectToProduct, NoRunningProduct } from './connect.ts';
import { auditRows, stateAt, stateChanges } from './history.ts';
import { registerEventCommands } from './events.ts';
import { registerProjectionCommands } from './projections.ts';
import { registerPolicyCommands } from '../policy/policy-cli.ts';
import { registerNatsCommands } from './nats-credentials.ts';
import { registerHealthCommands } from './health.ts';
import { UserError } from './user-error.ts';
import { prettyJson } from '../../domain/replies/format.ts';

// `orch`: the ops command line. Every command has --help; --json gives output for scripts.

const revisionArg = (value: string): bigint => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a revision is a whole number from 0');
  return BigInt(value);
};
const streamArg = (value: string): StreamName => {
  try {
    return parseStreamName(value).stream;
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message} (e.g. task-01JD5W3Q)`);
  }
};

async function withHistory(stream: StreamName, run: (events: readonly RecordedEvent[]) => void): Promise<void> {
  const { nc, store } = await connectToProduct(loadConfig());
  try {
    const { exists, events } = await store.read(stream);
    if (!exists) throw new UserError(`${stream} does not exist`);
    run(events);
  } finally {
    await store.close();
    await nc.close();
  }
}

function deciderOf(stream: StreamName) {
  const { category } = parseStreamName(stream);
  const aggregate = aggregateFor(category);
  if (!aggregate) throw new UserError(`no aggregate of category "${category}" to replay`);
  return aggregate.decider;
}

export function program(): Command {
  const cli = new Command('orch')
    .description('Operate the orchestrator: audit and replay history, watch and rebuild projections, tail events.')
    .showHelpAfterError();

  cli
    .command('audit')
    .description('the full history of one stream: revision, time, event, actor, correlation and causation ids, data summary')
    .argument('<stream>', 'stream name, e.g. task-01JD5W3Q', streamArg)
    .option('--json', 'one JSON array, every field whole')
    .action((stream: StreamName, options: { json?: boolean }) =>
      withHistory(stream, (events) => {
        if (options.json) return console.log(prettyJson(events));
        const rows = auditRows(events);
        console.log(`${stream}: ${rows.length} events`);
        for (const r of rows) {
          console.log(
            `${r.revision.padStart(5)}  ${r.occurredAt}  ${r.type.padEnd(24)} by ${r.actor}${r.authorization ? ` under ${r.authorization}` : ''}  corr=${r.correlationId} cause=${r.causationId}`,
          );
          console.log(`${' '.repeat(7)}${r.summary}`);
        }
      }),
    );

  cli
    .command('replay')
    .description("the aggregate's state rebuilt from its events, at a revision or now")
    .argument('<stream>', 'stream name, e.g. task-01JD5W3Q', streamArg)
    .option('--at <revision>', 'state after this revision (inclusive)', revisionArg)
    .option('--json', 'JSON output')
    .action((stream: StreamName, options: { at?: bigint; json?: boolean }) =>
      withHistory(stream, (events) => {
        const last = events[events.length - 1]!.revision;
        if (options.at !== undefined && options.at > last) throw new UserError(`${stream} has revisions 0 to ${last}; there is no ${options.at}`);
        const revision = options.at ?? last;
        const state = stateAt(deciderOf(stream), events, revision);
        if (options.json) return console.log(prettyJson({ stream, revision, state }));
        console.log(`${stream} at revision ${revision} of ${last}:`);
        console.log(prettyJson(state));
      }),
    );

  cli
    .command('diff')
    .description("what changed in the aggregate's state between two revisions")
    .argument('<stream>', 'stream name', streamArg)
    .argument('<from>', 'earlier revision', revisionArg)
    .argument('<to>', 'later revision', revisionArg)
    .option('--json', 'JSON output')
    .action((stream: StreamName, from: bigint, to: bigint, options: { json?: boolean }) =>
      withHistory(stream, (events) => {
        const last = events[events.length - 1]!.revision;
        for (const r of [from, to]) if (r > last) throw new UserError(`${stream} has revisions 0 to ${last}; there is no ${r}`);
        const decider = deciderOf(stream);
        const changes = stateChanges(stateAt(decider, events, from), stateAt(decider, events, to));
        const between = events.filter((e) => e.revision > from && e.revision <= to).map((e) => e.type);
        if (options.json) return console.log(prettyJson({ stream, from, to, events: between, changes }));
        console.log(`${stream}: revision ${from} → ${to} (${between.join(', ') || 'no events'})`);
        for (const c of changes) {
          const sign = c.kind === 'added' ? '+' : c.kind === 'removed' ? '-' : '~';
          const value =
            c.kind === 'changed' ? `${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}` : JSON.stringify(c.kind === 'added' ? c.after : c.before);
          console.log(`  ${sign} ${c.path}: ${value}`);
        }
        if (changes.length === 0) console.log('  (no change)');
      }),
    );
  registerProjectionCommands(cli);
  registerEventCommands(cli);
  registerPolicyCommands(cli);
  registerNatsCommands(cli);
  registerHealthCommands(cli);
  return cli;
}

export async function main(argv = process.argv): Promise<number> {
  try {
    await program().parseAsync(argv);
    // A command may answer "no" without failing (`policy check` refused: 1).
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof UserError || error instanceof ConfigError || error instanceof NoRunningProduct) {
      console.error(`orch: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main();

import { hostname, userInfo } from 'node:os';
import { ConsoleFrontEnd } from '../adapters/console/console-front-end.ts';
import { taskTypeDescriptors } from '../adapters/executors/registry.ts';
import { consoleResultsSubject } from '../adapters/console/console-notice-poster.ts';
import { conversationIntake, decisionDesk, slashCommandTable } from './front-desk.ts';
import type { RoleContext } from './role-context.ts';

const token = (value: string): string => value.replace(/[^A-Za-z0-9_-]/g, '_') || 'x';

/** The terminal chat, in this process, for the person at the keyboard. */
export async function startConsole(context: RoleContext, { logFile }: { logFile: string }): Promise<ConsoleFrontEnd> {
  const { config, nc, store, logger } = context;
  const user = token(userInfo().username);
  const session = `${token(hostname())}-${process.pid}`;
  const channel = `${user}_at_${session}`;
  // Results of this session's tasks and notices of its plans and workflows (see the thread notifier).
  const subject = consoleResultsSubject(config.prefix, channel);
  const subscription = nc.subscribe(subject);
  await nc.flush();
  const results = (async function* () {
    for await (const message of subscription) yield message.data;
  })();
  process.stdout.write(`(logs: ${logFile})\n`);
  return new ConsoleFrontEnd({
    intake: conversationIntake(context, () => ({ kind: 'nats', subject })),
    slash: slashCommandTable(context, 'console'),
    decisions: decisionDesk(context),
    store,
    taskTypes: taskTypeDescriptors,
    results,
    channel,
    user,
    input: process.stdin,
    output: process.stdout,
    interactive: Boolean(process.stdout.isTTY),
    logger: logger.child({ role: 'console' }),
  });
}

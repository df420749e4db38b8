import { describePolicyFor, type Policy } from '../domain/policy/index.ts';
import type { SlashAnswer, SlashHandler, SlashRequest } from './slash-command-types.ts';
import { workflowSubcommands, type WorkflowDesk } from './workflow-slash-commands.ts';

export type { SlashAnswer, SlashHandler, SlashRequest } from './slash-command-types.ts';

// Slash commands as a declared table: each command lists its subcommands, each subcommand is
// either a handler or a capability that is not built yet (answered in so many words, never
// silence), and anything else gets the command's usage. Front ends (Slack, console) parse
// nothing themselves: they pass the command and its text here and show the answer.

/** What the status commands report; each field is read when asked. */
export interface StatusSource {
  readonly planner: 'offline' | 'anthropic';
  readonly frontEnd: string;
  readonly pools: readonly { readonly pool: string; readonly workers: number; readonly taskTypes: readonly string[] }[];
  /** Counts per task status from the task-stats read model; undefined when it has none yet. */
  taskTotals(): Promise<{ readonly count: number; readonly byStatus: Readonly<Record<string, number>> } | undefined>;
}

type Route = SlashHandler | { readonly notYet: string };

interface CommandSpec {
  readonly usage: readonly string[];
  readonly subcommands: Readonly<Record<string, Route>>;
  /** What the command does with no subcommand; usage when absent. */
  readonly bare?: SlashHandler;
}

const ephemeral = (text: string): SlashAnswer => ({ text, visibility: 'ephemeral' });

/**
 * The words of a command's text, split at white space; double quotes (straight or curly) keep
 * spaces inside one word and are dropped: `title="a b"` is the word `title=a b`.
 */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let closing: string | undefined;
  for (const ch of text) {
    if (closing !== undefined) {
      if (ch === closing) closing = undefined;
      else word += ch;
    } else if (ch === '"' || ch === '\u201c' || ch === '\u201d') {
      closing = ch === '\u201c' ? '\u201d' : ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + ch;
  }
  if (word !== undefined) words.push(word);
  return words;
}

export function slashCommands(
  status: StatusSource,
  workflows: WorkflowDesk,
  policy?: Policy,
): { answer(request: SlashRequest): Promise<SlashAnswer>; readonly commands: readonly string[] } {
  const taskLine = async (): Promise<string> => {
    const totals = await status.taskTotals().catch(() => undefined);
    if (!totals) return 'Tasks: no figures yet (the task-stats read model is empty or not running).';
    const counts = Object.entries(totals.byStatus)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    return `Tasks: ${totals.count} in all${counts ? ` (${counts})` : ''}.`;
  };

  const orchestratorStatus: SlashHandler = async () =>
    ephemeral(
      [
        `Planner: ${status.planner === 'anthropic' ? 'Claude (Anthropic API)' : 'offline intent parser (no ANTHROPIC_API_KEY)'}.`,
        `Front end: ${status.frontEnd}.`,
        `Pools: ${status.pools.map((p) => `${p.pool} (${p.workers} worker${p.workers === 1 ? '' : 's'}: ${p.taskTypes.join(', ')})`).join('; ') || 'none'}.`,
        await taskLine(),
        'Budget: not available yet.',
      ].join('\n'),
    );

  const monitor: SlashHandler = async () => ephemeral(await taskLine());

  /** What the authorization policy lets the person who asks do. */
  const policyForUser: SlashHandler = async (_, request) =>
    ephemeral(policy ? describePolicyFor(policy, request.user) : 'No authorization policy is loaded here: only the approvers each gate names are checked.');

  const table: Readonly<Record<string, CommandSpec>> = {
    '/orchestrator': {
      usage: [
        '/orchestrator status — planner, pools, tasks, budget',
        '/orchestrator policy — what you may start, approve and cancel here',
        '/orchestrator replay <id> [--at <revision>] — an aggregate as it was',
        '/orchestrator help — this list',
      ],
      bare: orchestratorStatus,
      subcommands: {
        status: orchestratorStatus,
        policy: policyForUser,
        replay: { notYet: 'Replaying from Slack is not available yet; on the command line, `npm run orch -- replay <stream> [--at <revision>]` does it.' },
      },
    },
    '/monitor': {
      usage: ['/monitor — task counts by status', '/monitor help — this list'],
      bare: monitor,
      subcommands: {},
    },
    '/workflow': {
      usage: [
        '/workflow list — the workflow templates, their parameters, and whether they can run here',
        '/workflow start <template> [--dry-run] [key=value ...] — values with spaces in quotes (key="a b"), lists as key=a,b; --dry-run records what would change things instead of doing it',
        "/workflow status <id> — a workflow's steps and pending approvals",
        '/workflow cancel <id>',
      ],
      subcommands: workflowSubcommands(workflows),
    },
  };

  const usage = (command: string, spec: CommandSpec, lead?: string): SlashAnswer =>
    ephemeral([...(lead ? [lead] : []), `Usage of ${command}:`, ...spec.usage.map((line) => `• ${line}`)].join('\n'));

  return {
    commands: Object.keys(table),
    async answer(request) {
      const spec = table[request.command];
      if (!spec) return ephemeral(`Unknown command ${request.command}; I answer ${Object.keys(table).join(', ')}.`);
      const [sub, ...args] = splitWords(request.text);
      if (sub === undefined) return spec.bare ? spec.bare([], request) : usage(request.command, spec);
      if (sub === 'help') return usage(request.command, spec);
      const route = Object.hasOwn(spec.subcommands, sub) ? spec.subcommands[sub] : undefined;
      if (route === undefined) return usage(request.command, spec, `I do not know "${request.command} ${sub}".`);
      if (typeof route !== 'function') return ephemeral(route.notYet);
      return route(args, request);
    },
  };
}

// Slash commands as a declared table: each command lists its subcommands, each subcommand is
// either a handler or a capability that is not built yet (answered in so many words, never
// silence), and anything else gets the command's usage. Front ends (Slack, console) parse
// nothing themselves: they pass the command and its text here and show the answer.

export interface SlashRequest {
  readonly command: string;
  readonly text: string;
  readonly user: string;
  readonly channel: string;
}

export interface SlashAnswer {
  readonly text: string;
  /** Ephemeral: only the person who typed it sees the answer. */
  readonly visibility: 'ephemeral' | 'in_channel';
}

/** What the status commands report; each field is read when asked. */
export interface StatusSource {
  readonly planner: 'offline' | 'anthropic';
  readonly frontEnd: string;
  readonly pools: readonly { readonly pool: string; readonly workers: number; readonly taskTypes: readonly string[] }[];
  /** Counts per task status from the task-stats read model; undefined when it has none yet. */
  taskTotals(): Promise<{ readonly count: number; readonly byStatus: Readonly<Record<string, number>> } | undefined>;
}

type Handler = (args: readonly string[], request: SlashRequest) => Promise<SlashAnswer>;
type Route = Handler | { readonly notYet: string };

interface CommandSpec {
  readonly usage: readonly string[];
  readonly subcommands: Readonly<Record<string, Route>>;
  /** What the command does with no subcommand; usage when absent. */
  readonly bare?: Handler;
}

const ephemeral = (text: string): SlashAnswer => ({ text, visibility: 'ephemeral' });

export function slashCommands(status: StatusSource): { answer(request: SlashRequest): Promise<SlashAnswer>; readonly commands: readonly string[] } {
  const taskLine = async (): Promise<string> => {
    const totals = await status.taskTotals().catch(() => undefined);
    if (!totals) return 'Tasks: no figures yet (the task-stats read model is empty or not running).';
    const counts = Object.entries(totals.byStatus)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    return `Tasks: ${totals.count} in all${counts ? ` (${counts})` : ''}.`;
  };

  const orchestratorStatus: Handler = async () =>
    ephemeral(
      [
        `Planner: ${status.planner === 'anthropic' ? 'Claude (Anthropic API)' : 'offline intent parser (no ANTHROPIC_API_KEY)'}.`,
        `Front end: ${status.frontEnd}.`,
        `Pools: ${status.pools.map((p) => `${p.pool} (${p.workers} worker${p.workers === 1 ? '' : 's'}: ${p.taskTypes.join(', ')})`).join('; ') || 'none'}.`,
        await taskLine(),
        'Budget: not available yet.',
      ].join('\n'),
    );

  const monitor: Handler = async () => ephemeral(await taskLine());

  const table: Readonly<Record<string, CommandSpec>> = {
    '/orchestrator': {
      usage: ['/orchestrator status — planner, pools, tasks, budget', '/orchestrator replay <id> [--at <revision>] — an aggregate as it was', '/orchestrator help — this list'],
      bare: orchestratorStatus,
      subcommands: {
        status: orchestratorStatus,
        replay: { notYet: 'Replaying from Slack is not available yet; on the command line, `npm run orch -- replay <stream> [--at <revision>]` does it.' },
      },
    },
    '/monitor': {
      usage: ['/monitor — task counts by status', '/monitor help — this list'],
      bare: monitor,
      subcommands: {},
    },
    '/workflow': {
      usage: ['/workflow list — the workflow templates', '/workflow start <template> [key=value ...]', '/workflow status <id>', '/workflow cancel <id>'],
      subcommands: {
        list: { notYet: 'Workflows are not available yet: the workflow engine is still being built.' },
        start: { notYet: 'Workflows are not available yet: the workflow engine is still being built.' },
        status: { notYet: 'Workflows are not available yet: the workflow engine is still being built.' },
        cancel: { notYet: 'Workflows are not available yet: the workflow engine is still being built.' },
      },
    },
  };

  const usage = (command: string, spec: CommandSpec, lead?: string): SlashAnswer =>
    ephemeral([...(lead ? [lead] : []), `Usage of ${command}:`, ...spec.usage.map((line) => `• ${line}`)].join('\n'));

  return {
    commands: Object.keys(table),
    async answer(request) {
      const spec = table[request.command];
      if (!spec) return ephemeral(`Unknown command ${request.command}; I answer ${Object.keys(table).join(', ')}.`);
      const [sub, ...args] = request.text.trim().split(/\s+/).filter(Boolean);
      if (sub === undefined) return spec.bare ? spec.bare([], request) : usage(request.command, spec);
      if (sub === 'help') return usage(request.command, spec);
      const route = Object.hasOwn(spec.subcommands, sub) ? spec.subcommands[sub] : undefined;
      if (route === undefined) return usage(request.command, spec, `I do not know "${request.command} ${sub}".`);
      if (typeof route !== 'function') return ephemeral(route.notYet);
      return route(args, request);
    },
  };
}

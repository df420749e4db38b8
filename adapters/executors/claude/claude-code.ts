import path from 'node:path';
import { z } from 'zod';
import { ExecutionFailed, type ExecutionContext } from '../../../domain/ports/executor.ts';
import { secretScrubber } from '../../../domain/secrets/scrub-secrets.ts';
import { LineTail, runForExecutor, safeEnv, type RunResult } from '../process.ts';
import { gitRunner, repositoryParameter, resolveInWorkspace } from '../workspace.ts';
import { changedFiles, snapshotTree } from './changed-files.ts';
import { answerValues, ClaudeOutputReader, type ClaudeResultMessage, type ClaudeUsage } from './stream-json.ts';
import type { TaskTypeExecutor } from '../task-type.ts';

// `claude-code`: headless Claude Code (`claude -p <prompt> --output-format stream-json --verbose`)
// in a repository of the workspace, never through a shell, in its own process group. The mode
// picks the permissions: `review` and `plan` only read, `investigate` may also run commands,
// `edit` may change files. Other parameters are context from earlier steps (`$from` outputs) and
// are given to Claude as JSON after the prompt. The answer's text is the summary; named values it
// ends with (a ```json block) become output fields that workflow conditions can read.

const CLAUDE_MODES = ['review', 'plan', 'investigate', 'edit'] as const;
export type ClaudeMode = (typeof CLAUDE_MODES)[number];

const READ_TOOLS = ['Read', 'Grep', 'Glob', 'LS'];
const EDIT_TOOLS = ['Edit', 'MultiEdit', 'Write', 'NotebookEdit'];
// Repository content and chat text reach the model: nothing of it goes to the web.
const WEB_TOOLS = ['WebFetch', 'WebSearch'];

interface ModePermissions {
  readonly permissionMode: 'default' | 'acceptEdits';
  readonly allowedTools: readonly string[];
  readonly disallowedTools: readonly string[];
  readonly rule: string;
}

const READ_ONLY: ModePermissions = {
  permissionMode: 'default',
  allowedTools: READ_TOOLS,
  disallowedTools: [...EDIT_TOOLS, 'Bash', ...WEB_TOOLS],
  rule: 'Only read the repository: do not change, create or delete files, and do not run commands.',
};

/** In headless mode nothing can be approved interactively: what a mode does not allow is refused. */
const PERMISSIONS: Readonly<Record<ClaudeMode, ModePermissions>> = {
  review: READ_ONLY,
  plan: READ_ONLY,
  investigate: {
    permissionMode: 'default',
    allowedTools: [...READ_TOOLS, 'Bash'],
    disallowedTools: [...EDIT_TOOLS, ...WEB_TOOLS],
    rule: 'You may run commands (tests, scripts) to investigate, but do not change, create or delete files of the repository.',
  },
  edit: {
    permissionMode: 'acceptEdits',
    allowedTools: [...READ_TOOLS, ...EDIT_TOOLS, 'Bash'],
    disallowedTools: WEB_TOOLS,
    rule: 'Change the code as asked, in small focused edits. Do not commit, push or create branches: the changes are reviewed from the working tree.',
  },
};

const SYSTEM_PROMPT = [
  'You are running unattended as one step of an automated workflow; nobody can answer questions, so decide and say what you assumed.',
  'When the request asks for named values (counts, lists, flags), end your reply with a fenced ```json block holding one JSON object with exactly those names.',
].join(' ');

/** Linux limits one argument to 128 KiB; the prompt stays well below. */
const MAX_PROMPT_BYTES = 100_000;
const MAX_CONTEXT_CHARS = 2 * 1024 * 1024;
const MAX_SUMMARY_CHARS = 16_000;
const MAX_LISTED_FILES = 200;
const CONTEXT_KEY = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

const OWN_PARAMETERS = ['repository', 'prompt', 'mode', 'focus', 'maxTurns', 'timeoutMs'] as const;

const parameters = z
  .object({
    repository: repositoryParameter,
    prompt: z.string().trim().min(1).max(20_000),
    mode: z.enum(CLAUDE_MODES).default('review'),
    /** What a review looks at (security, performance…), added to the prompt. */
    focus: z.string().trim().min(1).max(200).optional(),
    maxTurns: z.number().int().min(1).max(500).optional(),
    timeoutMs: z
      .number()
      .int()
      .min(1_000)
      .max(4 * 60 * 60 * 1000)
      .default(30 * 60 * 1000),
  })
  // Earlier steps' outputs, by name (findings, issues, rootCause…): any JSON, null included
  // (a `$from` whose step was skipped reads null).
  .catchall(z.json())
  .superRefine((params, ctx) => {
    const context = contextOf(params);
    for (const key of Object.keys(context)) {
      if (!CONTEXT_KEY.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'context names are letters, digits, _ and - (at most 64)' });
    }
    if (Object.keys(context).length > 20) ctx.addIssue({ code: 'custom', path: [], message: 'at most 20 context values' });
    else if (JSON.stringify(context).length > MAX_CONTEXT_CHARS) ctx.addIssue({ code: 'custom', path: [], message: 'context values are larger than 2 MiB' });
  });
export type ClaudeCodeParams = z.infer<typeof parameters>;

function contextOf(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([key]) => !(OWN_PARAMETERS as readonly string[]).includes(key)));
}

export interface ClaudeCodeResult {
  readonly success: boolean;
  readonly mode: ClaudeMode;
  /** The answer's text, at most 16 000 characters. */
  readonly summary: string;
  readonly summaryTruncated: boolean;
  readonly costUsd: number | null;
  readonly usage: ClaudeUsage | null;
  readonly turns: number | null;
  readonly sessionId: string | null;
  readonly durationMs: number;
  /** Tool calls the mode did not allow, refused by Claude Code. */
  readonly permissionDenials: number;
  /** Files the run changed (relative to the repository's top level); absent outside git. */
  readonly filesChanged?: string[];
  readonly filesChangedCount?: number;
  /** Output fields taken from the answer's JSON block (they sit beside these ones). */
  readonly answerFields?: string[];
  readonly [answerField: string]: unknown;
}

const stages = [
  { name: 'prepare', weight: 1 },
  { name: 'run', weight: 18 },
  { name: 'collect', weight: 1 },
] as const;

const RESERVED_OUTPUT = new Set([
  'success',
  'mode',
  'summary',
  'summaryTruncated',
  'costUsd',
  'usage',
  'turns',
  'sessionId',
  'durationMs',
  'permissionDenials',
  'filesChanged',
  'filesChangedCount',
  'answerFields',
]);

/** The Claude Code executable: the configured one (CLAUDE_BIN), else `claude` on the PATH. */
export function claudeProgram(context: ExecutionContext): string {
  const program = context.programs?.['claude'] ?? 'claude';
  // A relative path would otherwise be looked up in the repository, which is not ours to trust.
  return program.includes('/') && !path.isAbsolute(program) ? path.resolve(program) : program;
}

// Claude Code needs its own settings and credentials (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL,
// CLAUDE_CODE_USE_BEDROCK / _VERTEX with the cloud's credentials, proxies); nothing else of this
// process (Slack tokens, the webhook secret) reaches it beyond the usual allow-list.
const CLAUDE_ENV =
  /^(ANTHROPIC_|CLAUDE_|CLAUDECODE|DISABLE_|MAX_THINKING_TOKENS$|MCP_|AWS_|GOOGLE_|GCLOUD_|CLOUD_ML_|VERTEX_|XDG_CONFIG_HOME$|NODE_EXTRA_CA_CERTS$|(HTTPS?|NO|ALL)_PROXY$)/i;
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

function claudeEnvironment(): { env: NodeJS.ProcessEnv; secrets: string[] } {
  const own = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => CLAUDE_ENV.test(entry[0]) && entry[1] !== undefined));
  const secrets = Object.entries(own)
    .filter(([name, value]) => SECRET_NAME.test(name) && value.length >= 8)
    .map(([, value]) => value);
  // No auto-update or telemetry from an unattended worker.
  return { env: safeEnv({ ...own, DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1' }), secrets };
}

/** The prompt as Claude gets it: the request, the focus, and the context values as JSON, within the argument limit. */
export function composePrompt(params: ClaudeCodeParams): string {
  const request = params.prompt.startsWith('-') ? `Task: ${params.prompt}` : params.prompt; // never read as an option
  const parts = [request];
  if (params.focus) parts.push(`Focus: ${params.focus}`);
  const context = contextOf(params);
  if (Object.keys(context).length > 0) {
    const budget = MAX_PROMPT_BYTES - Buffer.byteLength(parts.join('\n\n')) - 200;
    let json = JSON.stringify(context, null, 2);
    if (Buffer.byteLength(json) > budget) json = JSON.stringify(context);
    if (Buffer.byteLength(json) > budget) {
      const kept = Buffer.from(json)
        .subarray(0, Math.max(0, budget))
        .toString('utf8')
        .replace(/\uFFFD$/, '');
      json = `${kept}\n… (cut: the context was ${Buffer.byteLength(json)} bytes)`;
    }
    parts.push(`Context from earlier steps (JSON):\n${json}`);
  }
  return parts.join('\n\n');
}

function claudeArguments(params: ClaudeCodeParams, prompt: string): string[] {
  const mode = PERMISSIONS[params.mode];
  return [
    '-p',
    prompt,
    '--output-format',
    'stream-json',
    '--verbose',
    '--permission-mode',
    mode.permissionMode,
    '--append-system-prompt',
    `${SYSTEM_PROMPT} ${mode.rule}`,
    ...(params.maxTurns !== undefined ? ['--max-turns', String(params.maxTurns)] : []),
    // Tool lists go last, as one comma-separated value each: they take several values.
    '--allowedTools',
    mode.allowedTools.join(','),
    ...(mode.disallowedTools.length > 0 ? ['--disallowedTools', mode.disallowedTools.join(',')] : []),
  ];
}

// Overloaded, rate limited or a server error: another attempt later can succeed.
const TRANSIENT = /overloaded|rate.?limit|too many requests|API Error: (429|5\d\d)\b|temporarily unavailable|ECONNRESET|ETIMEDOUT|socket hang up/i;

const bounded = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function failure(
  result: ClaudeResultMessage | undefined,
  run: RunResult,
  stderr: string,
  retryError: string | undefined,
  redact: (t: string) => string,
): ExecutionFailed {
  const said = result ? [result.text, ...result.errors].filter((t) => t.trim() !== '').join('\n') : '';
  const text = redact(bounded((said || stderr || `claude exited with code ${run.exitCode ?? run.signal}`).trim(), 2_000));
  if (result?.subtype === 'error_max_turns') return new ExecutionFailed('MaxTurnsReached', `Claude Code stopped at its turn limit: ${text}`, false);
  if (result?.subtype === 'error_max_budget_usd') return new ExecutionFailed('BudgetReached', `Claude Code stopped at its budget: ${text}`, false);
  const transient = TRANSIENT.test(said) || TRANSIENT.test(stderr) || retryError !== undefined;
  return new ExecutionFailed(transient ? 'ClaudeUnavailable' : 'ClaudeCodeFailed', `Claude Code failed: ${text}`, transient);
}

async function runClaude(program: string, argv: string[], repo: string, params: ClaudeCodeParams, context: ExecutionContext, env: NodeJS.ProcessEnv) {
  const reader = new ClaudeOutputReader();
  const stderr = new LineTail(40, 4 * 1024);
  const report = () => {
    const fraction = params.maxTurns ? reader.steps / params.maxTurns : 1 - Math.exp(-reader.steps / 20);
    const counters = { steps: reader.steps, toolUses: reader.toolUses, outputTokens: reader.outputTokens };
    context.progress({ stage: 'run', fraction: Math.min(0.95, fraction), details: reader.lastActivity, counters });
  };
  try {
    const run = await runForExecutor([program, ...argv], {
      cwd: repo,
      env,
      signal: context.signal,
      timeoutMs: params.timeoutMs,
      maxOutputBytes: 256 * 1024,
      onLine(stream, line) {
        if (stream === 'stderr') stderr.push(line);
        else if (reader.push(line)) report();
      },
    });
    return { run, reader, stderr: stderr.text() };
  } catch (error) {
    const code = (error as { code?: string } | undefined)?.code;
    if (code !== 'RunnerNotInstalled' && code !== 'EACCES') throw error;
    const why = code === 'EACCES' ? 'is not executable' : 'was not found';
    throw new ExecutionFailed(
      'RunnerNotInstalled',
      `the Claude Code CLI (${JSON.stringify(program)}) ${why}: install it or set CLAUDE_BIN to the path of the claude executable`,
      false,
    );
  }
}

async function execute(params: ClaudeCodeParams, context: ExecutionContext): Promise<ClaudeCodeResult> {
  context.progress({ stage: 'prepare', fraction: 0 });
  const repo = await resolveInWorkspace(context.workspaceRoot, params.repository);
  // One git runner for the run's snapshots and diff; snapshotTree handles a failure to build it.
  const git = gitRunner(repo, context.workspaceRoot, context.signal, 16 * 1024 * 1024);
  const before = await snapshotTree(git, context.signal);
  const program = claudeProgram(context);
  const { env, secrets } = claudeEnvironment();
  const redact = secretScrubber(secrets);
  context.progress({ stage: 'prepare', fraction: 1, details: `${params.mode} mode` });

  context.progress({ stage: 'run', fraction: 0, details: `claude (${params.mode})` });
  const { run, reader, stderr } = await runClaude(program, claudeArguments(params, composePrompt(params)), repo, params, context, env);
  const result = reader.result;
  if (!result || result.isError || result.subtype !== 'success') throw failure(result, run, stderr, reader.lastRetryError, redact);
  context.progress({
    stage: 'run',
    fraction: 1,
    counters: { steps: reader.steps, toolUses: reader.toolUses, outputTokens: result.usage?.outputTokens ?? reader.outputTokens },
  });

  context.progress({ stage: 'collect', fraction: 0, details: before ? 'git status' : undefined });
  const after = before ? await snapshotTree(git, context.signal) : undefined;
  const changed = before && after ? await changedFiles(before, after, git) : undefined;
  const text = redact(result.text.trim());
  const found = answerValues(text, result.structured);
  const answer = found && (JSON.parse(redact(JSON.stringify(found))) as Record<string, unknown>);
  const answerFields = Object.keys(answer ?? {}).filter((key) => !RESERVED_OUTPUT.has(key));
  const output: ClaudeCodeResult = {
    ...Object.fromEntries(answerFields.map((key) => [key, answer![key]])),
    success: true,
    mode: params.mode,
    summary: bounded(text, MAX_SUMMARY_CHARS),
    summaryTruncated: text.length > MAX_SUMMARY_CHARS,
    costUsd: result.costUsd,
    usage: result.usage,
    turns: result.turns ?? reader.steps,
    sessionId: result.sessionId ?? reader.sessionId ?? null,
    durationMs: result.durationMs ?? run.durationMs,
    permissionDenials: result.permissionDenials,
    ...(changed ? { filesChanged: changed.slice(0, MAX_LISTED_FILES), filesChangedCount: changed.length } : {}),
    ...(answerFields.length > 0 ? { answerFields } : {}),
  };
  context.progress({ stage: 'collect', fraction: 1, counters: { filesChanged: changed?.length ?? 0 } });
  return output;
}

export const claudeCode = {
  taskType: 'claude-code' as const,
  pool: 'claude',
  description: 'run headless Claude Code on a repository (review, plan or edit)',
  estimatedMs: 60_000,
  // Headless Claude Code is the one paid run; its result reports what it cost.
  costCeilingSetting: 'claudeRunCeilingUsd',
  parameters,
  stages,
  // True in every mode: side effects are declared per task type (plans with such steps need
  // approval, dry runs record them instead of running them), and `edit` changes code. A
  // read-only review is the same task type, so it is treated the same; a workflow step that
  // only reads can say `sideEffects: false` itself.
  sideEffects: true,
  /** A second edit run would change the code again; the read-only modes repeat nothing. */
  rerunSafe: (params: ClaudeCodeParams) => params.mode !== 'edit',
  sideEffectClass: (params: ClaudeCodeParams) => (params.mode === 'edit' ? 'code-change' : 'read-only'),
  execute,
} satisfies TaskTypeExecutor<ClaudeCodeParams, ClaudeCodeResult>;

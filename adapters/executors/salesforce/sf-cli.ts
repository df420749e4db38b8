import path from 'node:path';
import { z } from 'zod';
import { ExecutionFailed, type ExecutionContext } from '../../../domain/ports/executor.ts';
import { runForExecutor, safeEnv, type RunResult } from '../process.ts';
import { repositoryParameter } from '../workspace.ts';

// What the Salesforce executors share: their parameters, running the `sf` CLI (never through a
// shell, in its own process group) and reading its `--json` envelope. sf prints one JSON
// document: `{ status, result, warnings }` when the command ran (status is the exit code, so a
// failed deploy is status 1 with a result), `{ status, name, message, exitCode, … }` when it
// threw (no org authorisation, no project, a lost connection).

/** Workspace-relative only: no absolute paths and no `..` segments (symlinks are checked when resolving). */
export const projectParameter = repositoryParameter.refine(
  (value) => !path.isAbsolute(value) && !value.split(/[\\/]/).includes('..'),
  'must be a folder relative to the workspace, without ".."',
);

/**
 * An sf alias or username (user@example.com.sandbox): letters, digits and `._@+-`, starting with
 * a letter or digit so it can never read as an option. At most 80 characters, as usernames are.
 */
export const targetOrgParameter = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,79}$/, 'must be an sf alias or username (letters, digits and . _ @ + -)')
  .optional()
  .describe("Leave out to use sf's configured default org (sf config set target-org).");

/** `--target-org` when one was named; without it sf uses its configured default org. */
export const targetOrgArgs = (targetOrg: string | undefined): string[] => (targetOrg ? ['--target-org', targetOrg] : []);

/** How messages name the org. */
export const orgName = (targetOrg: string | undefined): string => targetOrg ?? 'the default org';

/** Apex test names for RunSpecifiedTests: `Class` or `Class.method`, optionally namespaced. */
export const testNamesParameter = z
  .array(z.string().regex(/^[A-Za-z_]\w*(\.[A-Za-z_]\w*){0,2}$/, 'must be an Apex class or Class.method name'))
  .min(1)
  .max(200);

/** How long sf itself waits for the org, in minutes (`--wait`). */
export const waitMinutesParameter = z.number().int().min(1).max(600).default(30);

export const SF_STAGES = [
  { name: 'prepare', weight: 1 },
  { name: 'run', weight: 8 },
  { name: 'report', weight: 1 },
] as const;

/** The sf envelope, as far as the executors read it. */
export interface SfEnvelope {
  readonly status?: number;
  readonly result?: unknown;
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly exitCode?: number;
  readonly warnings?: unknown[];
}

// sf reads its own settings and credentials (SF_ACCESS_TOKEN, SF_TARGET_ORG, SF_DATA_DIR…) from
// SF_* / SFDX_* variables: those reach it, nothing else beyond the usual allow-list.
function sfEnvironment(): NodeJS.ProcessEnv {
  const own = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => /^(SF|SFDX)_/.test(entry[0]) && entry[1] !== undefined),
  );
  return safeEnv({
    ...own,
    SF_AUTOUPDATE_DISABLE: 'true',
    SF_DISABLE_AUTOUPDATE: 'true',
    SF_DISABLE_TELEMETRY: 'true',
    SF_SKIP_NEW_VERSION_CHECK: 'true',
    SF_USE_PROGRESS_BAR: 'false',
  });
}

/** The sf executable: the configured one (SF_BIN), else `sf` on the PATH. */
const sfProgram = (context: ExecutionContext): string => context.programs?.sf ?? 'sf';

export interface SfRun {
  readonly run: RunResult;
  /** Undefined when neither stdout nor stderr held the JSON envelope. */
  readonly envelope: SfEnvelope | undefined;
}

/**
 * Runs `sf <args>` in `cwd`. While it waits for the org (with `--json` it prints nothing until the
 * end) the `run` stage creeps towards 95 %, so the progress message shows it is alive.
 */
export async function runSf(args: readonly string[], cwd: string, context: ExecutionContext, waitMinutes: number): Promise<SfRun> {
  const program = sfProgram(context);
  const started = Date.now();
  const ticker = setInterval(() => {
    const seconds = Math.round((Date.now() - started) / 1000);
    const fraction = Math.min(0.95, 1 - Math.exp(-(Date.now() - started) / 120_000));
    context.progress({ stage: 'run', fraction, details: `waiting for the org (${seconds} s)` });
  }, 2_000);
  let run: RunResult;
  try {
    run = await runForExecutor([program, ...args], {
      cwd,
      signal: context.signal,
      env: sfEnvironment(),
      // sf gives up by itself after --wait; this only guards against a hung CLI.
      timeoutMs: (waitMinutes + 5) * 60_000,
      maxOutputBytes: 32 * 1024 * 1024,
    });
  } catch (error) {
    throw notInstalled(error, program) ?? error;
  } finally {
    clearInterval(ticker);
  }
  return { run, envelope: parseEnvelope(run.stdout) ?? parseEnvelope(run.stderr) };
}

function notInstalled(error: unknown, program: string): ExecutionFailed | undefined {
  const code = (error as { code?: string } | undefined)?.code;
  if (code !== 'RunnerNotInstalled' && code !== 'EACCES') return undefined;
  const why = code === 'EACCES' ? 'is not executable' : 'was not found';
  return new ExecutionFailed(
    'RunnerNotInstalled',
    `the Salesforce CLI (${JSON.stringify(program)}) ${why}: install @salesforce/cli or set SF_BIN to the path of the sf executable`,
    false,
  );
}

/** The JSON document in sf's output; tolerates lines printed before it (Node warnings, notices). */
function parseEnvelope(output: string): SfEnvelope | undefined {
  const text = output.trim();
  if (text === '') return undefined;
  const candidates = [text, ...[...text.matchAll(/^\{/gm)].map((m) => text.slice(m.index))];
  for (const candidate of candidates) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && ('status' in value || 'result' in value)) return value as SfEnvelope;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const NETWORK =
  /ECONNRESET|ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|socket hang up|network|client has timed out|ClientTimeout|Service Unavailable|ServerUnavailable|\b50[234]\b|REQUEST_LIMIT_EXCEEDED|UNABLE_TO_LOCK_ROW/i;
const AUTH =
  /NamedOrgNotFound|NoOrgFound|NoAuthInfoFound|AuthInfo|NoDefaultEnv|NoTargetOrg|No authorization information|INVALID_SESSION_ID|invalid_grant|expired access\/refresh token|RefreshToken|not authenticated|authenticat/i;

/**
 * The failure for an sf error envelope: lost connections and org limits may pass on another
 * attempt; a missing or expired authorisation, or anything else sf refused, will not.
 */
export function sfFailure(envelope: SfEnvelope | undefined, run: RunResult, what: string): ExecutionFailed {
  if (envelope === undefined) {
    const tail = `${run.stderr}\n${run.stdout}`.trim().split('\n').slice(-5).join('\n').slice(-1000);
    return new ExecutionFailed(
      'UnreadableSfOutput',
      `${what}: sf exited with ${run.exitCode ?? run.signal} without its JSON output${tail ? `: ${tail}` : ''}`,
      false,
    );
  }
  const name = envelope.name ?? 'Error';
  const message = (envelope.message ?? 'sf failed without a message').slice(0, 2000);
  const text = `${name} ${envelope.code ?? ''} ${message}`;
  if (NETWORK.test(text)) return new ExecutionFailed('SalesforceUnreachable', `${what}: ${message}`, true);
  if (AUTH.test(text)) return new ExecutionFailed('SalesforceAuthFailed', `${what}: ${message} (authorise the org with \`sf org login\` on the worker)`, false);
  if (/InvalidProjectWorkspace/i.test(name)) return new ExecutionFailed('NotASalesforceProject', `${what}: ${message}`, false);
  return new ExecutionFailed('SfCommandFailed', `${what}: ${name}: ${message}`, false);
}

/** `x` or `[x, y]` (the Metadata API gives a single element unwrapped) as an array. */
export const asArray = <T>(value: T | readonly T[] | undefined | null): T[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? [...(value as readonly T[])] : [value as T];

/** A number from sf output, where the Metadata API sometimes sends numbers as strings. */
export const count = (value: unknown): number => {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : 0;
};

export type Json = Record<string, unknown>;
/** An object from sf output, or an empty one for anything else. */
export const record = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});

export const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

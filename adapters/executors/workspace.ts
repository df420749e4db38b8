import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { ExecutionFailed } from '../../domain/ports/executor.ts';
import { runForExecutor, safeEnv, type RunResult } from './process.ts';

// Workspace isolation (TW8): every repository an executor touches resolves, after following
// symlinks, inside the configured root. Repository strings come from chat or the planner, so
// they are validated before they reach the file system, and errors name only what was asked.

export const MAX_REPOSITORY_LENGTH = 1024;

/** Refused before resolving: empty, too long, or containing NUL / control characters. */
export class InvalidRepositoryPath extends ExecutionFailed {
  constructor(reason: string) {
    super('InvalidRepositoryPath', `invalid repository path: ${reason}`, false);
  }
}

/** The requested path resolves (lexically or through a symlink) outside the workspace root. */
export class PathOutsideWorkspace extends ExecutionFailed {
  override readonly code = 'PathOutsideWorkspace';
  constructor(readonly requested: string) {
    super('PathOutsideWorkspace', `repository ${JSON.stringify(requested)} is outside the workspace`, false);
  }
}

/** Nothing (or no folder) at the requested path inside the workspace. */
export class RepositoryNotFound extends ExecutionFailed {
  override readonly code = 'RepositoryNotFound';
  constructor(readonly requested: string) {
    super('RepositoryNotFound', `repository ${JSON.stringify(requested)} was not found in the workspace`, false);
  }
}

function invalidReason(requested: string): string | undefined {
  if (requested.length === 0) return 'empty';
  if (requested.length > MAX_REPOSITORY_LENGTH) return `longer than ${MAX_REPOSITORY_LENGTH} characters`;
  if (requested.includes('\0')) return 'contains a NUL character';
  // eslint-disable-next-line no-control-regex
  if (/[\u0001-\u001f\u007f]/.test(requested)) return 'contains control characters';
  return undefined;
}

/** Zod schema for the `repository` parameter every local executor takes. */
export const repositoryParameter = z
  .string()
  .min(1)
  .max(MAX_REPOSITORY_LENGTH)
  .refine((value) => invalidReason(value) === undefined, { message: 'repository path contains NUL or control characters' });

/** True when `child` is `parent` or below it (both absolute, already normalised). */
export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

const isMissing = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
};

async function deepestExisting(target: string): Promise<string | undefined> {
  for (let current = path.dirname(target); ; current = path.dirname(current)) {
    try {
      return await realpath(current);
    } catch (error) {
      if (!isMissing(error) || current === path.dirname(current)) return undefined;
    }
  }
}

/**
 * Resolves a repository folder (relative to `root`, or absolute) to its real path, refusing
 * anything outside the real root with `PathOutsideWorkspace` and a missing folder with
 * `RepositoryNotFound`.
 */
export async function resolveInWorkspace(root: string, requested: string): Promise<string> {
  const reason = invalidReason(requested);
  if (reason !== undefined) throw new InvalidRepositoryPath(reason);
  const lexicalRoot = path.resolve(root);
  let realRoot: string;
  try {
    realRoot = await realpath(lexicalRoot);
  } catch {
    throw new ExecutionFailed('WorkspaceUnavailable', 'the workspace root is not available', false);
  }
  // Refuse obvious escapes before touching the target, so `../x` never reveals whether x exists.
  const lexicalTarget = path.resolve(lexicalRoot, requested);
  if (!isInside(lexicalRoot, lexicalTarget) && !isInside(realRoot, lexicalTarget)) {
    throw new PathOutsideWorkspace(requested);
  }
  let realTarget: string;
  try {
    realTarget = await realpath(lexicalTarget);
  } catch (error) {
    if (!isMissing(error)) throw error;
    // Missing inside is "not found"; missing behind a symlink that leads out is still "outside",
    // so the answer never reveals what exists outside the root.
    const existing = await deepestExisting(lexicalTarget);
    throw existing !== undefined && isInside(realRoot, existing) ? new RepositoryNotFound(requested) : new PathOutsideWorkspace(requested);
  }
  if (!isInside(realRoot, realTarget)) throw new PathOutsideWorkspace(requested);
  const info = await stat(realTarget);
  if (!info.isDirectory()) throw new RepositoryNotFound(requested);
  return realTarget;
}

/** Environment for git run on a workspace repository: never discovers a repository above the root. */
export async function gitEnvironment(root: string): Promise<Record<string, string>> {
  const realRoot = await realpath(path.resolve(root));
  return {
    GIT_CEILING_DIRECTORIES: path.dirname(realRoot),
    GIT_OPTIONAL_LOCKS: '0',
    GIT_TERMINAL_PROMPT: '0',
  };
}

/** Leading git options: repository config cannot make git run a program (fsmonitor), and no lock files are taken. */
export const SAFE_GIT_ARGS: readonly string[] = ['-c', 'core.fsmonitor=false', '--no-optional-locks'];

/** Runs one read-only git command (after `SAFE_GIT_ARGS`) in a workspace repository. */
export type GitRunner = (args: string[]) => Promise<RunResult>;

/** A `GitRunner` for `repo`: safe environment, 120 s timeout, `maxOutputBytes` kept per stream. */
export async function gitRunner(repo: string, root: string, signal: AbortSignal, maxOutputBytes: number): Promise<GitRunner> {
  const env = safeEnv(await gitEnvironment(root));
  return (args) => runForExecutor(['git', ...SAFE_GIT_ARGS, ...args], { cwd: repo, env, signal, timeoutMs: 120_000, maxOutputBytes });
}

/** Whether `relative` exists inside the repository (without following a final symlink). */
export async function repoHas(repo: string, relative: string): Promise<boolean> {
  try {
    await lstat(path.join(repo, relative));
    return true;
  } catch {
    return false;
  }
}

/** Text of a regular file of the repository (no symlinks), or undefined when absent or too large. */
export async function readRepoText(repo: string, relative: string, maxBytes = 1024 * 1024): Promise<string | undefined> {
  const file = path.join(repo, relative);
  if (!isInside(repo, file)) return undefined;
  try {
    const info = await lstat(file);
    if (!info.isFile() || info.size > maxBytes) return undefined;
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

const argv = z
  .array(
    z
      .string()
      .min(1)
      .max(4096)
      .refine((s) => !s.includes('\0'), 'NUL in argument'),
  )
  .min(1)
  .max(64);

const orchestratorConfig = z.object({ testCommand: argv.optional(), lintCommand: argv.optional() }).loose();

export type OrchestratorConfig = z.infer<typeof orchestratorConfig>;

/**
 * The repository's `.orchestrator.json`: commands are argv arrays run without a shell.
 * Absent → `{}`; present but invalid → `ExecutionFailed('InvalidConfiguration')`.
 */
export async function readOrchestratorConfig(repo: string): Promise<OrchestratorConfig> {
  const text = await readRepoText(repo, '.orchestrator.json');
  if (text === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ExecutionFailed('InvalidConfiguration', '.orchestrator.json is not valid JSON', false);
  }
  const parsed = orchestratorConfig.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new ExecutionFailed('InvalidConfiguration', `.orchestrator.json is invalid at: ${where}`, false);
  }
  return parsed.data;
}

/** `scripts[name]` of the repository's package.json when it is a real script. */
export async function packageScript(repo: string, name: string): Promise<string | undefined> {
  const text = await readRepoText(repo, 'package.json');
  if (text === undefined) return undefined;
  try {
    const script = (JSON.parse(text) as { scripts?: Record<string, unknown> }).scripts?.[name];
    if (typeof script !== 'string' || script.trim() === '') return undefined;
    if (name === 'test' && /no test specified/.test(script)) return undefined; // npm init's placeholder
    return script;
  } catch {
    return undefined;
  }
}

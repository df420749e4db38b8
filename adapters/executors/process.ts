import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { ExecutionFailed } from '../../domain/ports/executor.ts';
import { lineScrubber, secretScrubber, type Scrub } from '../../domain/secrets/scrub-secrets.ts';
import { groupMembers, signal } from '../processes/process-identity.ts';
import { EXECUTOR_RUN_VARIABLE, unwatchExecutorGroup, watchExecutorGroup } from './executor-groups.ts';

// Runs one command for an executor: never through a shell, in its own process group, with
// bounded output. Cancellation and timeouts stop the whole group (TW7): SIGTERM, then SIGKILL
// after a grace period if anything in the group is still running. If this process dies first,
// its watchdog stops the group (executor-groups.ts).
//
// SE4: this is where executor output enters the product, so nothing leaves here unscrubbed:
// every line handed to `onLine` and the captured stdout and stderr have the values of the
// child's credential variables (SF_ACCESS_TOKEN, ANTHROPIC_API_KEY…), any `secretValues` the
// caller names, and well-known token shapes hidden (domain/secrets).

export type OutputStream = 'stdout' | 'stderr';

export interface RunOptions {
  readonly cwd: string;
  readonly signal: AbortSignal;
  /** Whole environment of the command; defaults to `safeEnv()` (no secrets of this process). */
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /** Bytes kept per stream; the tail is kept. Default 1 MiB. */
  readonly maxOutputBytes?: number;
  /** Between SIGTERM and SIGKILL; default 2000 ms. */
  readonly killGraceMs?: number;
  /** Secret values to hide in the output besides those of the command's environment. */
  readonly secretValues?: readonly string[];
  /** Called with each complete line, already scrubbed. */
  onLine?(stream: OutputStream, line: string): void;
}

export interface RunResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  readonly durationMs: number;
  /** True when some output was dropped to stay within `maxOutputBytes`. */
  readonly truncated: boolean;
  readonly pid: number | undefined;
}

/** The command's executable does not exist (spawn ENOENT). */
export class CommandNotFound extends Error {
  override readonly name = 'CommandNotFound';
  readonly code = 'CommandNotFound';
  constructor(readonly command: string) {
    super(`command not found: ${command}`);
  }
}

const PASSED_ENV = new Set(
  (
    'PATH HOME USER LOGNAME LANG LANGUAGE TZ TMPDIR TMP TEMP SHELL GOPATH GOROOT GOCACHE GOMODCACHE GOFLAGS GOPROXY ' +
    'GOTOOLCHAIN CARGO_HOME RUSTUP_HOME RUSTUP_TOOLCHAIN PYENV_ROOT PYENV_VERSION VIRTUAL_ENV JAVA_HOME'
  ).split(' '),
);

/**
 * Environment for repository commands: an allow-list of this process's variables (so tokens and
 * API keys never reach repository code or its output, SE4), plus non-interactive settings.
 */
export function safeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && (PASSED_ENV.has(name) || name.startsWith('LC_'))) env[name] = value;
  }
  return {
    ...env,
    CI: 'true',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    PYTHONDONTWRITEBYTECODE: '1',
    PYTHONUNBUFFERED: '1',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  };
}

/** Names of variables that hold credentials; paths to credential files are not themselves secret. */
const SECRET_VARIABLE = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|SESSION|SEED|AUTH/i;
const NOT_A_SECRET_VALUE = /(_FILE|_PATH|_DIR|_SOCK|_HOME)$/i;

/** The values of an environment's credential variables (8 characters or more). */
export function secretValuesOfEnv(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).flatMap(([name, value]) =>
    value !== undefined && value.length >= 8 && SECRET_VARIABLE.test(name) && !NOT_A_SECRET_VALUE.test(name) ? [value] : [],
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const hasProc = existsSync('/proc/self/stat');

/** Pids of the group's members that are still running (zombies, already dead, are left out). */
function liveGroupMembers(pgid: number): number[] {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    // ESRCH: no process (not even a zombie) is left in the group, so there is nothing to scan for.
    if (!hasProc || (error as NodeJS.ErrnoException).code === 'ESRCH') return [];
  }
  return hasProc ? groupMembers(pgid) : [pgid];
}

const signalGroup = (pgid: number, name: NodeJS.Signals): void => signal(-pgid, name);

/** SIGTERM to the whole group, SIGKILL after `graceMs` if a member is still running. */
async function terminateGroup(pgid: number, graceMs = 2000): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (liveGroupMembers(pgid).length === 0) return;
    await sleep(40);
  }
  signalGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 20 && liveGroupMembers(pgid).length > 0; i++) await sleep(25);
}

const MAX_LINE = 64 * 1024;

/** One output stream: keeps its last `max` bytes and hands complete lines to a listener. */
class Capture {
  private chunks: Buffer[] = [];
  private size = 0;
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');
  dropped = false;
  private readonly scrubLine: Scrub;
  constructor(
    private readonly max: number,
    private readonly emit: (line: string) => void,
    private readonly scrub: Scrub,
  ) {
    this.scrubLine = lineScrubber(scrub);
  }
  write(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.max) {
      this.size -= this.chunks.shift()!.length;
      this.dropped = true;
    }
    const parts = (this.pending + this.decoder.write(chunk)).split('\n');
    this.pending = parts.pop() ?? '';
    for (const part of parts) this.deliver(part);
    if (this.pending.length > MAX_LINE) this.flush();
  }
  flush(): void {
    const rest = this.pending;
    this.pending = '';
    if (rest.length > 0) this.deliver(rest);
  }
  end(): void {
    this.pending += this.decoder.end();
    this.flush();
  }
  private deliver(line: string): void {
    try {
      this.emit(this.scrubLine(line.endsWith('\r') ? line.slice(0, -1) : line));
    } catch {
      // A faulty listener must not break the stream (or crash the worker).
    }
  }
  text(): string {
    let buffer = Buffer.concat(this.chunks);
    if (buffer.length > this.max) {
      this.dropped = true;
      let start = buffer.length - this.max;
      while (start < buffer.length && (buffer[start]! & 0xc0) === 0x80) start++; // partial UTF-8 character
      buffer = buffer.subarray(start);
    }
    const text = buffer.toString('utf8');
    // After a cut the first line is a fragment, perhaps of a secret no longer recognisable: left out.
    const firstBreak = this.dropped ? text.indexOf('\n') : -1;
    return this.scrub(firstBreak >= 0 ? text.slice(firstBreak + 1) : text);
  }
}

/** Runs `command args` (no shell) in its own process group; see the file comment. */
export function runProcess(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const maxBytes = options.maxOutputBytes ?? 1024 * 1024;
  const graceMs = options.killGraceMs ?? 2000;
  const empty = { exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, truncated: false, pid: undefined };
  if (options.signal.aborted) return Promise.resolve({ ...empty, cancelled: true, durationMs: 0 });

  return new Promise<RunResult>((resolve, reject) => {
    const token = randomUUID();
    const env = options.env ?? safeEnv();
    const scrub = secretScrubber([...(options.secretValues ?? []), ...secretValuesOfEnv(env)]);
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: { ...env, [EXECUTOR_RUN_VARIABLE]: token },
      detached: true,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const pid = child.pid;
    if (pid !== undefined) watchExecutorGroup(pid, token, [command, ...args]);
    const out = {
      stdout: new Capture(maxBytes, (line) => options.onLine?.('stdout', line), scrub),
      stderr: new Capture(maxBytes, (line) => options.onLine?.('stderr', line), scrub),
    };
    let timedOut = false;
    let cancelled = false;
    let stopping: Promise<void> | undefined;
    let settled = false;
    let closeGuard: NodeJS.Timeout | undefined;

    const stopGroup = () => {
      if (pid !== undefined && stopping === undefined) stopping = terminateGroup(pid, graceMs);
    };
    const onAbort = () => {
      cancelled = true;
      stopGroup();
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    const onTimeout = () => {
      timedOut = true;
      stopGroup();
    };
    const timer = options.timeoutMs !== undefined ? setTimeout(onTimeout, options.timeoutMs) : undefined;
    const cleanup = () => {
      settled = true;
      options.signal.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      if (closeGuard) clearTimeout(closeGuard);
    };

    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].on('data', (chunk: Buffer) => out[stream].write(chunk));
    }

    child.once('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      cleanup();
      if (pid !== undefined) {
        stopGroup();
        void stopping?.then(() => unwatchExecutorGroup(pid));
      }
      reject(error.code === 'ENOENT' && pid === undefined ? new CommandNotFound(command) : error);
    });

    child.once('exit', () => {
      if (timer) clearTimeout(timer); // finished in time, even if its pipes close later
      if (pid === undefined) return;
      // The leader is gone; whatever it left running in its group is stopped too.
      if (liveGroupMembers(pid).length > 0) stopGroup();
      // A process that escaped the group may hold our pipes open: stop waiting for them.
      closeGuard = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, graceMs + 1000);
    });

    child.once('close', (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      cleanup();
      out.stdout.end();
      out.stderr.end();
      void (async () => {
        await stopping;
        if (pid !== undefined) unwatchExecutorGroup(pid);
        resolve({
          exitCode,
          signal,
          stdout: out.stdout.text(),
          stderr: out.stderr.text(),
          timedOut,
          cancelled,
          durationMs: Math.round(performance.now() - started),
          truncated: out.stdout.dropped || out.stderr.dropped,
          pid,
        });
      })();
    });
  });
}

/** The failure to report when the task's signal was aborted: a timeout is retryable, a cancel is not. */
export function abortedFailure(signal: AbortSignal): ExecutionFailed {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new ExecutionFailed('TimedOut', 'the task timed out', true);
  }
  return new ExecutionFailed('Cancelled', 'the task was cancelled', false);
}

/**
 * `runProcess` for executors: a missing binary → `RunnerNotInstalled`, a timeout → `TimedOut`
 * (retryable), a cancelled task → `Cancelled`. Non-zero exits are returned for the caller to judge.
 */
export async function runForExecutor(argv: readonly string[], options: RunOptions): Promise<RunResult> {
  const [command, ...args] = argv;
  if (command === undefined) throw new ExecutionFailed('InvalidConfiguration', 'empty command', false);
  let result: RunResult;
  try {
    result = await runProcess(command, args, options);
  } catch (error) {
    if (error instanceof CommandNotFound) {
      throw new ExecutionFailed('RunnerNotInstalled', `${command} is not installed or not on PATH`, false);
    }
    throw error;
  }
  if (result.cancelled) throw abortedFailure(options.signal);
  if (result.timedOut) throw new ExecutionFailed('TimedOut', `${command} timed out after ${options.timeoutMs} ms`, true);
  return result;
}

/** `line` without ANSI escape sequences (colours, cursor movement). */
// eslint-disable-next-line no-control-regex -- ESC is what an ANSI sequence starts with
export const stripAnsi = (line: string): string => line.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');

/** The last lines of a command's combined output, bounded in lines and characters. */
export class LineTail {
  private readonly lines: string[] = [];
  private chars = 0;
  truncated = false;
  constructor(
    private readonly maxLines = 200,
    private readonly maxChars = 16 * 1024,
  ) {}
  push(line: string): void {
    const bounded = line.length > 1000 ? `${line.slice(0, 1000)}…` : line;
    this.lines.push(bounded);
    this.chars += bounded.length + 1;
    while (this.lines.length > this.maxLines || (this.chars > this.maxChars && this.lines.length > 1)) {
      this.chars -= this.lines.shift()!.length + 1;
      this.truncated = true;
    }
  }
  text(): string {
    return this.lines.join('\n');
  }
}

/** Stages of an executor that finds a tool in the repository, runs it and reads its report (tests, lint). */
export const DETECT_RUN_REPORT_STAGES = [
  { name: 'detect', weight: 1 },
  { name: 'run', weight: 8 },
  { name: 'report', weight: 1 },
] as const;

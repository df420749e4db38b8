import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { currentBootId, identityOf, procStat } from '../processes/process-identity.ts';

// Every executor runs in its own process group, which outlives the worker if the worker is
// killed (SIGKILL skips every handler). Two guards against such orphans:
// - a watchdog process per worker (group-watchdog.mjs) holding a pipe from us: when the pipe
//   closes, it stops every group still running;
// - a record per running group under DATA_DIR/run/executors, for the case where the watchdog
//   died too: the next worker on this host stops what the records still name (executor-leftovers.ts).

/** Set in each executor's environment: marks the group's members as ours once the leader is gone. */
export const EXECUTOR_RUN_VARIABLE = 'ORCH_EXECUTOR_RUN';

export const ExecutorGroupRecord = z.object({
  pgid: z.number().int().positive(),
  /** Start time of the group's leader (its pid is the pgid), in clock ticks since boot. */
  startTime: z.string().min(1),
  bootId: z.string().min(1),
  host: z.string(),
  /** Value of EXECUTOR_RUN_VARIABLE in the group's environment. */
  token: z.string().min(1),
  command: z.array(z.string()),
  /** The worker process that ran it; its group is left alone while that very process runs. */
  owner: z.object({ pid: z.number().int().positive(), startTime: z.string().min(1), bootId: z.string().min(1) }),
});
export type ExecutorGroupRecord = z.infer<typeof ExecutorGroupRecord>;

const WATCHDOG_SCRIPT = path.join(import.meta.dirname, 'group-watchdog.mjs');

const watched = new Map<number, ExecutorGroupRecord>();
let watchdog: ChildProcess | undefined;
let recordDir: string | undefined;

/** Where running groups are recorded from now on (the worker role sets it; tests may leave it unset). */
export function recordExecutorGroupsIn(dir: string): void {
  mkdirSync(dir, { recursive: true });
  recordDir = dir;
}

const recordFile = (dir: string, record: ExecutorGroupRecord) => path.join(dir, `${record.owner.pid}-${record.pgid}.json`);
const watchLine = (record: ExecutorGroupRecord) => `watch ${record.pgid} ${record.startTime} ${record.token}\n`;

function send(line: string): void {
  let child = watchdog;
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    child = startWatchdog();
    if (!child) return;
    // A new watchdog learns about the groups its predecessor watched.
    for (const record of watched.values()) child.stdin!.write(watchLine(record));
  }
  child.stdin!.write(line);
}

function startWatchdog(): ChildProcess | undefined {
  try {
    // Detached: its own session, so Ctrl-C at the terminal or a signal to our group does not reach it.
    const child = spawn(process.execPath, [WATCHDOG_SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => undefined);
    child.stdin!.on('error', () => undefined);
    // It must not keep this process alive: it ends by itself when our end of the pipe closes.
    child.unref();
    (child.stdin as unknown as { unref?: () => void }).unref?.();
    watchdog = child;
    return child;
  } catch {
    return undefined;
  }
}

/** Called right after an executor's group leader was spawned. */
export function watchExecutorGroup(pgid: number, token: string, command: readonly string[]): void {
  const leader = procStat(pgid);
  const owner = identityOf(process.pid);
  if (!leader || !owner) return; // no /proc (not Linux), or the leader is already gone
  const record: ExecutorGroupRecord = {
    pgid,
    startTime: leader.startTime,
    bootId: currentBootId(),
    host: hostname(),
    token,
    command: [...command],
    owner: { pid: owner.pid, startTime: owner.startTime, bootId: owner.bootId },
  };
  send(watchLine(record));
  watched.set(pgid, record);
  if (recordDir) {
    try {
      writeFileSync(recordFile(recordDir, record), JSON.stringify(record));
    } catch {
      // Best effort: the watchdog still guards the group.
    }
  }
}

/** Called once nothing of the group runs any more. */
export function unwatchExecutorGroup(pgid: number): void {
  const record = watched.get(pgid);
  if (!record) return;
  watched.delete(pgid);
  send(`unwatch ${pgid}\n`);
  if (recordDir) {
    try {
      rmSync(recordFile(recordDir, record), { force: true });
    } catch {
      // A record left behind is checked (and found finished) by the next worker's sweep.
    }
  }
}

/** The running watchdog's pid, if one was started (for diagnostics and tests). */
export const executorWatchdogPid = (): number | undefined => watchdog?.pid;

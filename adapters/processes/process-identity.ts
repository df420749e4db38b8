import { readdirSync, readFileSync } from 'node:fs';

// Who a process is, read from Linux's /proc. A pid alone is recycled; a pid with its start time
// (clock ticks since boot) and the boot id names one process for ever, so a record written by an
// earlier run can be checked before anything is signalled. Without /proc (not Linux) every lookup
// answers "unknown" and callers signal nothing.

export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
  readonly startTime: string;
  readonly bootId: string;
}

export interface ProcStat {
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly startTime: string;
}

const readText = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** The machine's boot id; start times compare only within one boot. */
export const currentBootId = (): string => readText('/proc/sys/kernel/random/boot_id')?.trim() ?? 'unknown-boot';

export function procStat(pid: number): ProcStat | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, pgrp] = fields;
  const startTime = fields[19];
  if (state === undefined || startTime === undefined) return undefined;
  return { state, ppid: Number(ppid), pgrp: Number(pgrp), startTime };
}

const isDead = (stat: ProcStat): boolean => stat.state === 'Z' || stat.state === 'X';

export function identityOf(pid: number): ProcessIdentity | undefined {
  const stat = procStat(pid);
  return stat ? { pid, startTime: stat.startTime, bootId: currentBootId() } : undefined;
}

/** True while the very process of `identity` runs (not a zombie, not a later process with its pid). */
export function isSameProcess(identity: ProcessIdentity): boolean {
  const stat = procStat(identity.pid);
  return stat !== undefined && !isDead(stat) && stat.startTime === identity.startTime && identity.bootId === currentBootId();
}

/** Its argv, or undefined when it is gone. */
export function commandLineOf(pid: number): string[] | undefined {
  const text = readText(`/proc/${pid}/cmdline`);
  return text === undefined || text === '' ? undefined : text.split('\0').filter((arg) => arg !== '');
}

/** True when its environment (as it was at exec) holds `entry` ("NAME=value"). */
export function environHas(pid: number, entry: string): boolean {
  return readText(`/proc/${pid}/environ`)?.split('\0').includes(entry) ?? false;
}

/** Running processes (zombies left out), optionally only those `keep` accepts. */
export function runningProcesses(keep: (pid: number, stat: ProcStat) => boolean = () => true): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = procStat(pid);
    if (stat && !isDead(stat) && keep(pid, stat)) found.push(pid);
  }
  return found;
}

/** Running members of a process group. */
export const groupMembers = (pgid: number): number[] => runningProcesses((_, stat) => stat.pgrp === pgid);

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: already gone.
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** SIGTERM to each target, SIGKILL after `graceMs` to whatever `stillRunning` still reports. */
export async function terminate(targets: readonly number[], stillRunning: () => number[], graceMs: number): Promise<void> {
  for (const target of targets) signal(target, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (stillRunning().length === 0) return;
    await sleep(50);
  }
  for (const pid of stillRunning()) signal(pid, 'SIGKILL');
}

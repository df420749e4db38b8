import { readdirSync, readFileSync } from 'node:fs';

// What runs on this machine, read straight from /proc by the test itself (independent of the
// product's own process helpers). Zombies count as gone: they run nothing any more.

export interface ProcEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly state: string;
  readonly argv: readonly string[];
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

export function procEntry(pid: number): ProcEntry | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const [state = '?', ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const argv = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter((a) => a !== '');
  return { pid, ppid: Number(ppid), pgrp: Number(pgrp), state, argv };
}

/** Every running (non-zombie) process. */
export function runningProcesses(): ProcEntry[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => procEntry(Number(name)))
    .filter((entry): entry is ProcEntry => entry !== undefined && entry.state !== 'Z' && entry.state !== 'X');
}

export const isRunning = (pid: number): boolean => {
  const entry = procEntry(pid);
  return entry !== undefined && entry.state !== 'Z' && entry.state !== 'X';
};

/** Running members of a process group. */
export const groupMembers = (pgid: number): number[] =>
  runningProcesses()
    .filter((p) => p.pgrp === pgid)
    .map((p) => p.pid);

/** Running processes whose command line has an argument containing `text`. */
export const processesMentioning = (text: string): ProcEntry[] => runningProcesses().filter((p) => p.argv.some((arg) => arg.includes(text)));

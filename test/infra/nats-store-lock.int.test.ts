import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedNatsServer } from '../../infra/nats/embedded-nats-server.ts';
import { NatsStoreInUse } from '../../infra/nats/store-lock.ts';
import { isRunning } from '../support/proc-scan.ts';
import { waitFor } from '../support/waiting.ts';

// One product per embedded NATS store: the lock, and the leftover server of a killed run.

const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const startTimeOf = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;

describe('the embedded NATS store lock', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });
  const dataDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'orch-store-lock-'));
    dirs.push(dir);
    await mkdir(path.join(dir, 'nats'));
    return dir;
  };
  const sleeper = async (): Promise<number> => {
    const child = spawn('sleep', ['120'], { stdio: 'ignore' });
    children.push(child);
    await waitFor('the sleeper', () => isRunning(child.pid!));
    return child.pid!;
  };
  const lockFile = (dir: string) => path.join(dir, 'nats', 'orchestrator.lock');

  it('a lock held by a process that still runs refuses the start, naming its pid', async () => {
    const dir = await dataDir();
    const holder = await sleeper();
    await writeFile(lockFile(dir), JSON.stringify({ pid: holder, startTime: startTimeOf(holder), bootId }));
    const error = await startEmbeddedNatsServer({ dataDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsStoreInUse);
    expect((error as Error).message).toMatch(new RegExp(`in use by another orchestrator process \\(pid ${holder}\\)`));
    expect(JSON.parse(await readFile(lockFile(dir), 'utf8')).pid).toBe(holder); // not taken
  });

  it('a lock whose pid now belongs to a later process (another start time) is taken over, and released on stop', async () => {
    const dir = await dataDir();
    const later = await sleeper();
    await writeFile(lockFile(dir), JSON.stringify({ pid: later, startTime: String(Number(startTimeOf(later)) - 1), bootId }));
    const server = await startEmbeddedNatsServer({ dataDir: dir });
    expect(JSON.parse(await readFile(lockFile(dir), 'utf8')).pid).toBe(process.pid);
    expect(await startEmbeddedNatsServer({ dataDir: dir }).catch((e: unknown) => e)).toBeInstanceOf(NatsStoreInUse);
    await server.stop();
    await expect(readFile(lockFile(dir), 'utf8')).rejects.toThrow(/ENOENT/);
    expect(isRunning(later)).toBe(true);
  });

  it('a nats-server left on the store by a killed run is stopped before the new one starts; one on another store is not touched', async () => {
    const dir = await dataDir();
    const other = await dataDir();
    const first = await startEmbeddedNatsServer({ dataDir: dir });
    const unrelated = await startEmbeddedNatsServer({ dataDir: other });
    // What a SIGKILLed product leaves: its server still running, its lock naming a process that is gone.
    await writeFile(lockFile(dir), JSON.stringify({ pid: process.pid, startTime: '1', bootId }));
    const second = await startEmbeddedNatsServer({ dataDir: dir });
    expect(second.stoppedLeftovers).toEqual([first.pid]);
    await waitFor('the leftover to be gone', () => !isRunning(first.pid));
    expect(isRunning(second.pid)).toBe(true);
    expect(isRunning(unrelated.pid)).toBe(true);
    await Promise.all([second.stop(), unrelated.stop(), first.stop()]);
  });
});

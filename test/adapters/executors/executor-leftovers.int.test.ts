import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopLeftoverExecutorGroups } from '../../../adapters/executors/executor-leftovers.ts';
import { groupMembers, isRunning, runningProcesses } from '../../support/proc-scan.ts';
import { waitFor } from '../../support/waiting.ts';

// The start-up sweep over executor-group records: it stops a recorded group only when the
// record still provably names it, and never signals anything else.

const readText = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const startTimeOf = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;

describe('stopping executor groups left by an earlier worker', () => {
  const started: ChildProcess[] = [];
  const strays: number[] = [];
  let dir: string;
  afterAll(async () => {
    for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of strays) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A process group of its own, as runProcess makes one, with a run token in its environment. */
  const group = (script: string, token: string): ChildProcess => {
    const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore', env: { PATH: process.env.PATH, ORCH_EXECUTOR_RUN: token } });
    started.push(child);
    return child;
  };
  // A worker that is gone: this file's own pid with a start time it never had.
  const goneOwner = { pid: process.pid, startTime: '1', bootId };
  const record = async (name: string, fields: Record<string, unknown>) =>
    writeFile(path.join(dir, name), JSON.stringify({ bootId, host: hostname(), command: ['sh'], owner: goneOwner, ...fields }));

  it('stops a group whose leader matches, the token-marked members of a leaderless group, and nothing unproven', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'orch-executor-records-'));

    const led = group('sleep 61.1', 'token-led');
    await waitFor('the led group', () => groupMembers(led.pid!).length >= 1);
    await record('a.json', { pgid: led.pid, startTime: startTimeOf(led.pid!), token: 'token-led' });

    // The leader exits at once and leaves its background sleep in the group.
    const leaderless = group('sleep 61.2 & exit 0', 'token-leaderless');
    const leaderlessPgid = leaderless.pid!;
    const orphan = await waitFor('the leaderless group', () => {
      const members = groupMembers(leaderlessPgid);
      return !isRunning(leaderlessPgid) && members.length === 1 ? members[0] : undefined;
    });
    strays.push(orphan);
    await record('b.json', { pgid: leaderlessPgid, startTime: '1', token: 'token-leaderless' });

    // Same shape, but its members carry another token: not provably the recorded group.
    const foreign = group('sleep 61.3 & exit 0', 'someone-else');
    const foreignPgid = foreign.pid!;
    const foreignMember = await waitFor('the foreign group', () => {
      const members = groupMembers(foreignPgid);
      return !isRunning(foreignPgid) && members.length === 1 ? members[0] : undefined;
    });
    strays.push(foreignMember);
    await record('c.json', { pgid: foreignPgid, startTime: '1', token: 'token-of-the-record' });

    // A live process under a record of an earlier process that had its pid (another start time).
    const recycled = group('sleep 61.4', 'token-recycled');
    await waitFor('the recycled one', () => isRunning(recycled.pid!));
    await record('d.json', { pgid: recycled.pid, startTime: String(Number(startTimeOf(recycled.pid!)) - 1), token: 'token-recycled' });

    // A record whose worker still runs (this very process): left alone.
    const guarded = group('sleep 61.5', 'token-guarded');
    await waitFor('the guarded one', () => isRunning(guarded.pid!));
    await record('e.json', {
      pgid: guarded.pid,
      startTime: startTimeOf(guarded.pid!),
      token: 'token-guarded',
      owner: { pid: process.pid, startTime: startTimeOf(process.pid), bootId },
    });

    // Another host's record in a shared DATA_DIR: not ours to judge.
    await record('f.json', { pgid: led.pid, startTime: startTimeOf(led.pid!), token: 'token-led', host: 'another-host' });
    await writeFile(path.join(dir, 'g.json'), '{"not": "a record"');

    // Every process carrying the leaderless record's token, as the sweep is about to look.
    const tokenCarriers = runningProcesses()
      .map((p) => p.pid)
      .filter((pid) => (readText(`/proc/${pid}/environ`) ?? '').split('\0').includes('ORCH_EXECUTOR_RUN=token-leaderless'));
    const sweep = await stopLeftoverExecutorGroups(dir, 1_000);

    expect(sweep.stopped.map((r) => r.pgid).sort()).toEqual([led.pid, leaderlessPgid].sort());
    expect(groupMembers(led.pid!)).toEqual([]);
    expect(isRunning(orphan)).toBe(false);
    // What it spared is judged by what it signalled: on a busy machine (the full suite), other
    // processes' cleanup may end one of these sleeps, which would say nothing about the sweep.
    expect(sweep.signalled).toContain(-led.pid!);
    expect(sweep.signalled).toContain(orphan);
    // Besides the led group, only processes that carried the leaderless record's token.
    for (const target of sweep.signalled.filter((t) => t !== -led.pid!)) expect(tokenCarriers).toContain(target);
    for (const spared of [foreignMember, -foreignPgid, recycled.pid!, -recycled.pid!, guarded.pid!, -guarded.pid!])
      expect(sweep.signalled).not.toContain(spared);
    expect((await readdir(dir)).sort()).toEqual(['e.json', 'f.json']);
    expect(runningProcesses().some((p) => p.argv.includes('61.1') || p.argv.includes('61.2'))).toBe(false);
  });
});

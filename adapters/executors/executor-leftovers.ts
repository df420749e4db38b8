import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { currentBootId, environHas, groupMembers, isSameProcess, procStat, terminate } from '../processes/process-identity.ts';
import { EXECUTOR_RUN_VARIABLE, ExecutorGroupRecord, recordExecutorGroupsIn } from './executor-groups.ts';

// A worker starting on a host stops the executor groups that an earlier worker on this host
// recorded and left running (it and its watchdog were both killed). A record is acted on only
// when everything still proves it: same host and boot, the worker that wrote it is gone, and the
// group's leader has the recorded start time, or, with the leader gone, a member carries the
// record's run token in its environment. Anything else is never signalled.

export interface LeftoverSweep {
  /** Groups found running and stopped. */
  readonly stopped: readonly ExecutorGroupRecord[];
  /** Records removed because nothing of theirs runs any more (or they were unreadable). */
  readonly cleared: number;
  /** Every pid (or -pgid for a whole group) the sweep signalled: nothing else was. */
  readonly signalled: readonly number[];
}

export const executorRecordDir = (dataDir: string): string => path.resolve(dataDir, 'run', 'executors');

/** Pids (or -pgid for the whole group) that are provably the recorded group's. */
function recordedTargets(record: ExecutorGroupRecord): number[] {
  const leader = procStat(record.pgid);
  if (leader) return leader.startTime === record.startTime ? [-record.pgid] : []; // else: a later process has the pid
  return groupMembers(record.pgid).filter((pid) => environHas(pid, `${EXECUTOR_RUN_VARIABLE}=${record.token}`));
}

export async function stopLeftoverExecutorGroups(dir: string, graceMs = 2000): Promise<LeftoverSweep> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return { stopped: [], cleared: 0, signalled: [] };
  }
  const stopped: ExecutorGroupRecord[] = [];
  const signalled: number[] = [];
  const stopping: Promise<void>[] = [];
  let cleared = 0;
  for (const name of files) {
    const file = path.join(dir, name);
    let record: ExecutorGroupRecord;
    try {
      record = ExecutorGroupRecord.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      rmSync(file, { force: true });
      cleared++;
      continue;
    }
    if (record.host !== hostname()) continue; // a shared DATA_DIR: another host's group
    if (record.bootId === currentBootId()) {
      if (isSameProcess(record.owner)) continue; // its worker still runs and guards it
      const targets = recordedTargets(record);
      if (targets.length > 0) {
        stopped.push(record);
        signalled.push(...targets);
        const members = () => groupMembers(record.pgid).filter((pid) => targets.includes(-record.pgid) || targets.includes(pid));
        stopping.push(terminate(targets, members, graceMs).then(() => rmSync(file, { force: true })));
        continue;
      }
    }
    rmSync(file, { force: true });
    cleared++;
  }
  await Promise.all(stopping);
  return { stopped, cleared, signalled };
}

/** Worker-role start: stop the leftovers recorded under DATA_DIR, then record this process's groups there. */
export async function guardExecutorGroups(dataDir: string, logger: Logger): Promise<void> {
  const dir = executorRecordDir(dataDir);
  try {
    const { stopped } = await stopLeftoverExecutorGroups(dir);
    for (const record of stopped) {
      logger.warn({ pgid: record.pgid, command: record.command, workerPid: record.owner.pid }, 'stopped an executor left running by an earlier worker');
    }
    recordExecutorGroupsIn(dir);
  } catch (error) {
    // The watchdog still guards this worker's groups; only the records are missing.
    logger.warn({ err: error, dir }, 'cannot record executor process groups');
  }
}

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { currentBootId, identityOf, isSameProcess, type ProcessIdentity } from '../../adapters/processes/process-identity.ts';

// One product process per embedded NATS store: two nats-servers writing one JetStream store
// corrupt it. The lock file names the holding process by pid, start time and boot id, so a lock
// left by a killed run (its process gone, or its pid now someone else's) is taken over, and a
// lock of a process that still runs refuses the start.

export class NatsStoreInUse extends Error {
  override readonly name = 'NatsStoreInUse';
  constructor(
    readonly storeDir: string,
    readonly holderPid: number,
  ) {
    super(
      `the NATS store ${storeDir} is in use by another orchestrator process (pid ${holderPid}). ` + `Stop that one first, or give this one its own DATA_DIR.`,
    );
  }
}

export interface StoreLock {
  readonly file: string;
  /** Removes the lock if it is still ours; synchronous, so it also works in an 'exit' handler. */
  release(): void;
}

const LockHolder = z.object({ pid: z.number().int().positive(), startTime: z.string(), bootId: z.string() });

const hasProc = identityOf(process.pid) !== undefined;

/** Without /proc (not Linux) the pid alone has to do. */
function holderRuns(holder: ProcessIdentity): boolean {
  if (hasProc) return isSameProcess(holder);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readHolder(file: string): ProcessIdentity | undefined {
  try {
    return LockHolder.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined; // missing or unreadable: nobody provably holds it
  }
}

export function lockStore(storeDir: string): StoreLock {
  const file = path.join(storeDir, 'orchestrator.lock');
  const me: ProcessIdentity = identityOf(process.pid) ?? { pid: process.pid, startTime: 'unknown', bootId: currentBootId() };
  const text = JSON.stringify(me);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, text, { flag: 'wx' });
      return {
        file,
        release: () => {
          const holder = readHolder(file);
          if (holder?.pid === me.pid && holder.startTime === me.startTime) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder && holderRuns(holder)) throw new NatsStoreInUse(storeDir, holder.pid);
    rmSync(file, { force: true }); // left by a run that is gone
  }
  throw new NatsStoreInUse(storeDir, readHolder(file)?.pid ?? 0);
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { commandLineOf, identityOf, isSameProcess, runningProcesses, terminate, type ProcessIdentity } from '../../adapters/processes/process-identity.ts';

// A product killed with SIGKILL cannot stop its nats-server, which runs in its own process group.
// The next start, holding the store lock, stops such leftovers before it starts its own server:
// never two servers on one store. (Stopped rather than reused: a leftover may run with an older
// configuration, and a fresh server costs only a JetStream recovery of the same store.)
// A process counts as a leftover only if it runs nats-server with our config file: the one the
// pid file names, and any other found in /proc (servers of runs from before the pid file).

const isOurServer = (pid: number, configFile: string): boolean => {
  const argv = commandLineOf(pid);
  return argv !== undefined && path.basename(argv[0] ?? '').startsWith('nats-server') && argv.includes(configFile);
};

function pidFromFile(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Stops the nats-servers still running with `configFile`; returns their pids. */
export async function stopLeftoverNatsServers(configFile: string, pidFile: string, graceMs = 5_000): Promise<number[]> {
  const candidates = new Set<number>(runningProcesses((pid) => isOurServer(pid, configFile)));
  const recorded = pidFromFile(pidFile);
  if (recorded !== undefined && isOurServer(recorded, configFile)) candidates.add(recorded);
  const leftovers = [...candidates].map(identityOf).filter((id): id is ProcessIdentity => id !== undefined);
  if (leftovers.length === 0) return [];
  await terminate(
    leftovers.map((id) => id.pid),
    () => leftovers.filter(isSameProcess).map((id) => id.pid),
    graceMs,
  );
  return leftovers.map((id) => id.pid);
}

// Watchdog of one worker process's executor process groups (plain node, no tsx: it must start
// fast and on its own). The worker keeps a pipe to our stdin and writes one line per group:
//   watch <pgid> <leader start time> <run token>   |   unwatch <pgid>
// When the pipe closes the worker is gone, whatever killed it (even SIGKILL), so every group
// still watched is stopped: SIGTERM, SIGKILL after a short grace. A group counts as the one we
// were told about only if its leader has the recorded start time, or, with the leader gone,
// for the members whose environment carries the run token (a pgid is never recycled while
// members of the group still run).
import { readdirSync, readFileSync } from 'node:fs';

const GRACE_MS = 1000;
const watched = new Map(); // pgid → { startTime, token }

const read = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
const stat = (pid) => {
  const text = read(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], pgrp: Number(fields[2]), startTime: fields[19] };
};
const running = (s) => s !== undefined && s.state !== 'Z' && s.state !== 'X';
const members = (pgid) => {
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    // no /proc: nothing to find
  }
  return entries
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const s = stat(pid);
      return running(s) && s.pgrp === pgid;
    });
};
const kill = (target, signal) => {
  try {
    process.kill(target, signal);
  } catch {
    // ESRCH: already gone
  }
};

/** Pids (or -pgid) to signal for one watched group; empty when it is not ours any more. */
function targets(pgid, { startTime, token }) {
  const leader = stat(pgid);
  if (leader !== undefined && leader.startTime === startTime) return [-pgid];
  if (leader !== undefined) return []; // a later process owns that pid now
  return members(pgid).filter((pid) => (read(`/proc/${pid}/environ`) ?? '').split('\0').includes(`ORCH_EXECUTOR_RUN=${token}`));
}

async function stopAll() {
  const groups = [...watched].map(([pgid, group]) => ({ pgid, targets: targets(pgid, group) }));
  for (const { targets: ts } of groups) for (const t of ts) kill(t, 'SIGTERM');
  const left = () => groups.filter(({ pgid, targets: ts }) => ts.length > 0 && members(pgid).length > 0);
  const deadline = Date.now() + GRACE_MS;
  while (left().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const { targets: ts } of left()) for (const t of ts) kill(t, 'SIGKILL');
  process.exit(0);
}

// The worker's terminal signals are not ours to act on; only the closed pipe is.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk).split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    const [verb, pgid, startTime, token] = line.trim().split(' ');
    if (verb === 'watch' && Number(pgid) > 1 && startTime && token) watched.set(Number(pgid), { startTime, token });
    else if (verb === 'unwatch') watched.delete(Number(pgid));
  }
});
process.stdin.on('end', () => void stopAll());
process.stdin.on('error', () => void stopAll());

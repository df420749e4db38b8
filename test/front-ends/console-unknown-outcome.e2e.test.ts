import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { isAlive } from '../support/processes.ts';
import { waitFor } from '../support/waiting.ts';

// Issue 11 in the console: an unknown outcome of a task in this session is printed with what
// to type, and DONE typed at the prompt decides it. `npm start`'s entry point in a real
// terminal (tmux) against a nats-server the test started, so the test can play the two workers
// of the task on the bus; the task goes to a pool no worker of the product takes.

const root = path.resolve(import.meta.dirname, '../..');
const socket = `orch-outcome-test-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
const operator = userInfo().username.replace(/[^A-Za-z0-9_-]/g, '_') || 'x';

let nats: TestNatsServer;
let workspace: string;
let nc: NatsConnection;
let store: JetStreamEventStore;
let panePid: number | undefined;

const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-300', '-t', 'chat');
async function waitForScreen(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen();
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on the screen:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const events = async (stream: string): Promise<RecordedEvent[]> => [...(await store.read(stream as never)).events];

beforeAll(async () => {
  nats = await startTestNatsServer();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-console-outcome-e2e-'));
  const repo = path.join(workspace, 'acme');
  await mkdir(repo, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-q', '--allow-empty', '-m', 'init');
  nc = await connect({ servers: nats.url });
  store = await JetStreamEventStore.connect(nc);
}, 60_000);

afterAll(async () => {
  if (panePid && isAlive(panePid)) process.kill(panePid, 'SIGTERM');
  try {
    tmux('kill-server');
  } catch {
    // already gone with its only pane
  }
  await nc?.close();
  await nats?.dispose();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe('an unknown outcome in the console', () => {
  it('is printed with what to type; DONE decides the one waiting, RERUN <task id> one of several', async () => {
    const command = `cd ${root} && env -i PATH='${process.env.PATH}' HOME='${process.env.HOME}' NATS_URL='${nats.url}' DATA_DIR='${path.join(workspace, '.data')}' WORKSPACE_ROOT='${workspace}' CLAUDE_WORKER_COUNT=0 ${process.execPath} --import tsx infra/main.ts`;
    tmux('new-session', '-d', '-s', 'chat', '-x', '200', '-y', '60', command);
    panePid = Number(tmux('display', '-p', '-t', 'chat', '#{pane_pid}').trim());
    await waitForScreen(/you> /);

    // A first request opens this session's conversation; the side-effecting task joins it.
    tmux('send-keys', '-t', 'chat', 'git status of acme', 'Enter');
    await waitForScreen(/git status of acme[\s\S]*you> /);
    const first = await waitFor('the console task to be queued', async () => (await store.readAll({ category: 'task' })).find((e) => e.type === 'TaskQueued'));
    const conversationId = (first.data as { conversationId: string }).conversationId;
    expect(conversationId).toMatch(/^console-/);

    const commands = new CommandClient(nc, 'orch', 10_000);
    /** A claude-code edit in this conversation whose first worker went silent and whose second may not re-run it. */
    async function unknownOutcome(taskId: string): Promise<void> {
      const send = (type: string, data: Record<string, unknown>, actor: string) =>
        commands.forward({ category: 'task', id: taskId }, { commandId: `${type}-${String(data.attempt ?? 0)}`, type, actor, data });
      // Asked for by a colleague in this conversation: the operator may decide it (the requester alone may not).
      const queued = await send(
        'QueueTask',
        {
          taskType: 'claude-code',
          pool: 'claude',
          payload: { repository: 'acme', mode: 'edit', prompt: 'tidy up' },
          timeoutMs: 600_000,
          conversationId,
          requestedBy: 'a-colleague',
        },
        'a-colleague',
      );
      expect(queued.status).toBe('accepted');
      expect((await send('AssignTask', { workerId: 'claude-worker-a', attempt: 1 }, 'claude-worker-a')).status).toBe('accepted');
      expect((await send('AssignTask', { workerId: 'claude-worker-b', attempt: 2, rerunSafe: false }, 'claude-worker-b')).status).toBe('accepted');
    }

    const taskId = 'console-claude-edit-1';
    await unknownOutcome(taskId);
    const notice = await waitForScreen(/Type RERUN to run it again, DONE if it did its work, or FAIL to mark it failed\./);
    expect(notice).toContain('Outcome unknown: claude-code (attempt 1)');
    expect(notice).toContain('claude-worker-a went silent');

    // A second one: a word alone no longer says which, so it is refused with the ids to name.
    await unknownOutcome('console-claude-edit-2');
    await waitForScreen(/Type RERUN console-claude-edit-2 to run it again, DONE console-claude-edit-2 if it did its work/);
    tmux('send-keys', '-t', 'chat', 'DONE', 'Enter');
    await waitForScreen(/Several tasks are waiting for a decision \(console-claude-edit-1, console-claude-edit-2\); name one/);
    tmux('send-keys', '-t', 'chat', 'rerun console-claude-edit-2', 'Enter');
    await waitForScreen(/Running claude-code again \(attempt 2\)\./);
    await waitForScreen(new RegExp(`↻ Outcome decided: claude-code \\(attempt 1\\)[^\\n]*Re-run by ${operator}\\.`));
    expect((await events('task-console-claude-edit-2')).map((e) => e.type).slice(-2)).toEqual(['TaskOutcomeResolved', 'TaskRetryScheduled']);
    expect((await events(`task-${taskId}`)).at(-1)!.type).toBe('TaskOutcomeUnknown');

    // One is left: DONE alone decides it.
    tmux('send-keys', '-t', 'chat', 'DONE', 'Enter');
    await waitForScreen(/Marked as done: task console-claude-edit-1 is completed\./);
    await waitForScreen(new RegExp(`↻ Outcome decided: claude-code \\(attempt 1\\)[^\\n]*Marked as done by ${operator}\\.`));
    const history = await events(`task-${taskId}`);
    expect(history.map((e) => e.type).slice(-2)).toEqual(['TaskOutcomeResolved', 'TaskCompleted']);
    expect(history.at(-2)!.data).toMatchObject({ resolution: 'completed', resolvedBy: operator, via: 'person' });

    // Nothing else waits now, and the word says so rather than becoming a request.
    tmux('send-keys', '-t', 'chat', 'DONE', 'Enter');
    await waitForScreen(/No task of this session is waiting for a decision\./);

    tmux('send-keys', '-t', 'chat', '/quit', 'Enter');
    const deadline = Date.now() + 30_000;
    while (isAlive(panePid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(panePid)).toBe(false);
  }, 150_000);
});

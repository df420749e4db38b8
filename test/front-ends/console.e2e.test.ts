import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../support/processes.ts';

// The console front end as a person or a script meets it: `npm start`'s entry point with no
// Slack credentials, its own embedded nats-server, the offline planner, and a git repository
// made for the test. `--once` from a pipe; the interactive chat inside tmux (a real terminal).

const root = path.resolve(import.meta.dirname, '../..');
let workspace: string;

async function makeRepository(name: string, files: number): Promise<void> {
  const repo = path.join(workspace, name);
  await mkdir(repo, { recursive: true });
  for (let i = 0; i < files; i++) await writeFile(path.join(repo, `f${i}.ts`), `export const x${i} = ${i}; // TODO check\n`);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
}

const productEnv = (dataDir: string): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, WORKSPACE_ROOT: workspace });

beforeAll(async () => {
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-console-e2e-'));
  await makeRepository('acme', 40);
});

afterAll(async () => {
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe('--once', () => {
  it('runs one request: progress bar lines, then the formatted result, exit code 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/main.ts', '--once', 'analyze repo acme'], {
      cwd: root,
      env: productEnv(path.join(workspace, '.once')),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(out, out).toContain('On it: analyze the codebase of acme');
    expect(out).toMatch(/░{10} 0%/);
    expect(out).toContain('██████████ 100%');
    expect(out).toContain('40 files, 40 lines');
    expect(code).toBe(0);
    // Logs went to the file, not into the conversation.
    expect(out).not.toContain('"level"');
  }, 90_000);

  it('answers what it cannot parse with what it can do, exit code 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/main.ts', '--once', 'make me a sandwich'], {
      cwd: root,
      env: productEnv(path.join(workspace, '.once2')),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(out).toContain('I did not understand');
    expect(out).toContain('analyze repo my-service');
    expect(code).toBe(1);
  }, 90_000);
});

describe('the interactive chat in a terminal', () => {
  const socket = `orch-test-${process.pid}`;
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  let panePid: number | undefined;

  afterAll(() => {
    if (panePid && isAlive(panePid)) process.kill(panePid, 'SIGTERM');
    try {
      tmux('kill-server');
    } catch {
      // already gone with its only pane
    }
  });

  const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'chat');
  async function waitForScreen(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on the screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('takes a request, draws the bar, shows the result; follow-ups use the thread; /new and /help work; a plan is previewed and decided by typing', async () => {
    const env = productEnv(path.join(workspace, '.chat'));
    const command = `cd ${root} && env -i PATH='${env.PATH}' HOME='${env.HOME}' DATA_DIR='${env.DATA_DIR}' WORKSPACE_ROOT='${workspace}' ${process.execPath} --import tsx infra/main.ts`;
    tmux('new-session', '-d', '-s', 'chat', '-x', '160', '-y', '50', command);
    panePid = Number(tmux('display', '-p', '-t', 'chat', '#{pane_pid}').trim());

    await waitForScreen(/you> /);
    tmux('send-keys', '-t', 'chat', 'analyze repo acme', 'Enter');
    const analysed = await waitForScreen(/40 files, 40 lines/);
    expect(analysed).toContain('██████████ 100%');

    tmux('send-keys', '-t', 'chat', 'now git status', 'Enter');
    await waitForScreen(/git status of acme/);
    await waitForScreen(/clean|nothing to commit|branch/i);

    tmux('send-keys', '-t', 'chat', '/new', 'Enter');
    await waitForScreen(/New conversation/);
    tmux('send-keys', '-t', 'chat', 'now run the tests', 'Enter');
    await waitForScreen(/Which repository\? This thread has none yet/);

    tmux('send-keys', '-t', 'chat', '/help', 'Enter');
    await waitForScreen(/\/new\s+start a new conversation/);

    // A plan: previewed, run on a typed APPROVE, stopped at its gate, where the requester may
    // not approve alone; REJECT ends it. Every notice is printed as it comes.
    const shop = path.join(workspace, 'shop');
    await mkdir(path.join(shop, 'test'), { recursive: true });
    await writeFile(path.join(shop, 'package.json'), JSON.stringify({ name: 'shop', private: true, scripts: { test: 'node --test' } }));
    await writeFile(path.join(shop, 'test', 'ok.test.js'), "require('node:test')('ok', () => {});\n");
    tmux('send-keys', '-t', 'chat', 'deploy shop, test everything first', 'Enter');
    await waitForScreen(/Plan: Run the tests of shop[\s\S]*type APPROVE/);
    tmux('send-keys', '-t', 'chat', 'APPROVE', 'Enter');
    await waitForScreen(/Running the plan\./);
    await waitForScreen(/Approval needed: Deploy shop/);
    tmux('send-keys', '-t', 'chat', 'APPROVE', 'Enter');
    await waitForScreen(/You asked for this workflow, so you cannot approve it alone/);
    tmux('send-keys', '-t', 'chat', 'REJECT', 'Enter');
    await waitForScreen(/Workflow failed: [\s\S]*rejected/);

    tmux('send-keys', '-t', 'chat', '/quit', 'Enter');
    const deadline = Date.now() + 30_000;
    while (isAlive(panePid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(isAlive(panePid)).toBe(false);
  }, 120_000);
});

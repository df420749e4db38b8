import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { groupMembers, isRunning, processesMentioning } from '../support/proc-scan.ts';
import { startSlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { standInWorkspace } from '../support/slack-workspace.ts';
import { freePort, waitFor } from '../support/waiting.ts';

// The product with its own embedded nats-server, started as an operator does, in each mode:
// no terminal, Slack, the console chat under a real terminal (tmux), `npm start`. What runs on
// the machine afterwards is read from /proc: the nats-servers are the ones whose command line
// names the store's config file.

const root = path.resolve(import.meta.dirname, '../..');
const CTRL_C_LIMIT_MS = 5_000;

interface Product {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** Its pid from its own log (the child may be a launcher such as npm). */
  productPid(): number;
  natsPid(): number;
}

const started: ChildProcess[] = [];
const productPids: number[] = [];
const dirs: string[] = [];

const newDataDir = async (): Promise<string> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'orch-hygiene-'));
  dirs.push(dir);
  return dir;
};

const baseEnv = (dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  DATA_DIR: dataDir,
  SLACK_BOT_TOKEN: '',
  ANTHROPIC_API_KEY: '',
  ...extra,
});

const logField = (output: string, msg: string, field: string): number | undefined => {
  const line = output.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  const value = line ? (JSON.parse(line) as Record<string, unknown>)[field] : undefined;
  return typeof value === 'number' ? value : undefined;
};

function launch(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Product {
  // Its own process group, as a terminal's foreground job: Ctrl-C signals the whole group.
  const child = spawn(command, [...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    output: () => out,
    productPid: () => logField(out, 'ready', 'pid') ?? child.pid!,
    natsPid: () => logField(out, 'embedded nats-server started', 'natsPid')!,
  };
}

/** `infra/main.ts` as a child process, stdin not a terminal (or the `bin` entry, or `npm start`). */
async function startProduct(dataDir: string, how: 'main' | 'bin' | 'npm' = 'main', extra: NodeJS.ProcessEnv = {}): Promise<Product> {
  const env = baseEnv(dataDir, extra);
  const product =
    how === 'main'
      ? launch(process.execPath, ['--import', 'tsx', 'infra/main.ts'], env)
      : how === 'bin'
        ? launch(process.execPath, ['bin/orchestrator.mjs'], env)
        : launch('npm', ['start', '--silent'], env);
  await waitFor('the product to be ready', () => /"msg":"ready"/.test(product.output()) || product.child.exitCode !== null, { timeoutMs: 60_000 });
  if (!/"msg":"ready"/.test(product.output())) throw new Error(`the product did not start: ${product.output()}`);
  productPids.push(product.productPid());
  return product;
}

const configFile = (dataDir: string) => path.join(dataDir, 'nats', 'nats-server.conf');
/** nats-server processes using this store, read from /proc. */
const natsServersOn = (dataDir: string): number[] =>
  processesMentioning(configFile(dataDir))
    .filter((p) => path.basename(p.argv[0] ?? '').startsWith('nats-server'))
    .map((p) => p.pid);

/** What the terminal does on Ctrl-C: SIGINT to every process of the foreground group. */
const ctrlC = (product: Product) => () => process.kill(-product.child.pid!, 'SIGINT');

/** It stopped by its own shutdown sequence, not by the deadline, and without NATS timing out. */
const stoppedCleanly = (output: string) => {
  expect(output).toMatch(/"msg":"stopped"/);
  expect(output).not.toMatch(/stopping took too long|TIMEOUT|timed out/i);
};

/** Time from the signal until the process has exited (zombies count as exited). */
async function timeToExit(pid: number, send: () => void): Promise<number> {
  const at = Date.now();
  send();
  await waitFor(`pid ${pid} to exit`, () => !isRunning(pid), { timeoutMs: 30_000, intervalMs: 20 });
  return Date.now() - at;
}

afterAll(async () => {
  // Only what this file started, by pid; SIGTERM first so a product still running stops its own server.
  for (const pid of productPids) if (isRunning(pid)) process.kill(pid, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 2_000));
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the embedded nats-server of the product', () => {
  it('kill -9 of the product, then a new start: exactly one nats-server on the store; Ctrl-C then stops both within 5 s', async () => {
    const dataDir = await newDataDir();
    const first = await startProduct(dataDir);
    const leftover = first.natsPid();
    expect(natsServersOn(dataDir)).toEqual([leftover]);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(natsServersOn(dataDir)).toEqual([leftover]); // in its own process group, it survives the kill

    const second = await startProduct(dataDir);
    expect(natsServersOn(dataDir)).toEqual([second.natsPid()]);
    expect(second.natsPid()).not.toBe(leftover);
    expect(isRunning(leftover)).toBe(false);
    expect(second.output()).toMatch(/stopped a nats-server left on this store by an earlier run/);

    const ms = await timeToExit(second.child.pid!, ctrlC(second));
    expect(ms).toBeLessThan(CTRL_C_LIMIT_MS);
    expect((await second.exited).code).toBe(0);
    expect(natsServersOn(dataDir)).toEqual([]);
    stoppedCleanly(second.output());
  });

  it('a second product on the same DATA_DIR is refused with a clear message while the first runs', async () => {
    const dataDir = await newDataDir();
    const first = await startProduct(dataDir);
    const second = launch(process.execPath, ['--import', 'tsx', 'infra/main.ts'], baseEnv(dataDir));
    const { code } = await second.exited;
    expect(code).not.toBe(0);
    expect(second.output()).toContain(`is in use by another orchestrator process (pid ${first.child.pid})`);
    expect(natsServersOn(dataDir)).toEqual([first.natsPid()]);
    expect(await timeToExit(first.child.pid!, ctrlC(first))).toBeLessThan(CTRL_C_LIMIT_MS);
    expect(natsServersOn(dataDir)).toEqual([]);
  });

  it('Ctrl-C in Slack mode stops it within 5 s', async () => {
    const slack = await startSlackWebApiStandIn();
    try {
      const dataDir = await newDataDir();
      const product = await startProduct(dataDir, 'main', {
        SLACK_BOT_TOKEN: slack.token,
        SLACK_SIGNING_SECRET: standInWorkspace.signingSecret,
        SLACK_API_URL: slack.apiUrl,
        PORT: String(await freePort()),
      });
      expect(product.output()).toMatch(/"frontEnd":"slack"/);
      const ms = await timeToExit(product.child.pid!, ctrlC(product));
      expect(ms).toBeLessThan(CTRL_C_LIMIT_MS);
      expect((await product.exited).code).toBe(0);
      expect(natsServersOn(dataDir)).toEqual([]);
      stoppedCleanly(product.output());
    } finally {
      await slack.stop();
    }
  });

  it('Ctrl-C at the console chat under a real terminal stops it within 5 s', async () => {
    const dataDir = await newDataDir();
    const socket = `orch-hygiene-${process.pid}`;
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    const env = baseEnv(dataDir, { TERM: 'xterm' });
    const command = ['env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, '--import', 'tsx', 'infra/main.ts'];
    tmux('new-session', '-d', '-s', 'product', '-x', '160', '-y', '40', '-c', root, command.map((a) => `'${a}'`).join(' '));
    const tmuxServer = Number(tmux('display-message', '-p', '#{pid}').trim());
    try {
      const logFile = path.join(dataDir, 'orchestrator.log');
      const pid = await waitFor('the console to be ready', () => (existsSync(logFile) ? logField(readFileSync(logFile, 'utf8'), 'ready', 'pid') : undefined), {
        timeoutMs: 60_000,
      });
      productPids.push(pid);
      await waitFor('the prompt', () => tmux('capture-pane', '-p', '-t', 'product').includes('you>'), { timeoutMs: 20_000 });
      expect(natsServersOn(dataDir).length).toBe(1);
      const ms = await timeToExit(pid, () => tmux('send-keys', '-t', 'product', 'C-c'));
      expect(ms).toBeLessThan(CTRL_C_LIMIT_MS);
      expect(natsServersOn(dataDir)).toEqual([]);
      stoppedCleanly(readFileSync(logFile, 'utf8'));
    } finally {
      if (isRunning(tmuxServer)) process.kill(tmuxServer, 'SIGTERM');
    }
  });

  it('Ctrl-C while a task runs: the product exits within 5 s and the executor never finishes its side effect', async () => {
    const dataDir = await newDataDir();
    const workspace = await newDataDir();
    const repo = path.join(workspace, 'sleeper');
    await mkdir(repo);
    const script = `echo $$ > ${workspace}/started; sleep 8; echo done > ${workspace}/done`;
    await writeFile(path.join(repo, '.orchestrator.json'), JSON.stringify({ testCommand: ['sh', '-c', script] }));
    for (const args of [
      ['init', '-q', '-b', 'main'],
      ['add', '.'],
      ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init'],
    ]) {
      execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
    }
    const product = launch(process.execPath, ['bin/orchestrator.mjs', '--once', 'run the tests of sleeper'], baseEnv(dataDir, { WORKSPACE_ROOT: workspace }));
    productPids.push(product.child.pid!);
    const pgid = await waitFor(
      'the executor to start',
      () => (existsSync(`${workspace}/started`) ? Number(readFileSync(`${workspace}/started`, 'utf8')) || undefined : undefined),
      { timeoutMs: 60_000 },
    );
    expect(groupMembers(pgid).length).toBeGreaterThan(0);
    const ms = await timeToExit(product.child.pid!, ctrlC(product));
    expect(ms).toBeLessThan(CTRL_C_LIMIT_MS);
    await waitFor('the executor group to be gone', () => groupMembers(pgid).length === 0, { timeoutMs: 2_000 });
    expect(natsServersOn(dataDir)).toEqual([]);
    stoppedCleanly(readFileSync(path.join(dataDir, 'orchestrator.log'), 'utf8'));
    await new Promise((r) => setTimeout(r, 8_000));
    expect(existsSync(`${workspace}/done`)).toBe(false);
  });

  it('SIGTERM to the direct entry (bin/orchestrator.mjs) stops it cleanly', async () => {
    const dataDir = await newDataDir();
    const product = await startProduct(dataDir, 'bin');
    expect(product.productPid()).toBe(product.child.pid); // the product itself, no wrapper in between
    const ms = await timeToExit(product.child.pid!, () => product.child.kill('SIGTERM'));
    expect(ms).toBeLessThan(CTRL_C_LIMIT_MS);
    expect(await product.exited).toEqual({ code: 0, signal: null });
    expect(product.output()).toMatch(/"reason":"SIGTERM","msg":"shutting down"/);
    stoppedCleanly(product.output());
    expect(natsServersOn(dataDir)).toEqual([]);
  });

  it('Ctrl-C at a terminal running npm start (npm passes the SIGINT on as well) stops it cleanly within 5 s', async () => {
    const dataDir = await newDataDir();
    const product = await startProduct(dataDir, 'npm');
    const ms = await timeToExit(product.productPid(), ctrlC(product));
    expect(ms).toBeLessThan(CTRL_C_LIMIT_MS);
    stoppedCleanly(product.output());
    expect(product.output()).not.toMatch(/signalled again/);
    expect(natsServersOn(dataDir)).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('npm start killed with %s: the product and its nats-server are gone within a few seconds', async (signal) => {
    const dataDir = await newDataDir();
    const product = await startProduct(dataDir, 'npm');
    const pid = product.productPid();
    expect(pid).not.toBe(product.child.pid);
    expect(natsServersOn(dataDir).length).toBe(1);
    product.child.kill(signal);
    await waitFor('the product to exit', () => !isRunning(pid), { timeoutMs: 8_000 });
    await waitFor('its nats-server to be gone', () => natsServersOn(dataDir).length === 0, { timeoutMs: 3_000 });
    // npm passes SIGTERM on to its child; after SIGKILL the product sees its parent gone.
    const reason =
      signal === 'SIGTERM'
        ? /"reason":"(SIGTERM|parent process \d+ exited)","msg":"shutting down"/
        : /"reason":"parent process \d+ exited","msg":"shutting down"/;
    expect(product.output()).toMatch(reason);
    expect(product.output()).toMatch(/"msg":"stopped"/);
  });
});

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { JetStreamManager, NatsConnection } from 'nats';
import { eventLogNames } from '../../adapters/jetstream/event-log-stream.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { UNHANDLED_FATAL } from '../../infra/process-guard.ts';
import { startNatsBroker, type NatsBroker } from '../support/nats-broker.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';

// The product under test for the bad-input suite: a real nats-server, the named roles in one
// child process (`infra/run-role.ts`, as production runs them) so a crash shows as an exit,
// a workspace holding one git repository (`acme`), and a test connection that counts the
// whole event log (every message of the `orch.es.>` stream).

export const REPOSITORY = 'acme';

/** The NATS server the product runs on, and how the product and the test connect to it. */
export interface ServerUnderTest {
  readonly url: string;
  /** Extra environment for the role process (credentials). */
  readonly env?: NodeJS.ProcessEnv;
  /** The test's own connection (the event count), e.g. as the service identity. */
  readonly connectOptions?: Parameters<typeof connectNats>[1];
  dispose(): Promise<void>;
}

export interface ProductUnderTest {
  readonly server: ServerUnderTest;
  readonly role: RoleProcess;
  readonly nc: NatsConnection;
  readonly workspace: string;
  /** Messages in the event log stream, all categories. */
  eventCount(): Promise<number>;
  /** Why the role process is not healthy (exited, or logged an unhandled error), or undefined. */
  unhealthy(): string | undefined;
  stop(): Promise<void>;
}

/** A plain nats-server (no authentication) from test/support/nats-broker.ts. */
export async function plainBroker(): Promise<ServerUnderTest> {
  const broker: NatsBroker = await startNatsBroker();
  return { url: broker.url, dispose: () => broker.dispose() };
}

export async function startProductUnderTest(roles: readonly string[], env: NodeJS.ProcessEnv = {}, server?: ServerUnderTest): Promise<ProductUnderTest> {
  const broker = server ?? (await plainBroker());
  const workspace = await mkdtemp(path.join(tmpdir(), 'orch-bad-input-'));
  const repo = path.join(workspace, REPOSITORY);
  await mkdir(repo, { recursive: true });
  await writeFile(path.join(repo, 'README.md'), 'bad-input suite\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
  const role = await startRoleProcess(
    roles,
    { NATS_URL: broker.url, WORKSPACE_ROOT: workspace, DATA_DIR: path.join(workspace, '.data'), ...broker.env, ...env },
    90_000,
  );
  const nc = await connectNats(broker.url, { name: 'bad-input-suite', ...broker.connectOptions });
  const jsm: JetStreamManager = await nc.jetstreamManager();
  const { streamName } = eventLogNames('orch');
  return {
    server: broker,
    role,
    nc,
    workspace,
    async eventCount() {
      try {
        return (await jsm.streams.info(streamName)).state.messages;
      } catch (error) {
        if (/stream not found/i.test((error as Error).message)) return 0;
        throw error;
      }
    },
    unhealthy() {
      const { child } = role;
      if (child.exitCode !== null || child.signalCode !== null) return `the role process exited (code ${child.exitCode}, signal ${child.signalCode})`;
      if (role.output().includes(UNHANDLED_FATAL)) return 'the role process logged an unhandled error';
      return undefined;
    },
    async stop() {
      await role.stop();
      await nc.close().catch(() => undefined);
      await broker.dispose();
      await rm(workspace, { recursive: true, force: true });
    },
  };
}

import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { NatsConnection } from 'nats';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { eventLogNames } from '../../adapters/jetstream/event-log-stream.ts';
import { isProductStream } from '../../infra/nats/replica-check.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.ts';
import { audit, formatFigures, problems } from './audit.ts';
import { BadOption, readIntegerOptions, since, sleep } from './options.ts';
import { SupervisedRole } from './supervised-role.ts';
import { Workload } from './workload.ts';
import { createWorkspace, type ChaosWorkspace } from './workspace.ts';

// `npm run cluster-check`: the product on a real 3-node JetStream cluster with NATS_REPLICAS=3.
// Workflows of local-ops steps run on real git repositories; mid-run the node leading the event
// log (`ORCH_EVENTS`) is killed with SIGKILL and stays down. Passes (exit 0) when every stream
// and bucket has 3 replicas, every started workflow completed, every event's revision is dense
// per stream with no id twice, and each step's marker file shows exactly one finished run.
//
// Options: --workflows <n> (default 20), --steps <n> per workflow (2), --step-ms <n> each
// step's run takes (400), --timeout-s <n> to wait for the workflows after the kill (180).

const REPLICAS = 3;
const PREFIX = 'orch';

async function main(): Promise<number> {
  const opts = readIntegerOptions(process.argv.slice(2), { workflows: 20, steps: 2, 'step-ms': 400, 'timeout-s': 180 }, { workflows: 2, steps: 1 });
  const t0 = Date.now();
  const say = (text: string) => console.log(`[cluster-check ${since(t0)}] ${text}`);
  let cluster: NatsCluster | undefined;
  let workspace: ChaosWorkspace | undefined;
  let nc: NatsConnection | undefined;
  const roles: SupervisedRole[] = [];
  let cleaned: Promise<void> | undefined;
  // Also on Ctrl-C or SIGTERM: every process this run started is stopped by its pid.
  const cleanup = () =>
    (cleaned ??= (async () => {
      await Promise.all(roles.map((role) => role.stop().catch(() => undefined)));
      await nc?.close().catch(() => undefined);
      await cluster?.dispose().catch(() => undefined);
      if (workspace && process.env.CHAOS_KEEP !== '1') await rm(workspace.root, { recursive: true, force: true }).catch(() => undefined);
    })());
  // A reader that went away (`| head`) must not end the run before it has stopped its processes.
  process.stdout.on('error', () => undefined);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.log(`[cluster-check] ${signal}: stopping every process this run started`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    cluster = await startNatsCluster({ size: 3 });
    say(`3-node JetStream cluster up: ${cluster.nodes.map((n) => `${n.name} ${n.url} (pid ${n.pid()})`).join(', ')}`);
    workspace = await createWorkspace({ stepMs: opts['step-ms'] });
    const logDir = path.join(workspace.root, '.logs');
    await mkdir(logDir, { recursive: true });
    const env = {
      NATS_URL: cluster.urls,
      NATS_REPLICAS: String(REPLICAS),
      WORKSPACE_ROOT: workspace.root,
      DATA_DIR: path.join(workspace.root, '.data'),
      LOCAL_WORKER_COUNT: '2',
      WORKER_HEARTBEAT_TIMEOUT: '10000',
    };
    roles.push(new SupervisedRole('core', ['aggregates', 'dispatcher', 'workflow-engine', 'projections', 'public-events', 'reactors'], env, logDir));
    roles.push(new SupervisedRole('workers', ['workers:local-ops'], env, logDir));
    for (const role of roles) await role.start(90_000);
    say(`product up as role processes: ${roles.map((r) => `${r.label} (pid ${r.pid()})`).join(', ')}; logs in ${logDir}`);

    nc = await connectNats(cluster.urls.split(','), { name: 'cluster-check' });
    const store = await JetStreamEventStore.connect(nc, { prefix: PREFIX, replicas: REPLICAS });
    const jsm = await nc.jetstreamManager();

    const workload = new Workload({ commands: new CommandClient(nc, PREFIX), store, workspace, tag: Date.now().toString(36), stepsPerWorkflow: opts.steps });
    const firstHalf = Math.ceil(opts.workflows / 2);
    await Promise.all(Array.from({ length: firstHalf }, (_, i) => workload.startWorkflow(i + 1)));
    say(`started ${firstHalf} workflows of ${opts.steps} run-tests steps`);

    // Mid-run: some workflows finished, others still running.
    const deadline = Date.now() + 60_000;
    let ended = 0;
    while (Date.now() < deadline) {
      ended = (await Promise.all(workload.workflows.map((w) => workload.workflowEnding(w.id)))).filter((e) => e === 'completed' || e === 'failed').length;
      if (ended >= Math.max(1, Math.floor(firstHalf / 4))) break;
      await sleep(200);
    }
    const { streamName: eventLog } = eventLogNames(PREFIX);
    const leaderName = (await jsm.streams.info(eventLog)).cluster?.leader;
    const leader = leaderName ? cluster.node(leaderName) : undefined;
    if (!leader) throw new Error(`no leader reported for ${eventLog}`);
    const killedAt = Date.now();
    const leaderPid = leader.pid();
    await leader.kill9();
    say(`${ended} of ${firstHalf} workflows ended; kill -9 of ${leader.name} (pid ${leaderPid}), the leader of ${eventLog}; it stays down`);

    const rest = await Promise.all(Array.from({ length: opts.workflows - firstHalf }, (_, i) => workload.startWorkflow(firstHalf + i + 1)));
    say(`started ${rest.filter(Boolean).length} more workflows with ${leader.name} down`);
    const waited = await Promise.all(workload.workflows.map((w) => workload.waitForEnd('workflow', w.id, opts['timeout-s'] * 1000)));
    const lastEnd = Math.max(...waited.map((w) => w.at));
    const newLeader = await jsm.streams
      .info(eventLog)
      .then((i) => i.cluster?.leader ?? '(none)')
      .catch((e: Error) => `(unknown: ${e.message})`);
    say(`new leader of ${eventLog}: ${newLeader}; last workflow ended ${((lastEnd - killedAt) / 1000).toFixed(1)} s after the kill`);

    const replicas: { stream: string; replicas: number }[] = [];
    for await (const info of jsm.streams.list())
      if (isProductStream(info.config.name, PREFIX)) replicas.push({ stream: info.config.name, replicas: info.config.num_replicas });
    replicas.sort((a, b) => a.stream.localeCompare(b.stream));
    const underReplicated = replicas.filter((r) => r.replicas < REPLICAS);
    say(`streams and buckets (${replicas.length}): ${replicas.map((r) => `${r.stream}=R${r.replicas}`).join(', ')}`);

    const figures = await audit({ store, workspace, workflows: workload.workflows, tasks: [] });
    const stepRuns = await Promise.all(workload.workflows.flatMap((w) => w.repos).map((repo) => workspace!.runs(repo)));
    const notExactlyOnce = stepRuns.filter((r) => r.done !== 1).length;
    const unplanned = roles.flatMap((r) => r.unplannedExits().map((e) => ({ role: r.label, ...e })));
    console.log(formatFigures(figures));
    console.log(`steps whose marker shows other than exactly one finished run: ${notExactlyOnce} of ${stepRuns.length}`);
    console.log(
      `role processes that exited by themselves (restarted by the harness): ${unplanned.length}${unplanned.map((e) => `\n  - ${e.role} at ${since(t0, e.at)} code=${e.code} signal=${e.signal}: ${e.tail.split('\n').slice(-4).join(' | ')}`).join('')}`,
    );
    const failures = {
      ...problems(figures),
      'steps not run exactly once': notExactlyOnce,
      [`streams or buckets below R${REPLICAS}`]: underReplicated.length,
      'commands refused': workload.refused.length,
    };
    const failed = Object.entries(failures).filter(([, n]) => n > 0);
    workload.refused.slice(0, 5).forEach((r) => console.log(`  refused: ${r}`));
    console.log(
      failed.length === 0
        ? `PASS: ${figures.workflows.completed} of ${figures.workflows.started} workflows completed with the event-log leader killed; nothing lost`
        : `FAIL: ${failed.map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );
    return failed.length === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof BadOption ? `cluster-check: ${error.message}` : error);
    process.exit(2);
  },
);

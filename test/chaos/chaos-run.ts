import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from 'nats';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { startNatsBroker, freePort, type NatsBroker } from '../support/nats-broker.ts';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { standInWorkspace } from '../support/slack-workspace.ts';
import { audit, formatFigures, problems } from './audit.ts';
import { BadOption, readIntegerOptions, seededRandom, since, sleep } from './options.ts';
import { SupervisedRole } from './supervised-role.ts';
import { Workload, type TaskItem, type WorkflowItem } from './workload.ts';
import { createWorkspace, type ChaosWorkspace } from './workspace.ts';

// `npm run chaos`: the product as separate role processes on a real nats-server, each under a
// supervisor loop of this harness (restarted whenever it exits), while workflows and tasks run
// on real git repositories and random role processes and the broker are killed with SIGKILL.
// Side-effecting work is part of the load: some standalone tasks, and the last step of every
// `deploy-every`-th workflow, are `sf-deploy` deploys (mode deploy) run by `workers:salesforce`
// role processes with the `sf` stand-in (test/support/sf-standin.mjs), whose org lives in the
// workspace. Counts what was started, completed, lost and stuck, duplicate events, duplicate or
// missing Slack posts (from the Web API stand-in's record), duplicate side effects (from the
// executors' own marker files; for deploys, exactly one per deploy task or step from the org's
// record), tasks that went through an unknown outcome and what resolved it, and how long the product took to recover from each fault (a probe
// workflow started right after the fault, until it completes). Exit 0 only when every problem
// figure is 0 and every fault was recovered from.
//
// Knobs (flags, or CHAOS_<NAME> in the environment): --workflows 200 --tasks 300
// --deploys 60 (of the tasks, how many are sf-deploy deploys; 0 for none; by default a fifth) --deploy-every 4
// (every n-th workflow ends with a deploy step; 0 for none) --sf-workers 1
// --role-kills <2 x role processes> (each role process at least twice when there are enough) --broker-kills 2
// --seed <n> --concurrency 12 --aggregates 2 --workers 2 --steps 2 --step-ms 300 (also how
// long a deploy runs in the org) --gap-ms 3000 (mean pause between faults) --settle-s 240 (wait
// for the last items to end) --probe-timeout-s 120 --item-wait-s 180 --unknown-wait-s 45 (an
// item whose outcome has been unknown this long waits for a person: not waited for any longer,
// counted stuck). CHAOS_KEEP=1 keeps the workspace and logs.

const PREFIX = 'orch';
const SLACK_CHANNEL = 'C0CHAOS';
const SF_STANDIN = fileURLToPath(new URL('../support/sf-standin.mjs', import.meta.url));

interface FaultRecord {
  readonly target: string;
  readonly at: number;
  readonly pid: number | undefined;
  /** Back up: the role's next "ready" line, or the broker accepting clients again. */
  upAfterMs?: number;
  /** The probe workflow started after the fault completed this long after the fault. */
  recoveredAfterMs?: number;
  note?: string;
}

async function main(): Promise<number> {
  const opts = readIntegerOptions(
    process.argv.slice(2),
    {
      workflows: 200,
      tasks: 300,
      deploys: -1,
      'deploy-every': 4,
      'sf-workers': 1,
      'role-kills': -1,
      'broker-kills': 2,
      seed: Date.now() % 1_000_000,
      concurrency: 12,
      aggregates: 2,
      workers: 2,
      steps: 2,
      'step-ms': 300,
      'gap-ms': 3_000,
      'settle-s': 240,
      'probe-timeout-s': 120,
      'item-wait-s': 180,
      'unknown-wait-s': 45,
    },
    { concurrency: 1, aggregates: 1, workers: 1, steps: 1 },
  );
  // By default one task in five is a deploy (60 of 300).
  if (opts.deploys < 0) opts.deploys = Math.floor(opts.tasks / 5);
  if (opts.deploys > opts.tasks) throw new BadOption(`--deploys (${opts.deploys}) cannot be more than --tasks (${opts.tasks}): deploys are some of the tasks`);
  if ((opts.deploys > 0 || (opts['deploy-every'] > 0 && opts.workflows >= opts['deploy-every'])) && opts['sf-workers'] === 0)
    throw new BadOption('deploys need --sf-workers of at least 1');
  const t0 = Date.now();
  const say = (text: string) => console.log(`[chaos ${since(t0)}] ${text}`);
  const random = seededRandom(opts.seed);
  let broker: NatsBroker | undefined;
  let slack: SlackWebApiStandIn | undefined;
  let workspace: ChaosWorkspace | undefined;
  let nc: NatsConnection | undefined;
  const roles: SupervisedRole[] = [];
  let cleaned: Promise<void> | undefined;
  // Also on Ctrl-C or SIGTERM: every process this run started is stopped by its pid.
  const cleanup = () =>
    (cleaned ??= (async () => {
      await Promise.all(roles.map((role) => role.stop().catch(() => undefined)));
      await nc?.close().catch(() => undefined);
      await slack?.stop().catch(() => undefined);
      await broker?.dispose().catch(() => undefined);
      if (workspace && process.env.CHAOS_KEEP !== '1') await rm(workspace.root, { recursive: true, force: true }).catch(() => undefined);
    })());
  // A reader that went away (`| head`) must not end the run before it has stopped its processes.
  process.stdout.on('error', () => undefined);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.log(`[chaos] ${signal}: stopping every process this run started`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    broker = await startNatsBroker();
    slack = await startSlackWebApiStandIn();
    workspace = await createWorkspace({ stepMs: opts['step-ms'] });
    const logDir = path.join(workspace.root, '.logs');
    await mkdir(logDir, { recursive: true });
    const env = {
      NATS_URL: broker.url,
      WORKSPACE_ROOT: workspace.root,
      DATA_DIR: path.join(workspace.root, '.data'),
      LOCAL_WORKER_COUNT: '2',
      // A killed worker's task goes to another worker this long after its last heartbeat.
      WORKER_HEARTBEAT_TIMEOUT: '5000',
      SLACK_BOT_TOKEN: standInWorkspace.botToken,
      SLACK_SIGNING_SECRET: standInWorkspace.signingSecret,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(await freePort()),
      // workers:salesforce: sf-deploy with the stand-in CLI, its org in the workspace; two at a time per process.
      WORKER_COUNT: '2',
      SF_BIN: SF_STANDIN,
      SF_STANDIN_ORG_DIR: workspace.orgDir,
      SF_STANDIN_DEPLOY_MS: String(opts['step-ms']),
      // CHAOS_LOG_LEVEL=debug: the role processes' logs in full, to follow one item through them.
      ...(process.env.CHAOS_LOG_LEVEL ? { LOG_LEVEL: process.env.CHAOS_LOG_LEVEL } : {}),
    };
    const layout: [string, string][] = [
      ...Array.from({ length: opts.aggregates }, (_, i) => [`aggregates#${i + 1}`, 'aggregates'] as [string, string]),
      ['dispatcher', 'dispatcher'],
      ['workflow-engine', 'workflow-engine'],
      ['projections', 'projections'],
      ['public-events', 'public-events'],
      ['reactors', 'reactors'],
      ...Array.from({ length: opts.workers }, (_, i) => [`workers:local-ops#${i + 1}`, 'workers:local-ops'] as [string, string]),
      ...Array.from({ length: opts['sf-workers'] }, (_, i) => [`workers:salesforce#${i + 1}`, 'workers:salesforce'] as [string, string]),
      ['slack', 'slack'],
    ];
    // Each process serves its own HTTP endpoints on its own PORT, as on one host in production; the slack role keeps Slack's.
    for (const [label, role] of layout)
      roles.push(new SupervisedRole(label, [role], role === 'slack' ? env : { ...env, PORT: String(await freePort()) }, logDir));
    // The first creates the event log and buckets; the others then start side by side.
    await roles[0]!.start(120_000);
    await Promise.all(roles.slice(1).map((r) => r.start(180_000)));
    say(`nats-server ${broker.url} (pid ${broker.pid()}); Slack stand-in ${slack.apiUrl}; seed ${opts.seed}; logs in ${logDir}`);
    say(`role processes: ${roles.map((r) => `${r.label} (pid ${r.pid()})`).join(', ')}`);

    nc = await connectNats(broker.url, { name: 'chaos-harness' });
    const store = await JetStreamEventStore.connect(nc, { prefix: PREFIX });
    const stopAll = new AbortController();
    const workload = new Workload({
      commands: new CommandClient(nc, PREFIX),
      store,
      workspace,
      tag: opts.seed.toString(36),
      stepsPerWorkflow: opts.steps,
      deployEvery: opts['deploy-every'],
      unknownWaitMs: opts['unknown-wait-s'] * 1000,
      slack: { channel: SLACK_CHANNEL, open: (text) => slack!.seedMessage({ channel: SLACK_CHANNEL, user: 'U0CHAOS', text }) },
      signal: stopAll.signal,
    });

    // ---- the load: a closed loop of `concurrency` submitters, each waiting for its item to end.
    const items: ('workflow' | 'task' | 'deploy')[] = [
      ...Array<'workflow'>(opts.workflows).fill('workflow'),
      ...Array<'task'>(opts.tasks - opts.deploys).fill('task'),
      ...Array<'deploy'>(opts.deploys).fill('deploy'),
    ];
    shuffle(items, random);
    let next = 0;
    let wfNumber = 0;
    let taskNumber = 0;
    let loadDone = false;
    let ended = 0;
    // Items are released evenly over about the time the fault schedule takes, so faults land
    // while work is in flight rather than after it is done.
    const faultCount = (opts['role-kills'] < 0 ? roles.length * 2 : opts['role-kills']) + opts['broker-kills'];
    const paceMs = items.length === 0 ? 0 : (faultCount * (opts['gap-ms'] + 3_000)) / items.length;
    const loadStart = Date.now();
    const submitter = async () => {
      while (next < items.length && !stopAll.signal.aborted) {
        const index = next++;
        const kind = items[index]!;
        const due = loadStart + index * paceMs;
        if (due > Date.now()) await sleep(due - Date.now());
        const item: WorkflowItem | TaskItem | undefined =
          kind === 'workflow'
            ? await workload.startWorkflow(++wfNumber)
            : await workload.queueTask(++taskNumber, kind === 'deploy' ? 'sf-deploy' : 'run-tests');
        const ending = item ? (await workload.waitForEnd(kind === 'workflow' ? 'workflow' : 'task', item.id, opts['item-wait-s'] * 1000)).ending : undefined;
        if (ending === 'completed' || ending === 'failed') ended += 1;
      }
    };
    const progress = setInterval(() => say(`progress: ${next} of ${items.length} submitted, ${ended} ended`), 20_000);
    const load = Promise.all(Array.from({ length: opts.concurrency }, submitter)).then(() => {
      loadDone = true;
      clearInterval(progress);
      const deployTasks = workload.tasks.filter((t) => t.taskType === 'sf-deploy').length;
      const deploySteps = workload.workflows.reduce((n, wf) => n + wf.deployRepos.length, 0);
      say(
        `load submitted: ${workload.workflows.length} workflows (${deploySteps} with a deploy step), ${workload.tasks.length} tasks (${deployTasks} deploys)`,
      );
    });

    // ---- the faults: each role process killed at least twice (when the count allows), the broker too.
    const schedule = faultSchedule(
      roles.map((r) => r.label),
      opts['role-kills'] < 0 ? roles.length * 2 : opts['role-kills'],
      opts['broker-kills'],
      random,
    );
    say(`fault schedule (${schedule.length}): ${schedule.join(', ')}`);
    const faults: FaultRecord[] = [];
    let probes = 0;
    for (const target of schedule) {
      await sleep(opts['gap-ms'] * (0.5 + random()));
      const at = Date.now();
      let record: FaultRecord;
      if (target === 'nats-server') {
        const pid = broker.pid();
        await broker.kill9();
        record = { target, at, pid };
        await sleep(500 + random() * 2_000);
        await broker.restart();
        record.upAfterMs = Date.now() - at;
      } else {
        const role = roles.find((r) => r.label === target)!;
        const ready = role.nextReady(120_000).then(
          () => Date.now() - at,
          () => undefined,
        );
        const pid = role.kill9();
        record = { target, at, pid };
        if (pid === undefined) record.note = 'was not running (restarting)';
        record.upAfterMs = await ready;
      }
      faults.push(record);
      const probe = await workload.startWorkflow(++probes, 'probe', 1);
      const ended = probe ? await workload.waitForEnd('workflow', probe.id, opts['probe-timeout-s'] * 1000) : undefined;
      if (ended?.ending === 'completed') record.recoveredAfterMs = ended.at - at;
      else
        record.note = `${record.note ? `${record.note}; ` : ''}probe ${probe?.id ?? '(not accepted)'} ${ended?.ending ?? 'not started'} after ${opts['probe-timeout-s']} s`;
      say(
        `fault ${faults.length}/${schedule.length}: kill -9 ${target} (pid ${record.pid ?? '-'}); up again after ${fmtMs(record.upAfterMs)}; recovered (probe workflow completed) after ${fmtMs(record.recoveredAfterMs)}${record.note ? ` [${record.note}]` : ''}${loadDone ? ' (load already done)' : ''}`,
      );
    }

    await load;
    // Everything accepted gets `settle-s` more to end; then whatever has not ended is stuck.
    const settleDeadline = Date.now() + opts['settle-s'] * 1000;
    const all = [...workload.workflows.map((w) => ['workflow', w.id] as const), ...workload.tasks.map((t) => ['task', t.id] as const)];
    await Promise.all(all.map(([kind, id]) => workload.waitForEnd(kind, id, Math.max(0, settleDeadline - Date.now()), 1_000)));
    say('load ended (or settle time over); waiting for the last Slack posts and marker lines');
    await waitForQuiet(() => slack!.calls('chat.postMessage').length, 5_000, 60_000);

    const unplanned = roles.flatMap((r) => r.unplannedExits().map((e) => ({ role: r.label, ...e })));
    await Promise.all(roles.map((role) => role.stop()));
    stopAll.abort();
    const figures = await audit({ store, workspace, workflows: workload.workflows, tasks: workload.tasks, slackPosts: slack.calls('chat.postMessage') });

    console.log('\n==== chaos run: figures ====');
    console.log(
      `seed ${opts.seed}; ${opts.workflows} workflows of ${opts.steps} steps (every ${opts['deploy-every'] || '-'}th ends with an sf-deploy) + ${opts.tasks} tasks (${opts.deploys} sf-deploy deploys) (+ ${probes} one-step probe workflows); ${roles.length} role processes; step run and deploy ${opts['step-ms']} ms`,
    );
    console.log(formatFigures(figures));
    const recovered = faults.filter((f) => f.recoveredAfterMs !== undefined).map((f) => f.recoveredAfterMs!);
    const sorted = [...recovered].sort((a, b) => a - b);
    console.log(
      `faults     ${faults.length} (${faults.filter((f) => f.target === 'nats-server').length} nats-server, ${faults.filter((f) => f.target !== 'nats-server').length} role processes); recovered ${recovered.length}; time to recovery min ${fmtMs(sorted[0])}, median ${fmtMs(sorted[Math.floor(sorted.length / 2)])}, max ${fmtMs(sorted.at(-1))}`,
    );
    for (const role of roles) {
      const kills = faults.filter((f) => f.target === role.label).length;
      console.log(`  ${role.label.padEnd(22)} killed ${kills}, started ${role.starts} times, exited by itself ${role.unplannedExits().length}`);
    }
    console.log(`  ${'nats-server'.padEnd(22)} killed ${faults.filter((f) => f.target === 'nats-server').length}`);
    if (unplanned.length > 0) {
      console.log(`role processes that exited without being killed (${unplanned.length}; each restarted by the harness):`);
      for (const e of unplanned.slice(0, 15)) console.log(`  - ${e.role} at ${since(t0, e.at)} code=${e.code} signal=${e.signal}: ${lastLines(e.tail)}`);
    }
    workload.refused.slice(0, 5).forEach((r) => console.log(`  refused: ${r}`));
    const failing = Object.entries({
      ...problems(figures),
      'faults not recovered from': faults.length - recovered.length,
      'commands refused': workload.refused.length,
    }).filter(([, n]) => n > 0);
    console.log(failing.length === 0 ? 'PASS: nothing lost, stuck or duplicated' : `FAIL: ${failing.map(([k, n]) => `${k} ${n}`).join(', ')}`);
    console.log(`(${since(t0)} in all)`);
    return failing.length === 0 ? 0 : 1;
  } finally {
    await cleanup();
  }
}

/** Role kills spread so each process is killed `floor(kills / processes)` times or more, broker kills mixed in. */
function faultSchedule(labels: readonly string[], roleKills: number, brokerKills: number, random: () => number): string[] {
  const kills: string[] = [];
  while (kills.length + labels.length <= roleKills) kills.push(...labels);
  const rest = shuffle([...labels], random).slice(0, roleKills - kills.length);
  const schedule = shuffle([...kills, ...rest, ...Array<string>(brokerKills).fill('nats-server')], random);
  // The same target twice in a row tests less than two different ones.
  for (let i = 1; i < schedule.length; i++) {
    if (schedule[i] === schedule[i - 1]) {
      const j = schedule.findIndex((t, k) => k > i && t !== schedule[i]);
      if (j > 0) [schedule[i], schedule[j]] = [schedule[j]!, schedule[i]!];
    }
  }
  return schedule;
}

function shuffle<T>(list: T[], random: () => number): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

/** Waits until `measure` has not changed for `quietMs` (at most `maxMs`). */
async function waitForQuiet(measure: () => number, quietMs: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = measure();
  let since_ = Date.now();
  while (Date.now() < deadline && Date.now() - since_ < quietMs) {
    await sleep(500);
    const now = measure();
    if (now !== last) {
      last = now;
      since_ = Date.now();
    }
  }
}

const fmtMs = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);
const lastLines = (text: string): string => text.trim().split('\n').slice(-3).join(' | ').slice(0, 600);

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof BadOption ? `chaos: ${error.message}` : error);
    process.exit(2);
  },
);

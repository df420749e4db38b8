import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection, Subscription } from 'nats';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config/load-config.ts';
import { openEventStore } from '../../infra/event-store.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { ALL_ROLES, startRole, type Role } from '../../infra/roles.ts';
import type { EventStore } from '../../domain/ports/event-store.ts';
import { toIdToken } from '../../domain/streams.ts';
import { AggregateStateClient } from '../../actors/runtime/aggregate-state-client.ts';
import { StreamReadLog } from '../support/counting-event-store.ts';
import { startNatsBroker, type NatsBroker } from '../support/nats-broker.ts';
import { appMention, eventCallback, slackRequestSender } from '../support/slack-signed-requests.ts';
import { markerOf, textOf } from '../support/slack-standin-messages.ts';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { standInWorkspace as ws } from '../support/slack-workspace.ts';
import { freePort, waitFor } from '../support/waiting.ts';

// What one Slack mention that becomes a task and a reply costs, counted on the real thing: every
// role of the product runs in this process (as `npm start` runs them) on a real nats-server, the
// mention is a signed request into the Slack role's HTTP port, Slack's Web API is the stand-in,
// and the task runs `node --test` in a real git repository in a temporary workspace.
//
// How it counts:
// - Commands: a plain subscriber on `orch.cmd.>` sees every command request any role sends (the
//   hosts take theirs in queue groups; a plain subscription gets a copy of each). A command sent
//   again under the same commandId (a retry) is counted once. ReportProgress and the progress
//   message's own commands (BeginProgressMessage, RecordProgressMessage) are counted apart.
// - Stream reads: each role gets the one real event store through a counting wrapper labelled
//   with its role, so each `read` of a stream is noted with who read it and whether it read the
//   whole stream (forward from the start with no bound: a fold) or a bounded part (the last
//   event, a tail after a snapshot). Inside the `aggregates` role only the aggregate hosts read
//   streams, inside `projections` only the projection runners; every other role must fold none.

const PROGRESS_COMMANDS = new Set(['ReportProgress', 'BeginProgressMessage', 'RecordProgressMessage']);
const FOLDS_ALLOWED = new Set<string>(['aggregates', 'projections']);
const MAX_COMMANDS = 8;

let broker: NatsBroker;
let slack: SlackWebApiStandIn;
let workspace: string;
let nc: NatsConnection;
let store: EventStore;
let spy: Subscription;
const stops: (() => Promise<unknown>)[] = [];
const reads = new StreamReadLog();
/** commandId → type, in the order first seen. */
const commands = new Map<string, string>();
let port: number;

async function makeRepository(name: string): Promise<void> {
  const repo = path.join(workspace, name);
  await mkdir(path.join(repo, 'test'), { recursive: true });
  await writeFile(path.join(repo, 'package.json'), JSON.stringify({ name, private: true, scripts: { test: 'node --test' } }));
  await writeFile(
    path.join(repo, 'test', 'sum.test.js'),
    "const { test } = require('node:test');\nconst assert = require('node:assert');\ntest('one', () => assert.equal(1, 1));\n",
  );
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
}

beforeAll(async () => {
  broker = await startNatsBroker();
  slack = await startSlackWebApiStandIn();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-cost-'));
  await makeRepository('acme');
  port = await freePort();
  const config = loadConfig(
    {
      NATS_URL: broker.url,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: ws.signingSecret,
      SLACK_API_URL: slack.apiUrl,
      PORT: String(port),
      WORKSPACE_ROOT: workspace,
      PROGRESS_UPDATE_INTERVAL: '150',
      DATA_DIR: path.join(workspace, '.data'),
      LOG_LEVEL: 'silent',
    },
    { envFile: false },
  );
  nc = await connectNats(broker.url);
  store = (await openEventStore(config, nc)).store;
  spy = nc.subscribe('orch.cmd.>', {
    callback: (error, message) => {
      if (error) return;
      const { commandId, type } = JSON.parse(new TextDecoder().decode(message.data)) as { commandId: string; type: string };
      if (!commands.has(commandId)) commands.set(commandId, type);
    },
  });
  const logger = pino({ level: 'silent' });
  const roles: Role[] = [...ALL_ROLES, 'slack'];
  for (const role of roles) stops.push(await startRole(role, { config, nc, store: reads.storeFor(role, store), logger }));
  await nc.flush();
}, 90_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await spy?.drain().catch(() => undefined);
  await store?.close();
  await nc?.close();
  await slack?.stop();
  await broker?.dispose();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

/** Resolves once no new command has been seen for `quietMs`. */
async function settled(quietMs = 1_500): Promise<void> {
  let seen = -1;
  while (seen !== commands.size) {
    seen = commands.size;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

describe('one Slack mention that becomes a task and a reply', () => {
  it(`costs at most ${MAX_COMMANDS} commands besides progress reports, and no whole-stream fold outside aggregate hosts and projections`, async () => {
    const sender = slackRequestSender({ url: `http://127.0.0.1:${port}/slack/events`, webApi: slack });
    commands.clear();
    reads.clear();
    const mention = appMention({ text: 'run the tests in acme' });
    const threadTs = mention.ts!;
    expect((await sender.postEvent(eventCallback(mention))).status).toBe(200);

    const results = () => slack.thread(ws.channel.id, threadTs).filter((m) => markerOf(m)?.kind === 'result');
    const [result] = await waitFor('the result reply in the thread', () => (results().length > 0 ? results() : undefined), { timeoutMs: 60_000 });
    expect(textOf(result!)).toMatch(/pass/i);
    await settled();

    const byType: Record<string, number> = {};
    for (const type of commands.values()) byType[type] = (byType[type] ?? 0) + 1;
    const counted = [...commands.values()].filter((t) => !PROGRESS_COMMANDS.has(t));
    const progress = commands.size - counted.length;
    const byReader: Record<string, { reads: number; whole: number }> = {};
    for (const r of reads.reads) {
      const entry = (byReader[r.reader] ??= { reads: 0, whole: 0 });
      entry.reads += 1;
      if (r.whole) entry.whole += 1;
    }
    const folds = reads.wholeStreamReadsBy((reader) => !FOLDS_ALLOWED.has(reader));
    console.log(
      `mention-to-reply cost: ${counted.length} commands besides progress (${progress} progress) ${JSON.stringify(byType)}; ` +
        `stream reads by role ${JSON.stringify(byReader)}; whole-stream folds outside aggregate hosts and projections: ${folds.length}`,
    );

    expect(results()).toHaveLength(1);
    expect(folds.map((f) => `${f.reader} read ${f.stream}`)).toEqual([]);
    expect(counted.length).toBeLessThanOrEqual(MAX_COMMANDS);

    // The one recorded fact is what "now run the tests" resolves against next time.
    const conversation = await new AggregateStateClient(nc).read('conversation', `slack-${toIdToken(ws.channel.id)}-${toIdToken(threadTs)}`);
    if (conversation.status === 'none') expect.fail('the mention started the conversation');
    const taskId = `slack-${toIdToken(ws.channel.id)}-${toIdToken(threadTs)}`;
    expect(conversation.context).toMatchObject({ currentRepo: 'acme', lastTaskType: 'run-tests', lastTaskIds: [taskId] });
    expect(conversation.messages.find((m) => m.id === threadTs)?.asked).toEqual({ kind: 'task', taskType: 'run-tests', taskIds: [taskId] });

    // The same message delivered again under another event id (past the front end's event-id check) costs its
    // AddMessage, which records nothing, and no other command: nothing is queued or recorded twice.
    commands.clear();
    expect((await sender.postEvent(eventCallback(mention))).status).toBe(200);
    await settled();
    expect([...commands.values()]).toEqual(['AddMessage']);
    expect(results()).toHaveLength(1);
  }, 90_000);
});

import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { answers, startAnthropicStandIn, type AnthropicStandIn } from '../support/anthropic-standin.ts';
import { freePort, waitFor as waitUntil } from '../support/waiting.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';
import { appMention, eventCallback, slackRequestSender, threadReply, type SlackRequestSender } from '../support/slack-signed-requests.ts';
import { markerOf, textOf } from '../support/slack-standin-messages.ts';
import { startSlackWebApiStandIn, type SlackMessageView, type SlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { standInWorkspace as ws } from '../support/slack-workspace.ts';

// Issue 6's acceptance, end to end through signed Slack requests: "deploy my changes, test
// everything first" → the planner (Anthropic stand-in) returns a plan → preview in the thread →
// "Run this plan" → a parallel branch of checks → an approval gate the requester cannot open
// alone → a named approver approves → the deploy runs the fake `sf` → a completion message.
// Every role runs in one child process on a real nats-server; the repository is a real git
// repository with a Salesforce project layout.

const ROLES = ['aggregates', 'dispatcher', 'workflow-engine', 'projections', 'reactors', 'slack', 'workers:local-ops', 'workers:salesforce'];
const APPROVER = 'U0BOB';
const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

let nats: TestNatsServer;
let slack: SlackWebApiStandIn;
let anthropic: AnthropicStandIn;
let workspace: string;
let sfLog: string;
let product: RoleProcess;
let sender: SlackRequestSender;
let nc: NatsConnection;
let store: JetStreamEventStore;

async function makeSalesforceProject(name: string): Promise<void> {
  const repo = path.join(workspace, name);
  await mkdir(path.join(repo, 'force-app/main/default/classes'), { recursive: true });
  await mkdir(path.join(repo, 'test'), { recursive: true });
  await writeFile(
    path.join(repo, 'sfdx-project.json'),
    JSON.stringify({ packageDirectories: [{ path: 'force-app', default: true }], sourceApiVersion: '61.0' }),
  );
  await writeFile(path.join(repo, 'force-app/main/default/classes/Greeter.cls'), "public class Greeter { public static String hello() { return 'hi'; } }\n");
  await writeFile(
    path.join(repo, 'force-app/main/default/classes/Greeter.cls-meta.xml'),
    '<?xml version="1.0"?><ApexClass><apiVersion>61.0</apiVersion></ApexClass>\n',
  );
  await writeFile(path.join(repo, 'package.json'), JSON.stringify({ name, private: true, scripts: { test: 'node --test' } }));
  await writeFile(path.join(repo, 'test', 'greeter.test.js'), "const { test } = require('node:test');\ntest('greets', () => {});\n");
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
}

const waitFor = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> =>
  waitUntil(what, probe, { timeoutMs, context: () => product?.output().slice(-4_000) ?? '' });

const notice = (threadTs: string, deliveryId: (id: string) => boolean): SlackMessageView | undefined =>
  slack.thread(ws.channel.id, threadTs).find((m) => markerOf(m)?.kind === 'notice' && deliveryId(markerOf(m)?.deliveryId ?? ''));
const hasButton = (m: SlackMessageView, actionId: string): boolean => textOf(m).includes(`"action_id":"${actionId}"`);
const current = (m: SlackMessageView): SlackMessageView => slack.message(ws.channel.id, m.ts)!;
const events = async (stream: string): Promise<RecordedEvent[]> => [...(await store.read(stream as never)).events];
const ephemeralAnswers = (): string[] => slack.calls('response_url').map((c) => String(c.args.text));

/** What the planner stand-in answers: checks in parallel, then an approval, then the deploy. */
const deployPlan = {
  summary: 'Run the tests of acme and analyze it at the same time; if the tests pass, deploy acme to production once approved.',
  complexity: 'complex',
  phases: [
    {
      name: 'Check',
      steps: [
        {
          kind: 'parallel',
          id: 'checks',
          branches: [
            [{ kind: 'task', id: 'tests', taskType: 'run-tests', params: { repository: 'acme' }, why: 'Deploy only what passes its tests.' }],
            [{ kind: 'task', id: 'analysis', taskType: 'analyze-codebase', params: { repository: 'acme' }, why: 'Know what is being deployed.' }],
          ],
        },
      ],
    },
    {
      name: 'Deploy',
      steps: [
        {
          kind: 'conditional',
          id: 'tests-passed',
          condition: 'steps.tests.output.success == true',
          then: [
            { kind: 'approval', id: 'approve-deploy', reason: 'Deploy acme to production: its tests passed.' },
            {
              kind: 'task',
              id: 'deploy',
              taskType: 'sf-deploy',
              params: { repository: 'acme', targetOrg: 'production' },
              why: 'The deployment that was asked for.',
            },
          ],
        },
      ],
    },
  ],
  estimate: { estimatedMs: 600_000, estimatedCostUsd: 0.05 },
};

/** Deploys started, from the `sf` stand-in's org record (one line per deploy). */
const deploysInOrg = async (): Promise<number> =>
  (await readFile(path.join(workspace, '.org', 'deploys.jsonl'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

beforeAll(async () => {
  nats = await startTestNatsServer();
  slack = await startSlackWebApiStandIn();
  anthropic = await startAnthropicStandIn();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-plan-e2e-'));
  sfLog = path.join(workspace, 'sf-runs.jsonl');
  await makeSalesforceProject('acme');
  const port = await freePort();
  product = await startRoleProcess(
    ROLES,
    {
      NATS_URL: nats.url,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: ws.signingSecret,
      SLACK_API_URL: slack.apiUrl,
      ANTHROPIC_API_KEY: anthropic.apiKey,
      ANTHROPIC_BASE_URL: anthropic.url,
      SF_BIN: path.join(root, 'test/support/sf-standin.mjs'),
      SF_STANDIN_LOG: sfLog,
      SF_STANDIN_ORG_DIR: path.join(workspace, '.org'),
      // The requester is an approver too: what refuses her click is that she asked for it.
      WORKFLOW_APPROVERS: `${ws.user.id},${APPROVER}`,
      PORT: String(port),
      WORKSPACE_ROOT: workspace,
      PROGRESS_UPDATE_INTERVAL: '150',
      DATA_DIR: path.join(workspace, '.data'),
    },
    60_000,
  );
  sender = slackRequestSender({ url: `http://127.0.0.1:${port}/slack/events`, webApi: slack });
  nc = await connect({ servers: nats.url });
  store = await JetStreamEventStore.connect(nc);
}, 90_000);

afterAll(async () => {
  await product?.stop();
  await nc?.close();
  await anthropic?.stop();
  await slack?.stop();
  await nats?.dispose();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe('"deploy my changes, test everything first" in Slack', () => {
  let threadTs: string;
  let planId: string;
  let preview: SlackMessageView;
  let gate: SlackMessageView;

  it('the planner plans it and the preview waits in the thread with "Run this plan"', async () => {
    anthropic.enqueue(answers.toolUse(deployPlan, { usage: { input_tokens: 2_000, output_tokens: 600 } }));
    const mention = appMention({ text: '<@U0STANDINBOT> deploy my changes, test everything first' });
    threadTs = mention.ts!;
    await sender.postEvent(eventCallback(mention));
    preview = await waitFor('the plan preview', () => notice(threadTs, (id) => id.startsWith('plan-')));
    planId = markerOf(preview)!.deliveryId!.slice('plan-'.length);
    expect(hasButton(preview, 'run_plan')).toBe(true);
    const text = textOf(preview);
    expect(text).toContain('Steps needing approval');
    expect(text).toContain('approve-deploy');
    expect(text).toContain('at the same time');
    expect(text).toContain('side effects');
    // The planner's call was reserved on this month's budget first, then committed at its real cost.
    const plan = await events(`plan-${planId}`);
    expect(plan.map((e) => e.type)).toEqual(['PlanProposed']);
    expect(plan[0]!.data).toMatchObject({ model: 'claude-opus-4-5', usage: { inputTokens: 2_000, outputTokens: 600 }, approval: { required: true } });
    const budget = await events(`budget-${new Date().toISOString().slice(0, 7)}`);
    expect(budget.map((e) => e.type)).toEqual(['CostReserved', 'CostCommitted']);
    // One model call planned it (the health check's GET of the model list is not a call that costs).
    expect(anthropic.requests().filter((r) => r.method === 'POST' && r.path === '/v1/messages')).toHaveLength(1);
  });

  it('"Run this plan" runs it; the preview loses its buttons', async () => {
    await sender.postBlockAction({ actionId: 'run_plan', value: planId, messageTs: preview.ts, threadTs, userId: ws.user.id });
    await waitFor('the preview redrawn without buttons', () => !hasButton(current(preview), 'run_plan') && textOf(current(preview)).includes('Approved by'));
    await waitFor('the workflow to start', async () => (await events(`workflow-${planId}`)).some((e) => e.type === 'WorkflowStarted'));
    // The plan records its workflow right after starting it: wait for that rather than race it.
    await waitFor('the plan to record its workflow', async () => (await events(`plan-${planId}`)).some((e) => e.type === 'PlanCompiled'));
    expect((await events(`plan-${planId}`)).map((e) => e.type)).toEqual(['PlanProposed', 'PlanApproved', 'PlanCompiled']);
  });

  it('runs the checks as a parallel branch, then waits at the gate with Approve / Reject', async () => {
    gate = await waitFor('the approval gate message', () => notice(threadTs, (id) => id.startsWith(`gate-${planId}-approve-deploy`)), 60_000);
    expect(hasButton(gate, 'approve_gate')).toBe(true);
    expect(textOf(gate)).toContain(APPROVER);
    const history = await events(`workflow-${planId}`);
    const types = history.map((e) => `${e.type}:${(e.data as { stepId?: string }).stepId ?? ''}`);
    // Both branches were scheduled before either finished.
    const scheduled = ['StepScheduled:tests', 'StepScheduled:analysis'].map((t) => types.indexOf(t));
    const firstDone = Math.min(types.indexOf('StepCompleted:tests'), types.indexOf('StepCompleted:analysis'));
    expect(Math.max(...scheduled)).toBeLessThan(firstDone);
    expect(types.indexOf('ApprovalRequested:approve-deploy')).toBeGreaterThan(
      Math.max(types.indexOf('StepCompleted:tests'), types.indexOf('StepCompleted:analysis')),
    );
    // Nothing was deployed yet.
    await expect(readFile(sfLog, 'utf8')).rejects.toThrow();
  });

  it("refuses the requester's own approval, and a typed APPROVE from them too", async () => {
    await sender.postBlockAction({ actionId: 'approve_gate', value: `${planId} approve-deploy 1`, messageTs: gate.ts, threadTs, userId: ws.user.id });
    await waitFor('the refusal, for the requester only', () => ephemeralAnswers().some((t) => t.includes('cannot approve it alone')));
    const typed = threadReply({ text: 'APPROVE', threadTs });
    await sender.postEvent(eventCallback(typed));
    await waitFor('the typed refusal in the thread', () =>
      slack.thread(ws.channel.id, threadTs).some((m) => m.user === ws.botUserId && (m.text ?? '').includes('cannot approve it alone')),
    );
    const history = await events(`workflow-${planId}`);
    expect(history.some((e) => e.type === 'ApprovalGranted')).toBe(false);
    expect(hasButton(current(gate), 'approve_gate')).toBe(true);
  });

  it('the named approver approves; the deploy runs once; the workflow completes and says so', async () => {
    await sender.postBlockAction({
      actionId: 'approve_gate',
      value: `${planId} approve-deploy 1`,
      messageTs: gate.ts,
      threadTs,
      userId: APPROVER,
      userName: 'bob',
    });
    const end = await waitFor('the completion message', () => notice(threadTs, (id) => id === `workflow-end-${planId}`), 60_000);
    expect(textOf(end)).toContain('Workflow completed');
    await waitFor('the gate redrawn as decided', () => !hasButton(current(gate), 'approve_gate') && textOf(current(gate)).includes(`Approved by ${APPROVER}`));
    // The org's own record counts deploys; the CLI is called twice per deploy (start, then resume).
    expect(await deploysInOrg()).toBe(1);
    const runs = (await readFile(sfLog, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { argv: string[] });
    const starts = runs.filter((run) => run.argv.slice(0, 3).join(' ') === 'project deploy start');
    expect(starts).toHaveLength(1);
    expect(starts[0]!.argv).toContain('production');
    const history = await events(`workflow-${planId}`);
    expect(history.at(-1)!.type).toBe('WorkflowCompleted');
    expect(history.find((e) => e.type === 'ApprovalGranted')!.data).toMatchObject({ approver: APPROVER, approved: true });
    expect(history.find((e) => e.type === 'StepCompleted' && (e.data as { stepId: string }).stepId === 'deploy')!.data).toMatchObject({
      output: { success: true },
    });
    // One status message for the whole workflow, redrawn as it went, now complete.
    const status = notice(threadTs, (id) => id === `workflow-${planId}`)!;
    expect(textOf(status)).toContain('4 of 4 steps done');
  });

  it('`orch replay workflow-<id> --at N` shows the state at the gate', async () => {
    const history = await events(`workflow-${planId}`);
    const atGate = history.find((e) => e.type === 'ApprovalRequested')!.revision;
    const { stdout } = await run(process.execPath, ['bin/orch.mjs', 'replay', `workflow-${planId}`, '--at', String(atGate), '--json'], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NATS_URL: nats.url },
    });
    const replayed = JSON.parse(stdout) as { revision: string; state: { status: string; steps: Record<string, { status: string }> } };
    expect(replayed.state.status).toBe('running');
    expect(replayed.state.steps['approve-deploy']!.status).toBe('awaitingApproval');
    expect(replayed.state.steps.tests!.status).toBe('completed');
    expect(replayed.state.steps.deploy).toBeUndefined();
  });
});

describe('typed APPROVE, and cancelling a running workflow', () => {
  it('APPROVE typed in the thread runs the plan; the Cancel button stops the workflow at its gate; every message shows it', async () => {
    anthropic.enqueue(answers.toolUse(deployPlan, { usage: { input_tokens: 2_000, output_tokens: 600 } }));
    const mention = appMention({ text: '<@U0STANDINBOT> deploy my changes, test everything first' });
    const threadTs = mention.ts!;
    await sender.postEvent(eventCallback(mention));
    const preview = await waitFor('the plan preview', () => notice(threadTs, (id) => id.startsWith('plan-')));
    const planId = markerOf(preview)!.deliveryId!.slice('plan-'.length);

    await sender.postEvent(eventCallback(threadReply({ text: 'approve', threadTs })));
    await waitFor('the preview redrawn as approved', () => !hasButton(current(preview), 'run_plan') && textOf(current(preview)).includes('Approved by'));
    expect((await events(`plan-${planId}`)).find((e) => e.type === 'PlanApproved')!.data).toMatchObject({ approver: ws.user.id, via: 'typed' });

    const gate = await waitFor('the approval gate message', () => notice(threadTs, (id) => id.startsWith(`gate-${planId}-`)), 60_000);
    const status = notice(threadTs, (id) => id === `workflow-${planId}`)!;
    expect(hasButton(current(status), 'cancel_workflow')).toBe(true);
    await sender.postBlockAction({ actionId: 'cancel_workflow', value: planId, messageTs: status.ts, threadTs, userId: APPROVER, userName: 'bob' });

    const end = await waitFor('the closing message', () => notice(threadTs, (id) => id === `workflow-end-${planId}`), 30_000);
    expect(textOf(end)).toContain('Workflow cancelled');
    expect(textOf(end)).toContain(`cancelled by ${APPROVER}`);
    await waitFor(
      'the status and the gate redrawn without buttons',
      () => !hasButton(current(status), 'cancel_workflow') && !hasButton(current(gate), 'approve_gate'),
    );
    expect(textOf(current(gate))).toContain('Not decided: the workflow cancelled.');
    const history = await events(`workflow-${planId}`);
    expect(history.at(-1)!.type).toBe('WorkflowCancelled');
    expect(history.at(-1)!.metadata.actor).toBe(APPROVER);
    // Still exactly the one deploy from the first scenario.
    expect(await deploysInOrg()).toBe(1);
  });
});

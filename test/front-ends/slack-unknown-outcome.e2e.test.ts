import { connect, type NatsConnection } from 'nats';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import type { CommandReply } from '../../actors/runtime/command-envelope.ts';
import { JetStreamEventStore } from '../../adapters/jetstream/jetstream-event-store.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';
import { task, tree } from '../domain/workflow-fixtures.ts';
import { freePort, waitFor as waitUntil } from '../support/waiting.ts';
import { startTestNatsServer, type TestNatsServer } from '../support/nats.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';
import { appMention, eventCallback, slackRequestSender, type SlackRequestSender } from '../support/slack-signed-requests.ts';
import { markerOf, textOf } from '../support/slack-standin-messages.ts';
import { startSlackWebApiStandIn, type SlackMessageView, type SlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { standInWorkspace as ws } from '../support/slack-workspace.ts';

// Issue 11, "at most once for side effects", as people meet it in Slack: a `claude-code` edit
// task whose worker went silent is not run again by itself; its thread gets one message with
// Re-run / Mark as done / Fail, only the people the gates' rule allows may press them, and the
// message is redrawn with the decision. The product runs as production does (role processes on
// a real nats-server, Slack through signed requests and the Web API stand-in); the test plays
// the two claude workers on the bus, so no claude worker runs. The roles that speak to Slack run
// in their own process, so the test can kill it with SIGKILL while the aggregates go on.

const CORE_ROLES = ['aggregates', 'dispatcher', 'workflow-engine'];
const FRONT_ROLES = ['reactors', 'slack'];
const APPROVER = 'U0BOB';
const STRANGER = 'U0MALLORY';
const RERUN = 'rerun_unknown_outcome';
const DONE = 'complete_unknown_outcome';

let nats: TestNatsServer;
let slack: SlackWebApiStandIn;
let workspace: string;
let core: RoleProcess;
let front: RoleProcess;
/** Both processes' environment; the front's restarts reuse it (same HTTP port). */
let productEnv: NodeJS.ProcessEnv;
let sender: SlackRequestSender;
let nc: NatsConnection;
let store: JetStreamEventStore;
let commands: CommandClient;

const waitFor = <T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> =>
  waitUntil(what, probe, { timeoutMs, context: () => `${core?.output().slice(-2_000) ?? ''}\n${front?.output().slice(-2_000) ?? ''}` });

/** SIGKILL, as a crash: nothing gets to finish or save. */
async function crash(process_: RoleProcess): Promise<void> {
  const exited = new Promise<void>((resolve) => process_.child.once('exit', () => resolve()));
  process_.child.kill('SIGKILL');
  await exited;
}

const events = async (stream: string): Promise<RecordedEvent[]> => [...(await store.read(stream as never)).events];
const types = async (stream: string): Promise<string[]> => (await events(stream)).map((e) => e.type);
const outcomeMessages = (threadTs: string, taskId: string): SlackMessageView[] =>
  slack.thread(ws.channel.id, threadTs).filter((m) => markerOf(m)?.kind === 'notice' && markerOf(m)?.deliveryId?.startsWith(`outcome-${taskId}-`));
const hasButton = (m: SlackMessageView, actionId: string): boolean => textOf(m).includes(`"action_id":"${actionId}"`);
const current = (m: SlackMessageView): SlackMessageView => slack.message(ws.channel.id, m.ts)!;
const answers = () => slack.calls('response_url');

async function send(taskId: string, type: string, data: Record<string, unknown>, actor: string): Promise<CommandReply> {
  return commands.forward({ category: 'task', id: taskId }, { commandId: `${type}-${taskId}-${String(data.attempt ?? 0)}`, type, actor, data });
}

/** Worker A takes attempt 1 and goes silent; worker B gets attempt 2 and may not run it again. */
async function workersLoseTrackOf(taskId: string): Promise<void> {
  expect((await send(taskId, 'AssignTask', { workerId: 'claude-worker-a', attempt: 1 }, 'claude-worker-a')).status).toBe('accepted');
  expect((await send(taskId, 'AssignTask', { workerId: 'claude-worker-b', attempt: 2, rerunSafe: false }, 'claude-worker-b')).status).toBe('accepted');
}

/** A thread the bot takes part in: a signed mention starts its conversation. */
async function openThread(): Promise<{ threadTs: string; conversationId: string }> {
  const mention = appMention({ text: '<@U0STANDINBOT> I am about to ask for some code edits in acme' });
  const threadTs = mention.ts!;
  await sender.postEvent(eventCallback(mention));
  const conversationId = `slack-${ws.channel.id}-${threadTs.replace('.', '_')}`;
  await waitFor('the conversation to start', async () => (await types(`conversation-${conversationId}`)).includes('ConversationStarted'));
  return { threadTs, conversationId };
}

/**
 * A claude-code edit task in that thread, taken by worker A (attempt 1), which then goes silent:
 * the queue hands it to worker B (attempt 2), whose executor says a re-run is not safe.
 */
async function taskWithUnknownOutcome(taskId: string, thread: { threadTs: string; conversationId: string }): Promise<SlackMessageView> {
  const queued = await send(
    taskId,
    'QueueTask',
    {
      taskType: 'claude-code',
      pool: 'claude',
      payload: { repository: 'acme', mode: 'edit', prompt: 'rename Greeter to Welcomer' },
      timeoutMs: 600_000,
      conversationId: thread.conversationId,
      replyTo: { kind: 'slack', channel: ws.channel.id, threadTs: thread.threadTs },
      requestedBy: ws.user.id,
    },
    ws.user.id,
  );
  expect(queued.status).toBe('accepted');
  await workersLoseTrackOf(taskId);
  expect((await types(`task-${taskId}`)).slice(-2)).toEqual(['TaskAttemptAbandoned', 'TaskOutcomeUnknown']);
  return waitFor('the unknown outcome message in the thread', () => outcomeMessages(thread.threadTs, taskId)[0]);
}

/** Presses a button as `user` and returns the answer only they see. */
async function press(actionId: string, message: SlackMessageView, threadTs: string, user: string): Promise<Readonly<Record<string, unknown>>> {
  const before = answers().length;
  const response = await sender.postBlockAction({ actionId, value: valueOf(message, actionId), messageTs: message.ts, threadTs, userId: user });
  expect(response.status).toBe(200);
  return waitFor(`the answer to ${user}'s click`, () => answers()[before]?.args);
}

/** What the button carries, as posted (a click sends back exactly that). */
function valueOf(message: SlackMessageView, actionId: string): string {
  const buttons = (message.blocks as { type: string; elements?: { action_id: string; value?: string }[] }[]).flatMap((b) =>
    b.type === 'actions' ? (b.elements ?? []) : [],
  );
  const value = buttons.find((b) => b.action_id === actionId)?.value;
  if (!value) throw new Error(`no ${actionId} button on the message`);
  return value;
}

beforeAll(async () => {
  nats = await startTestNatsServer();
  slack = await startSlackWebApiStandIn();
  workspace = await mkdtemp(path.join(tmpdir(), 'orch-unknown-outcome-e2e-'));
  const port = await freePort();
  productEnv = {
    NATS_URL: nats.url,
    SLACK_BOT_TOKEN: slack.token,
    SLACK_SIGNING_SECRET: ws.signingSecret,
    SLACK_API_URL: slack.apiUrl,
    // The requester is an approver too: what refuses her "Mark as done" is that she asked for it.
    WORKFLOW_APPROVERS: `${ws.user.id},${APPROVER}`,
    WORKFLOW_REQUESTER_MAY_APPROVE: 'false',
    PORT: String(port),
    WORKSPACE_ROOT: workspace,
    PROGRESS_UPDATE_INTERVAL: '150',
    DATA_DIR: path.join(workspace, '.data'),
  };
  // Each process serves its own ops endpoints on its own PORT; the front one keeps the Slack port.
  core = await startRoleProcess(CORE_ROLES, { ...productEnv, PORT: String(await freePort()) }, 60_000);
  front = await startRoleProcess(FRONT_ROLES, productEnv, 60_000);
  sender = slackRequestSender({ url: `http://127.0.0.1:${port}/slack/events`, webApi: slack });
  nc = await connect({ servers: nats.url });
  store = await JetStreamEventStore.connect(nc);
  commands = new CommandClient(nc, 'orch', 10_000);
}, 90_000);

afterAll(async () => {
  await front?.stop();
  await core?.stop();
  await nc?.close();
  await slack?.stop();
  await nats?.dispose();
  if (workspace) await rm(workspace, { recursive: true, force: true });
});

describe('a claude-code edit whose worker went silent, marked as done in Slack', () => {
  const taskId = 'claude-edit-unknown-1';
  let thread: { threadTs: string; conversationId: string };
  let message: SlackMessageView;

  it('posts one message in the thread: what ran, which attempt, why it was not re-run, and three buttons', async () => {
    thread = await openThread();
    message = await taskWithUnknownOutcome(taskId, thread);
    const text = textOf(message);
    expect(text).toContain('Outcome unknown: claude-code (attempt 1)');
    expect(text).toContain('claude-worker-a went silent');
    expect(text).toContain('it was not run again by itself');
    expect(text).toContain('acme');
    for (const actionId of [RERUN, DONE, 'fail_unknown_outcome']) expect(hasButton(message, actionId)).toBe(true);
    // Recorded on its own Delivery before and after posting, so a restart finds it instead of posting again.
    expect(await types(`delivery-outcome-${taskId}-1`)).toEqual(['ProgressMessageRequested', 'ProgressMessagePosted']);
    // Given time to post a second one, it posts none.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(outcomeMessages(thread.threadTs, taskId)).toHaveLength(1);
    expect(slack.thread(ws.channel.id, thread.threadTs).filter((m) => hasButton(m, DONE))).toHaveLength(1);
  });

  it('refuses, only to the one who clicked, someone who is not an approver, and the requester marking her own task done; nothing is recorded', async () => {
    const stranger = await press(DONE, message, thread.threadTs, STRANGER);
    expect(stranger.response_type).toBe('ephemeral');
    expect(String(stranger.text)).toContain('You are not one of the approvers');
    const requester = await press(DONE, message, thread.threadTs, ws.user.id);
    expect(requester.response_type).toBe('ephemeral');
    expect(String(requester.text)).toContain('you asked for this task');
    expect((await types(`task-${taskId}`)).at(-1)).toBe('TaskOutcomeUnknown');
    expect(hasButton(current(message), DONE)).toBe(true);
  });

  it('an approver marks it as done: TaskOutcomeResolved names them, the task completes, the message is redrawn without buttons', async () => {
    const answer = await press(DONE, message, thread.threadTs, APPROVER);
    expect(String(answer.text)).toContain('Marked as done');
    const history = await waitFor('the resolution to be recorded', async () => {
      const all = await events(`task-${taskId}`);
      return all.some((e) => e.type === 'TaskCompleted') && all;
    });
    expect(history.map((e) => e.type).slice(-2)).toEqual(['TaskOutcomeResolved', 'TaskCompleted']);
    const resolved = history.at(-2)!;
    expect(resolved.data).toMatchObject({ attempt: 1, resolution: 'completed', resolvedBy: APPROVER, via: 'person' });
    expect(resolved.metadata.actor).toBe(APPROVER);
    await waitFor(
      'the message redrawn with the decision',
      () => !hasButton(current(message), DONE) && textOf(current(message)).includes(`Marked as done by <@${APPROVER}>`),
    );
    expect(outcomeMessages(thread.threadTs, taskId)).toHaveLength(1);
  });

  it('a second click is answered "already decided" and records nothing', async () => {
    const before = (await events(`task-${taskId}`)).length;
    const answer = await press(RERUN, message, thread.threadTs, APPROVER);
    expect(String(answer.text)).toBe(`This was already decided by ${APPROVER}: marked as done.`);
    expect(await events(`task-${taskId}`)).toHaveLength(before);
  });
});

describe('Re-run', () => {
  it('schedules the next attempt and says who asked for it', async () => {
    const taskId = 'claude-edit-unknown-2';
    const thread = await openThread();
    const message = await taskWithUnknownOutcome(taskId, thread);
    const answer = await press(RERUN, message, thread.threadTs, APPROVER);
    expect(String(answer.text)).toContain('again (attempt 2)');
    const history = await waitFor('the re-run to be recorded', async () => {
      const all = await events(`task-${taskId}`);
      return all.some((e) => e.type === 'TaskRetryScheduled') && all;
    });
    expect(history.map((e) => e.type)).toEqual([
      'TaskQueued',
      'TaskAssigned',
      'TaskAttemptAbandoned',
      'TaskOutcomeUnknown',
      'TaskOutcomeResolved',
      'TaskRetryScheduled',
    ]);
    expect(history[4]!.data).toMatchObject({ resolution: 'rerun', resolvedBy: APPROVER, via: 'person' });
    expect(history[5]!.data).toMatchObject({ nextAttempt: 2, delayMs: 0 });
    await waitFor(
      'the message redrawn with the re-run',
      () => !hasButton(current(message), RERUN) && textOf(current(message)).includes(`Re-run by <@${APPROVER}>`),
    );
  });
});

describe('a crash of the process that speaks to Slack', () => {
  it('neither loses the message (recorded while it was down) nor posts it twice (killed right after posting)', async () => {
    const taskId = 'claude-edit-unknown-3';
    const thread = await openThread();
    await crash(front);
    const message = taskWithUnknownOutcome(taskId, thread);
    // Recorded while nothing could post it; the new process finds it in the log.
    await waitFor('the outcome to be recorded', async () => (await types(`task-${taskId}`)).includes('TaskOutcomeUnknown'));
    front = await startRoleProcess(FRONT_ROLES, productEnv, 60_000);
    const posted = await message;
    expect(hasButton(posted, DONE)).toBe(true);
    // Killed before its checkpoint passes the event: the next process handles it again.
    await crash(front);
    front = await startRoleProcess(FRONT_ROLES, productEnv, 60_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(outcomeMessages(thread.threadTs, taskId)).toHaveLength(1);
    expect(await types(`delivery-outcome-${taskId}-1`)).toEqual(['ProgressMessageRequested', 'ProgressMessagePosted']);
    // And it still works: the buttons of the one message decide.
    const answer = await press(DONE, posted, thread.threadTs, APPROVER);
    expect(String(answer.text)).toContain('Marked as done');
    await waitFor('the message redrawn with the decision', () => textOf(current(posted)).includes(`Marked as done by <@${APPROVER}>`));
  }, 120_000);
});

describe('a workflow step whose outcome is unknown', () => {
  it("waits: its status message says so, the decision message is in the workflow's thread, and Mark as done lets the workflow finish", async () => {
    const thread = await openThread();
    const workflowId = 'wf-unknown-outcome-1';
    // An edit changes code: it runs behind a gate (WF3), granted here by the approver.
    const definition = tree(
      { type: 'approval', id: 'go' },
      task('edit', 'claude-code', { params: { repository: 'acme', mode: 'edit', prompt: 'rename Greeter to Welcomer' }, sideEffects: true }),
    );
    const started = await commands.send(
      { category: 'workflow', id: workflowId },
      {
        commandId: `start-${workflowId}`,
        type: 'StartWorkflow',
        actor: ws.user.id,
        data: { definition, requestedBy: ws.user.id, conversationId: thread.conversationId },
      },
    );
    expect(started.status).toBe('accepted');
    const granted = await commands.send(
      { category: 'workflow', id: workflowId },
      { commandId: `grant-${workflowId}`, type: 'GrantApproval', actor: APPROVER, data: { stepId: 'go' } },
    );
    expect(granted.status, JSON.stringify(granted)).toBe('accepted');
    const taskId = `${workflowId}_edit_1`;
    await waitFor('the step to be queued as a task', async () => (await types(`task-${taskId}`)).includes('TaskQueued'));
    await workersLoseTrackOf(taskId);

    const message = await waitFor('the unknown outcome message in the thread', () => outcomeMessages(thread.threadTs, taskId)[0]);
    expect(hasButton(message, DONE)).toBe(true);
    const statusText = (): string => {
      const status = slack.thread(ws.channel.id, thread.threadTs).find((m) => markerOf(m)?.deliveryId === `workflow-${workflowId}`);
      return status ? textOf(status) : '';
    };
    await waitFor('the status message to show the step waiting for a decision', () => statusText().includes('edit — outcome unknown, waiting for a decision'));
    expect(await types(`workflow-${workflowId}`)).toContain('StepOutcomeUnknown');

    await press(DONE, message, thread.threadTs, APPROVER);
    await waitFor('the workflow to complete', async () => (await types(`workflow-${workflowId}`)).includes('WorkflowCompleted'));
    await waitFor('the status message to show it done', () => statusText().includes('2 of 2 steps done'));
    await waitFor('the message redrawn with the decision', () => textOf(current(message)).includes(`Marked as done by <@${APPROVER}>`));
  }, 90_000);
});

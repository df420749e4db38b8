import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, type Logger as BoltLogger, type RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { ConversationIntake, IncomingMessage, IntakeOutcome } from '../../actors/conversation-intake.ts';
import type { DecisionDesk, Decision } from '../../actors/decision-desk.ts';
import type { SlashRequest, SlashAnswer } from '../../actors/slash-commands.ts';
import { REJECT_PLAN_ACTION, RUN_PLAN_ACTION } from '../../domain/replies/plan-preview-reply.ts';
import { CANCEL_ACTION_ID } from '../../domain/replies/progress-reply.ts';
import { RERUN_ACTION_ID } from '../../domain/replies/result-reply.ts';
import { APPROVE_GATE_ACTION, CANCEL_WORKFLOW_ACTION, parseGateActionValue, REJECT_GATE_ACTION } from '../../domain/replies/workflow-replies.ts';
import type { ReplyDocument } from '../../domain/replies/reply-document.ts';
import { OUTCOME_ACTIONS, parseOutcomeActionValue, RESOLUTION_OF_ACTION } from '../../domain/replies/unknown-outcome-reply.ts';
import { isValidId } from '../../domain/streams.ts';
import { toBlockKit } from './block-kit.ts';
import { readMessageFields, replyPlaceOf } from './slack-message-fields.ts';
import { guardSlackRequests } from './slack-request-guard.ts';

// Slack in: Bolt 5 over HTTP (signature checked by Bolt's receiver, five-minute window) or
// Socket Mode when an app token is set. Mentions, direct messages and replies in our threads
// go to the conversation intake; events are acknowledged at once and handled after (Slack
// wants an answer within 3 s), and a redelivered event_id is dropped before anything is done
// (the intake would find the message id anyway; this saves the round trip). Slash commands go
// to the declared table in actors/slash-commands.ts; buttons become commands with the
// clicking user as the actor.

export interface SlackFrontEndOptions {
  readonly botToken: string;
  readonly signingSecret: string;
  readonly appToken?: string;
  readonly apiUrl: string;
  /** HTTP mode: where Slack's requests arrive (`/slack/events`). */
  readonly port: number;
  readonly host?: string;
  /** HTTP mode: mount `/slack/events` on this server (the process's one server on PORT) instead of Bolt starting its own on `port`. */
  readonly http?: { readonly port: number; route(path: string, listener: RequestListener): () => void };
  readonly intake: ConversationIntake;
  readonly slash: { answer(request: SlashRequest): Promise<SlashAnswer>; readonly commands: readonly string[] };
  /** Run this plan / Reject, Approve / Reject on gates, Re-run / Mark as done / Fail on unknown outcomes. */
  readonly decisions: Pick<DecisionDesk, 'decidePlan' | 'decideGate' | 'cancelWorkflow' | 'resolveOutcome'>;
  readonly logger: Logger;
}

export interface SlackFrontEnd {
  /** The HTTP port actually bound (HTTP mode). */
  readonly port: number | undefined;
  readonly client: WebClient;
  stop(): Promise<void>;
}

/** The Events API envelope's id and team, recorded with the message. */
const envelopeOf = (body: unknown): { eventId: string; team: string } => {
  const { event_id, team_id } = body as { event_id?: string; team_id?: string };
  return { eventId: event_id ?? '', team: team_id ?? '' };
};

const NOT_OURS = 'That button is not one of ours; nothing was done.';

/** A button value that must be an aggregate id (a task, plan or workflow). */
const idValueOf = (action: unknown): { ok: true; value: string } | { ok: false; problem: string } => {
  const value = (action as { value?: unknown }).value;
  if (typeof value !== 'string' || value === '') return { ok: false, problem: 'it carries no value' };
  return isValidId(value) ? { ok: true, value } : { ok: false, problem: 'its value is not an id' };
};

const MENTION = /<@[A-Z0-9]+(?:\|[^>]*)?>/g;
const withoutMentions = (text: string): string => text.replace(MENTION, ' ').replace(/\s+/g, ' ').trim();

export async function startSlackFrontEnd(options: SlackFrontEndOptions): Promise<SlackFrontEnd> {
  const { logger, intake } = options;
  const receiver = options.appToken ? undefined : guardedReceiver(options);
  const app = new App({
    token: options.botToken,
    ...(options.appToken ? { appToken: options.appToken, socketMode: true, signingSecret: options.signingSecret } : { receiver }),
    clientOptions: { slackApiUrl: options.apiUrl },
    logger: boltLogger(logger),
    logLevel: LogLevel.WARN,
  });
  const seenEvents = new LRUCache<string, true>({ max: 10_000, ttl: 60 * 60 * 1000 });

  const firstDelivery = (eventId: string | undefined, retryNum: number | undefined): boolean => {
    if (!eventId) return true;
    if (seenEvents.has(eventId)) {
      logger.info({ eventId, retryNum }, 'Slack redelivered an event already taken; dropped');
      return false;
    }
    seenEvents.set(eventId, true);
    return true;
  };

  const take = async (message: IncomingMessage, say: (reply: { text: string; blocks?: unknown[]; thread_ts: string }) => Promise<unknown>): Promise<void> => {
    let outcome: IntakeOutcome;
    try {
      outcome = await intake.receive(message);
    } catch (error) {
      logger.error({ err: error, channel: message.channel, ts: message.messageTs }, 'could not take a Slack message');
      await say({ text: `I could not take that request (${(error as Error).message}); please try again.`, thread_ts: message.threadTs }).catch(() => undefined);
      return;
    }
    logger.debug({ outcome: outcome.kind, channel: message.channel, ts: message.messageTs }, 'Slack message taken');
    if (outcome.kind === 'not-understood')
      await say({ ...rendered({ title: 'I can not do that yet', tone: 'info', summary: outcome.answer.message }), thread_ts: message.threadTs });
    if (outcome.kind === 'refused') await say({ text: `Sorry, I could not start that: ${outcome.message}`, thread_ts: message.threadTs });
    if (outcome.kind === 'answered') await say({ text: outcome.message, thread_ts: message.threadTs });
  };

  /** A malformed event: said in its thread where there is one to answer in and `answer` is true, else logged. */
  const malformed = async (kind: string, event: unknown, problem: string, answer: boolean): Promise<void> => {
    const place = answer ? replyPlaceOf(event) : undefined;
    logger.warn({ kind, problem, replied: place !== undefined }, 'malformed Slack event');
    if (!place) return;
    await app.client.chat
      .postMessage({ channel: place.channel, thread_ts: place.threadTs, text: `I could not read that ${kind}: ${problem}.` })
      .catch((error: unknown) => logger.warn({ err: error, kind }, 'could not answer a malformed Slack event'));
  };

  app.event('app_mention', async ({ event, body, context, say }) => {
    const envelope = envelopeOf(body);
    if (!firstDelivery(envelope.eventId, context.retryNum)) return;
    const read = readMessageFields(event);
    if (!read.ok) return malformed('mention', event, read.problem, true);
    const { fields } = read;
    await take(
      {
        source: 'slack',
        channel: fields.channel,
        threadTs: fields.thread_ts ?? fields.ts,
        messageTs: fields.ts,
        user: fields.user,
        text: withoutMentions(fields.text),
        metadata: envelope,
      },
      say,
    );
  });

  app.message(async ({ message, body, context, say }) => {
    // People only: no edits, deletions, joins, or bots (ourselves included).
    if (message.subtype !== undefined || 'bot_id' in message) return;
    const m = message as unknown as Record<string, unknown>;
    if (context.botUserId && m.user === context.botUserId) return;
    const text = typeof m.text === 'string' ? m.text : '';
    const direct = m.channel_type === 'im';
    // In channels a mention arrives as app_mention too; that copy is the one taken.
    if (!direct && (m.thread_ts === undefined || (context.botUserId && text.includes(`<@${context.botUserId}>`)))) return;
    const envelope = envelopeOf(body);
    if (!firstDelivery(envelope.eventId, context.retryNum)) return;
    const read = readMessageFields(m);
    // A reply in someone else's thread is not ours to answer; a direct message is.
    if (!read.ok) return malformed('message', m, read.problem, direct);
    const { fields } = read;
    await take(
      {
        source: 'slack',
        channel: fields.channel,
        threadTs: fields.thread_ts ?? fields.ts,
        messageTs: fields.ts,
        user: fields.user,
        text: withoutMentions(fields.text),
        continueOnly: !direct,
        metadata: envelope,
      },
      say,
    );
  });

  for (const command of options.slash.commands) {
    app.command(command, async ({ command: c, ack, respond }) => {
      await ack();
      const answer = await options.slash
        .answer({ command: c.command, text: c.text ?? '', user: c.user_id, channel: c.channel_id })
        .catch((error: unknown): SlashAnswer => {
          logger.error({ err: error, command: c.command }, 'slash command failed');
          return { text: `Sorry, ${c.command} failed: ${(error as Error).message}`, visibility: 'ephemeral' };
        });
      await respond({ text: answer.text, response_type: answer.visibility });
    });
  }

  app.action(CANCEL_ACTION_ID, async ({ ack, action, body, respond }) => {
    await ack();
    const taskId = idValueOf(action);
    if (!taskId.ok) return notOurs(respond, CANCEL_ACTION_ID, taskId.problem);
    const text = await intake.cancelTask(taskId.value, body.user.id).catch((error: unknown) => `Could not cancel: ${(error as Error).message}`);
    await respond({ text, response_type: 'ephemeral', replace_original: false });
  });

  app.action(RERUN_ACTION_ID, async ({ ack, action, body, respond }) => {
    await ack();
    const value = idValueOf(action);
    const actionTs = (action as { action_ts?: string }).action_ts ?? String(Date.now() / 1000);
    if (!value.ok) return notOurs(respond, RERUN_ACTION_ID, value.problem);
    const taskId = value.value;
    const outcome = await intake
      .rerunTask(taskId, body.user.id, actionTs)
      .catch((error: unknown): IntakeOutcome => ({ kind: 'refused', conversationId: '', message: (error as Error).message }));
    const text =
      outcome.kind === 'rerun'
        ? `Running it again as task ${outcome.taskId}.`
        : outcome.kind === 'refused'
          ? `Could not run it again: ${outcome.message}`
          : 'Already running it again.';
    await respond({ text, response_type: 'ephemeral', replace_original: false });
  });

  // Decisions: the answer goes to the one who clicked; the message itself is redrawn by the
  // thread notifier from the decided state, buttons gone.
  const decided = (actionId: string, decide: (value: string, user: string) => Promise<string>) =>
    app.action(actionId, async ({ ack, action, body, respond }) => {
      await ack();
      const value = (action as { value?: unknown }).value;
      if (typeof value !== 'string' || value === '') return notOurs(respond, actionId, 'it carries no value');
      const text = await decide(value, body.user.id).catch((error: unknown) => {
        logger.error({ err: error, actionId }, 'a decision failed');
        return `Sorry, that did not work: ${(error as Error).message}`;
      });
      logger.info({ actionId, user: body.user.id, value }, 'decision taken');
      await respond({ text, response_type: 'ephemeral', replace_original: false });
    });
  const onGate = (decision: Decision) => async (value: string, user: string) => {
    const gate = parseGateActionValue(value);
    return gate ? options.decisions.decideGate(gate.workflowId, gate.stepId, gate.visit, user, decision) : NOT_OURS;
  };
  const withId = (decide: (id: string, user: string) => Promise<string>) => async (value: string, user: string) =>
    isValidId(value) ? decide(value, user) : NOT_OURS;
  decided(
    RUN_PLAN_ACTION,
    withId((planId, user) => options.decisions.decidePlan(planId, user, 'approve', 'button')),
  );
  decided(
    REJECT_PLAN_ACTION,
    withId((planId, user) => options.decisions.decidePlan(planId, user, 'reject', 'button')),
  );
  decided(APPROVE_GATE_ACTION, onGate('approve'));
  decided(REJECT_GATE_ACTION, onGate('reject'));
  decided(
    CANCEL_WORKFLOW_ACTION,
    withId((workflowId, user) => options.decisions.cancelWorkflow(workflowId, user)),
  );
  // The one deciding is the user Bolt verified the click came from, never a field of the payload.
  for (const actionId of OUTCOME_ACTIONS) {
    decided(actionId, async (value, user) => {
      const outcome = parseOutcomeActionValue(value);
      return outcome ? options.decisions.resolveOutcome(outcome.taskId, outcome.attempt, user, RESOLUTION_OF_ACTION[actionId]) : NOT_OURS;
    });
  }

  app.error(async (error) => {
    logger.error({ err: error }, 'Slack listener failed');
  });

  /** A button press whose value is not one this product put there: said to the one who pressed it. */
  const notOurs = async (respond: RespondFn, actionId: string, problem: string): Promise<void> => {
    logger.warn({ actionId, problem }, 'a button press not of ours');
    await respond({ text: `That button is not one of ours (${problem}); nothing was done.`, response_type: 'ephemeral', replace_original: false }).catch(
      (error: unknown) => logger.warn({ err: error, actionId }, 'could not answer a button press'),
    );
  };

  if (receiver && options.http) {
    // Bolt's receiver needs no start of its own: App's constructor initialised it, and its listener serves mounted.
    const unmount = options.http.route(EVENTS_ENDPOINT, receiver.requestListener);
    logger.info({ mode: 'http', port: options.http.port }, 'Slack front end listening');
    return { port: options.http.port, client: app.client, stop: async () => unmount() };
  }
  const started = options.appToken ? await app.start() : await app.start({ port: options.port, host: options.host });
  const port = options.appToken ? undefined : ((started as Server).address() as AddressInfo).port;
  logger.info({ mode: options.appToken ? 'socket' : 'http', port }, 'Slack front end listening');
  return { port, client: app.client, stop: () => app.stop() as Promise<void> };
}

const EVENTS_ENDPOINT = '/slack/events';

/** Bolt's HTTP receiver with its request listener behind the checks of slack-request-guard.ts. */
function guardedReceiver(options: SlackFrontEndOptions): HTTPReceiver {
  const receiver = new HTTPReceiver({ signingSecret: options.signingSecret, endpoints: EVENTS_ENDPOINT, logger: boltLogger(options.logger) });
  receiver.requestListener = guardSlackRequests(receiver.requestListener, {
    signingSecret: options.signingSecret,
    endpoint: EVENTS_ENDPOINT,
    logger: options.logger.child({ component: 'slack-http' }),
  });
  return receiver;
}

function rendered(document: ReplyDocument): { text: string; blocks: unknown[] } {
  const { text, blocks } = toBlockKit(document);
  return { text, blocks };
}

/** Bolt's logger interface onto pino; Bolt's own level stays at warn. */
function boltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'bolt' });
  let level = LogLevel.WARN;
  return {
    debug: (...msg: unknown[]) => child.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => child.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => child.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => child.error(msg.map(String).join(' ')),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

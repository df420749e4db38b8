import { describe, expect, it } from 'vitest';
import type { Intent } from '../../domain/process/process-manager.ts';
import { resultDelivery, resultKeepsEvents, type ResultEffect, type ResultInput, type ResultReply } from '../../domain/process/result-delivery.ts';
import type { TaskEvent } from '../../domain/task/events.ts';
import { taskTypeDescriptors } from '../../adapters/executors/registry.ts';
import { managerSpecFor } from '../support/manager-spec.ts';

// Result delivery as a specification: a task's end becomes a reply requested on its Delivery,
// then a Slack post, a webhook POST (retried on the agenda, dead-lettered) or a NATS message,
// each recorded; a replay looks the Delivery up before sending anything again.

const manager = resultDelivery({ taskTypes: taskTypeDescriptors, webhookMaxAttempts: 3, webhookDelayMs: (attempt) => attempt * 1_000 });
const { given } = managerSpecFor(manager);

const at = '2026-11-21T10:00:00.000Z';
const conversationId = 'C1-1732183200_000100';
const slack = { kind: 'slack', channel: 'C1', threadTs: '1732183200.000100' } as const;
const webhook = { kind: 'webhook', url: 'https://hooks.example.com/x?token=secret' } as const;
const like = (partial: object): Partial<Intent<ResultEffect>> => partial as Partial<Intent<ResultEffect>>;

const taskEvent = (type: TaskEvent['type'], data: object): ResultInput => ({
  kind: 'event',
  event: { type, data: { taskId: 'T1', at, ...data } } as TaskEvent,
  at,
});
const queued = (extra: object = {}) =>
  taskEvent('TaskQueued', {
    taskType: 'git-status',
    pool: 'local-ops',
    priority: 'normal',
    payload: { repository: 'acme' },
    maxAttempts: 3,
    timeoutMs: 60_000,
    requestedBy: 'U1',
    ...extra,
  });
const completed = taskEvent('TaskCompleted', { attempt: 1, workerId: 'w1', durationMs: 12, result: { clean: true, branch: 'main' } });
const failedForGood = taskEvent('TaskFailed', { attempt: 1, workerId: 'w1', error: { code: 'Boom', message: 'it broke' }, retryable: false, final: true });
const failedOnce = taskEvent('TaskFailed', { attempt: 1, workerId: 'w1', error: { code: 'Boom', message: 'it broke' }, retryable: true, final: false });

const answered = (intent: object, reply: ResultReply): ResultInput => ({ kind: 'reply', intent: intent as Intent<ResultEffect>, reply, at });
const beginReply = { kind: 'command', category: 'delivery', id: 'T1', type: 'BeginReply' } as const;
const fresh = answered(beginReply, { status: 'accepted', revision: '0', events: 1 });
const replayed = answered(beginReply, { status: 'accepted', revision: '3', events: 0 });
const lookUp = { kind: 'effect', effect: { type: 'look-up-delivery', taskId: 'T1' } } as const;
const post = (resumed = false) => ({ kind: 'effect', effect: { type: 'post-reply', taskId: 'T1', resumed } }) as const;
const sendWebhook = (attempt: number) => ({ kind: 'effect', effect: { type: 'send-webhook', taskId: 'T1', url: webhook.url, attempt } }) as const;
const recordAttempt = (attempt: number) =>
  ({ kind: 'command', category: 'delivery', id: 'T1', type: 'RecordWebhookAttempt', commandId: `webhook-T1-${attempt}` }) as const;
const recorded = (attempt: number, events = 1) => answered(recordAttempt(attempt), { status: 'accepted', revision: String(attempt), events });
const failedPost = { delivered: false, status: 500, error: 'HTTP 500', retryable: true } as const;
const due = (attempt: number): ResultInput => ({ kind: 'due', timer: { name: 'webhook-retry', dueAt: at, payload: { attempt } }, at });

describe('a task that ends', () => {
  it('requests the reply on its Delivery, for where the request asked', () => {
    given(queued({ replyTo: slack }))
      .when(completed)
      .thenSends(
        like({ kind: 'command', category: 'delivery', id: 'T1', type: 'BeginReply', wantsReply: true, data: { target: slack, outcome: 'completed' } }),
      );
    given(queued({ replyTo: slack }))
      .when(failedForGood)
      .thenSends(like({ type: 'BeginReply', data: { target: slack, outcome: 'failed' } }));
  });

  it('sends nothing for a failure that is retried, nor for a task nobody waits on, nor one never seen queued', () => {
    given(queued({ replyTo: slack }))
      .when(failedOnce)
      .thenNothing();
    given(queued()).when(completed).thenNothing();
    given().when(completed).thenNothing();
  });

  it('asks under an id a command host takes (no dot), its own each time the end is handled', () => {
    given(queued({ replyTo: slack }))
      .when(completed)
      .thenSends(like({ commandId: `begin-reply-T1-${Date.parse(at)}` }));
  });

  it('requests it once, however many endings arrive', () => {
    given(queued({ replyTo: slack }), completed)
      .when(failedForGood)
      .thenNothing();
  });
});

describe('a reply in the Slack thread', () => {
  it('is posted in the thread with the result drawn in its type’s format', () => {
    given(queued({ replyTo: slack }), completed)
      .when(fresh)
      .thenSends(
        like({
          ...post(false),
          effect: {
            ...post(false).effect,
            thread: { channel: 'C1', threadTs: slack.threadTs },
            document: expect.objectContaining({ title: expect.any(String) }),
          },
        }),
      );
  });

  it('once posted, is recorded on the Delivery and joins the conversation', () => {
    const posted = answered(post(), { kind: 'posted', message: { channel: 'C1', ts: '9.9', fileIds: ['F1'] } });
    given(queued({ replyTo: slack, conversationId }), completed, fresh)
      .when(posted)
      .thenSends(
        like({ type: 'RecordReplyPosted', commandId: 'reply-posted-T1', data: { channel: 'C1', ts: '9.9', fileIds: ['F1'] } }),
        like({
          category: 'conversation',
          id: conversationId,
          type: 'AddMessage',
          commandId: 'reply-message-T1',
          data: { messageId: 'reply-T1', role: 'assistant' },
        }),
      );
    given(queued({ replyTo: slack }), completed, fresh)
      .when(posted)
      .thenSends(like({ type: 'RecordReplyPosted' }));
  });

  it('after a replay, is looked up on the Delivery first: sent nothing if finished, else looked for by its marker', () => {
    given(queued({ replyTo: slack }), completed)
      .when(replayed)
      .then({ kind: 'effect', key: 'look-up-delivery-T1', effect: { type: 'look-up-delivery', taskId: 'T1' }, wantsReply: true });
    given(queued({ replyTo: slack }), completed, replayed)
      .when(answered(lookUp, { kind: 'delivery', finished: true, attempts: 0 }))
      .thenNothing();
    given(queued({ replyTo: slack }), completed, replayed)
      .when(answered(lookUp, { kind: 'delivery', finished: false, attempts: 0 }))
      .thenSends(like(post(true)));
  });

  it('is given up on, and reported, when the thread is gone', () => {
    given(queued({ replyTo: slack }), completed, fresh)
      .when(answered(post(), { kind: 'gone', code: 'channel_not_found' }))
      .thenSends(like({ kind: 'effect', effect: { type: 'report', level: 'error', taskId: 'T1' } }));
  });
});

describe('a webhook reply', () => {
  const waiting = [queued({ replyTo: webhook }), completed, fresh, answered(sendWebhook(1), failedPost), recorded(1)];

  it('POSTs attempt 1 and records it', () => {
    given(queued({ replyTo: webhook }), completed)
      .when(fresh)
      .thenSends(
        like({
          ...sendWebhook(1),
          effect: {
            ...sendWebhook(1).effect,
            body: expect.objectContaining({ taskId: 'T1', taskType: 'git-status', outcome: 'completed', requestedBy: 'U1' }),
          },
        }),
      );
    given(queued({ replyTo: webhook }), completed, fresh)
      .when(answered(sendWebhook(1), failedPost))
      .thenSends(
        like({ ...recordAttempt(1), data: { attempt: 1, maxAttempts: 3, outcome: { delivered: false, status: 500, error: 'HTTP 500', retryable: true } } }),
      );
  });

  it('waits on the agenda for the schedule’s delay before the next attempt', () => {
    given(queued({ replyTo: webhook }), completed, fresh, answered(sendWebhook(1), failedPost))
      .when(recorded(1))
      .thenNothing();
    const state = given(...waiting.slice(0, -1))
      .when(recorded(1))
      .state();
    expect(manager.timers(state)).toEqual([{ name: 'webhook-retry', dueAt: '2026-11-21T10:00:01.000Z', payload: { attempt: 2 } }]);
    given(...waiting)
      .when({ kind: 'due', timer: { name: 'webhook-retry', dueAt: '2026-11-21T10:00:01.000Z', payload: { attempt: 2 } }, at })
      .thenSends(like(sendWebhook(2)));
  });

  it('fires a retry once: a timer firing again, or for another attempt, sends nothing', () => {
    given(...waiting, due(2))
      .when(due(2))
      .thenNothing();
    given(...waiting)
      .when(due(3))
      .thenNothing();
  });

  it('ends once delivered', () => {
    const state = given(...waiting, due(2), answered(sendWebhook(2), { delivered: true, status: 200 }))
      .when(recorded(2))
      .state();
    expect(manager.timers(state)).toEqual([]);
    expect(manager.finished(state)).toBe(true);
  });

  it('dead-letters after the last attempt, or at once for a failure not worth retrying, and says so without the URL’s query', () => {
    given(...waiting, due(2), answered(sendWebhook(2), failedPost), recorded(2), due(3), answered(sendWebhook(3), failedPost))
      .when(recorded(3))
      .thenSends(like({ kind: 'effect', effect: { type: 'report', level: 'error', url: webhook.url, attempts: 3 } }));
    given(queued({ replyTo: webhook }), completed, fresh, answered(sendWebhook(1), { delivered: false, status: 404, error: 'HTTP 404', retryable: false }))
      .when(recorded(1))
      .thenSends(like({ kind: 'effect', effect: { type: 'report', attempts: 1 } }));
  });

  it('goes on from the attempt after the last one recorded when replayed, and stops where another process recorded first', () => {
    given(queued({ replyTo: webhook }), completed, replayed)
      .when(answered(lookUp, { kind: 'delivery', finished: false, attempts: 2 }))
      .thenSends(like(sendWebhook(3)));
    given(queued({ replyTo: webhook }), completed, fresh, answered(sendWebhook(1), failedPost))
      .when(recorded(1, 0))
      .thenNothing();
  });
});

describe('a NATS reply', () => {
  it('publishes the result message and records it', () => {
    given(queued({ replyTo: { kind: 'nats', subject: 'results.for.test' } }), completed)
      .when(fresh)
      .thenSends(
        like({
          kind: 'effect',
          effect: {
            type: 'publish',
            subject: 'results.for.test',
            body: expect.objectContaining({ taskId: 'T1', outcome: 'completed', result: { clean: true, branch: 'main' } }),
          },
        }),
        like({ type: 'RecordNatsReply', commandId: 'nats-reply-T1', data: { subject: 'results.for.test' } }),
      );
  });
});

describe('what it keeps', () => {
  it('keeps a task’s events from TaskQueued until its reply is finished', () => {
    expect(
      resultKeepsEvents(
        given()
          .when(queued({ replyTo: slack }))
          .state(),
      ),
    ).toBe(true);
    expect(resultKeepsEvents(given().when(queued()).state())).toBe(false);
    expect(
      resultKeepsEvents(
        given(queued({ replyTo: slack }), completed, replayed)
          .when(answered(lookUp, { kind: 'delivery', finished: true, attempts: 0 }))
          .state(),
      ),
    ).toBe(false);
  });
});

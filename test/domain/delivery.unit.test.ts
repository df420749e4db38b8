import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import {
  deliveryDecider,
  parseDeliveryCommand,
  replyFinished,
  type DeliveryCommand,
  type DeliveryCommandOf,
  type DeliveryEvent,
  type DeliveryEventData,
  type DeliveryEventOf,
  type ReplyOutcome,
  type ReplyTarget,
  type WebhookAttemptOutcome,
} from '../../domain/delivery/index.ts';
import { specFor } from '../support/decider-spec.ts';

const { given } = specFor(deliveryDecider);

// ── fixtures ────────────────────────────────────────────────────────────────
const deliveryId = '01JD5W3Q8Z-task-42';
const at = '2026-11-21T10:00:00.000Z';

const event = <K extends DeliveryEvent['type']>(type: K, data: Omit<DeliveryEventData<K>, 'deliveryId' | 'at'>): DeliveryEventOf<K> =>
  ({ type, data: { deliveryId, ...data, at } }) as DeliveryEventOf<K>;
const command = <K extends DeliveryCommand['type']>(type: K, fields: Omit<DeliveryCommandOf<K>, 'type' | 'deliveryId' | 'at'>): DeliveryCommandOf<K> =>
  ({ type, deliveryId, at, ...fields }) as DeliveryCommandOf<K>;

const thread = { channel: 'C042', threadTs: '1732183200.000100' } as const;
const slack: ReplyTarget = { kind: 'slack', ...thread };
const webhook: ReplyTarget = { kind: 'webhook', url: 'https://ci.example.com/hooks/orch' };
const nats: ReplyTarget = { kind: 'nats', subject: 'ci.results.task-42' };

const progressRequested = () => event('ProgressMessageRequested', thread);
const progressPosted = (ts = '1732183201.000200') => event('ProgressMessagePosted', { channel: thread.channel, ts });
const replyRequested = (target: ReplyTarget = slack, outcome: ReplyOutcome = 'completed') => event('ReplyRequested', { target, outcome });
const replyPosted = (ts = '1732183300.000300', fileIds?: string[]) => event('ReplyPosted', { channel: thread.channel, ts, ...(fileIds && { fileIds }) });
const webhookDelivered = (attempt: number, status = 200) => event('WebhookDelivered', { attempt, status });
const webhookFailed = (
  attempt: number,
  { status = 503, error = 'HTTP 503 Service Unavailable', retryable = true }: { status?: number; error?: string; retryable?: boolean } = {},
) => event('WebhookAttemptFailed', { attempt, status, error, retryable });
const deadLettered = (attempts: number, lastError = 'HTTP 503 Service Unavailable') => event('ReplyDeadLettered', { attempts, lastError });
const natsPublished = () => event('NatsReplyPublished', { subject: nats.subject });

const beginProgress = () => command('BeginProgressMessage', thread);
const recordProgress = (ts = '1732183201.000200') => command('RecordProgressMessage', { channel: thread.channel, ts });
const beginReply = (target: ReplyTarget = slack, outcome: ReplyOutcome = 'completed') => command('BeginReply', { target, outcome });
const recordReply = (ts = '1732183300.000300', fileIds?: string[]) =>
  command('RecordReplyPosted', { channel: thread.channel, ts, ...(fileIds && { fileIds }) });
const delivered = (status = 200): WebhookAttemptOutcome => ({ delivered: true, status });
const failure = ({
  status = 503,
  error = 'HTTP 503 Service Unavailable',
  retryable = true,
}: { status?: number; error?: string; retryable?: boolean } = {}): WebhookAttemptOutcome => ({
  delivered: false,
  status,
  error,
  retryable,
});
const attemptWebhook = (attempt: number, outcome: WebhookAttemptOutcome, maxAttempts = 3) => command('RecordWebhookAttempt', { attempt, maxAttempts, outcome });
const recordNats = () => command('RecordNatsReply', { subject: nats.subject });

// ── rules ───────────────────────────────────────────────────────────────────
describe('BeginProgressMessage', () => {
  it('requests the progress message, opening the stream', () => given().when(beginProgress()).then(progressRequested()));
  it('ignores a repeated request', () => given(progressRequested()).when(beginProgress()).thenNothing());
  it('ignores a request once the message is posted (replay after a crash)', () =>
    given(progressRequested(), progressPosted()).when(beginProgress()).thenNothing());
});

describe('RecordProgressMessage', () => {
  it('records the posted message', () => given(progressRequested()).when(recordProgress()).then(progressPosted()));
  it('ignores the same ts again', () => given(progressRequested(), progressPosted()).when(recordProgress()).thenNothing());
  it('refuses a second message with another ts', () =>
    given(progressRequested(), progressPosted('1732183201.000200')).when(recordProgress('1732183299.000900')).thenRejects('ProgressMessageAlreadyPosted'));
  it('refuses recording a message never requested', () => given().when(recordProgress()).thenRejects('ProgressMessageNotRequested'));
  it('refuses recording a message on a stream opened by the reply', () =>
    given(replyRequested(webhook)).when(recordProgress()).thenRejects('ProgressMessageNotRequested'));
});

describe('BeginReply', () => {
  it('requests the reply, opening the stream (a webhook task has no progress message)', () =>
    given().when(beginReply(webhook, 'failed')).then(replyRequested(webhook, 'failed')));
  it('requests the reply after the progress message', () =>
    given(progressRequested(), progressPosted()).when(beginReply(slack, 'cancelled')).then(replyRequested(slack, 'cancelled')));
  it('ignores a repeated request', () => given(replyRequested()).when(beginReply()).thenNothing());
  it('keeps the first target and outcome', () => given(replyRequested(slack, 'completed')).when(beginReply(nats, 'failed')).thenNothing());
  it('ignores a request once the reply is posted', () => given(replyRequested(), replyPosted()).when(beginReply()).thenNothing());
});

describe('RecordReplyPosted', () => {
  it('records the Slack reply', () => given(progressRequested(), progressPosted(), replyRequested()).when(recordReply()).then(replyPosted()));
  it('records the files attached to it', () =>
    given(replyRequested())
      .when(recordReply('1732183300.000300', ['F1', 'F2']))
      .then(replyPosted('1732183300.000300', ['F1', 'F2'])));
  it('ignores the same ts again', () => given(replyRequested(), replyPosted()).when(recordReply()).thenNothing());
  it('refuses a second reply with another ts', () =>
    given(replyRequested(), replyPosted('1732183300.000300')).when(recordReply('1732183400.000400')).thenRejects('ReplyAlreadyPosted'));
  it('refuses a reply never requested', () => given().when(recordReply()).thenRejects('ReplyNotRequested'));
  it('refuses a reply requested only as progress', () => given(progressRequested(), progressPosted()).when(recordReply()).thenRejects('ReplyNotRequested'));
  it.each([webhook, nats])('refuses a Slack post when the reply goes to $kind', (target) =>
    given(replyRequested(target)).when(recordReply()).thenRejects('WrongReplyTarget'),
  );
});

describe('RecordWebhookAttempt', () => {
  it('records delivery on the first attempt', () =>
    given(replyRequested(webhook))
      .when(attemptWebhook(1, delivered(202)))
      .then(webhookDelivered(1, 202)));
  it('records a retryable failure', () => given(replyRequested(webhook)).when(attemptWebhook(1, failure())).then(webhookFailed(1)));
  it('records delivery after failures', () =>
    given(replyRequested(webhook), webhookFailed(1), webhookFailed(2)).when(attemptWebhook(3, delivered())).then(webhookDelivered(3)));
  it('records a failure without an HTTP status', () =>
    given(replyRequested(webhook))
      .when(attemptWebhook(1, { delivered: false, error: 'connect ECONNREFUSED', retryable: true }))
      .then(event('WebhookAttemptFailed', { attempt: 1, error: 'connect ECONNREFUSED', retryable: true })));
  it('dead-letters the reply on the last attempt', () =>
    given(replyRequested(webhook), webhookFailed(1), webhookFailed(2))
      .when(attemptWebhook(3, failure(), 3))
      .then(webhookFailed(3), deadLettered(3)));
  it('dead-letters the reply on an error not worth retrying', () =>
    given(replyRequested(webhook))
      .when(attemptWebhook(1, failure({ status: 410, error: 'HTTP 410 Gone', retryable: false }), 5))
      .then(webhookFailed(1, { status: 410, error: 'HTTP 410 Gone', retryable: false }), deadLettered(1, 'HTTP 410 Gone')));
  it('dead-letters an attempt past the budget', () =>
    given(replyRequested(webhook), webhookFailed(1))
      .when(attemptWebhook(2, failure(), 1))
      .then(webhookFailed(2), deadLettered(2)));
  it('ignores a replayed attempt', () => given(replyRequested(webhook), webhookFailed(1), webhookFailed(2)).when(attemptWebhook(2, failure())).thenNothing());
  it('ignores a replayed earlier attempt whatever its outcome', () =>
    given(replyRequested(webhook), webhookFailed(1), webhookFailed(2)).when(attemptWebhook(1, delivered())).thenNothing());
  it('refuses an attempt that skips ahead', () =>
    given(replyRequested(webhook), webhookFailed(1)).when(attemptWebhook(3, failure())).thenRejects('WebhookAttemptOutOfOrder'));
  it('refuses a later first attempt', () => given(replyRequested(webhook)).when(attemptWebhook(2, delivered())).thenRejects('WebhookAttemptOutOfOrder'));
  it('records nothing after delivery: the reply is finished', () =>
    given(replyRequested(webhook), webhookDelivered(1)).when(attemptWebhook(2, failure())).thenNothing());
  it('records nothing after the dead letter: the reply is finished', () =>
    given(replyRequested(webhook), webhookFailed(1), deadLettered(1))
      .when(attemptWebhook(2, delivered(), 5))
      .thenNothing());
  it('records nothing after the reply is finished, even for an attempt that would skip ahead', () =>
    given(replyRequested(webhook), webhookDelivered(1)).when(attemptWebhook(5, delivered())).thenNothing());
  it('refuses an attempt on a reply never requested', () => given().when(attemptWebhook(1, delivered())).thenRejects('ReplyNotRequested'));
  it.each([slack, nats])('refuses an attempt when the reply goes to $kind', (target) =>
    given(replyRequested(target)).when(attemptWebhook(1, delivered())).thenRejects('WrongReplyTarget'),
  );
});

describe('RecordNatsReply', () => {
  it('records the published reply', () => given(replyRequested(nats)).when(recordNats()).then(natsPublished()));
  it('ignores publishing it again', () => given(replyRequested(nats), natsPublished()).when(recordNats()).thenNothing());
  it('refuses a reply never requested', () => given().when(recordNats()).thenRejects('ReplyNotRequested'));
  it.each([slack, webhook])('refuses a NATS reply when the reply goes to $kind', (target) =>
    given(replyRequested(target)).when(recordNats()).thenRejects('WrongReplyTarget'),
  );
});

// ── state ───────────────────────────────────────────────────────────────────
describe('delivery state', () => {
  const state = (...events: DeliveryEvent[]) => fold(deliveryDecider, events);

  it('starts with nothing requested', () => expect(state()).toEqual({ status: 'none' }));

  it('folds a Slack task: progress message, then the reply with files', () =>
    expect(state(progressRequested(), progressPosted('1.1'), replyRequested(slack, 'completed'), replyPosted('2.2', ['F1']))).toEqual({
      status: 'active',
      deliveryId,
      progress: { channel: 'C042', threadTs: '1732183200.000100', ts: '1.1' },
      reply: { target: slack, outcome: 'completed', status: 'posted', channel: 'C042', ts: '2.2', fileIds: ['F1'], attempts: 0 },
    }));

  it('keeps the channel Slack answered with, which a later update of the message needs', () =>
    expect(
      state(event('ProgressMessageRequested', { channel: '#builds', threadTs: '1.0' }), event('ProgressMessagePosted', { channel: 'C042', ts: '1.1' })),
    ).toMatchObject({
      progress: { channel: 'C042', threadTs: '1.0', ts: '1.1' },
    }));

  it('counts webhook attempts and keeps the last error', () =>
    expect(state(replyRequested(webhook, 'failed'), webhookFailed(1, { error: 'HTTP 502' }), webhookFailed(2, { error: 'HTTP 503' }))).toEqual({
      status: 'active',
      deliveryId,
      reply: { target: webhook, outcome: 'failed', status: 'requested', attempts: 2, lastError: 'HTTP 503' },
    }));

  it('folds a delivered webhook', () =>
    expect(state(replyRequested(webhook), webhookFailed(1), webhookDelivered(2))).toMatchObject({ reply: { status: 'delivered', attempts: 2 } }));

  it('folds a dead-lettered webhook', () =>
    expect(state(replyRequested(webhook), webhookFailed(1, { error: 'HTTP 410 Gone', retryable: false }), deadLettered(1, 'HTTP 410 Gone'))).toMatchObject({
      reply: { status: 'dead-lettered', attempts: 1, lastError: 'HTTP 410 Gone' },
    }));

  it('folds a published NATS reply', () =>
    expect(state(replyRequested(nats), natsPublished())).toMatchObject({ reply: { target: nats, status: 'published' } }));

  it('leaves the state as it was for a stray event without its request', () => {
    expect(state(progressPosted())).toEqual({ status: 'none' });
    expect(state(replyPosted(), webhookDelivered(1), natsPublished())).toEqual({ status: 'none' });
    expect(state(progressRequested(), replyPosted())).toEqual({ status: 'active', deliveryId, progress: thread });
  });

  it('round-trips through JSON, as the default snapshot encoding stores it', () => {
    const folded = state(progressRequested(), progressPosted(), replyRequested(webhook), webhookFailed(1), webhookFailed(2), deadLettered(2));
    expect(JSON.parse(JSON.stringify(folded))).toEqual(folded);
  });

  it('folded state decides the same as the history it came from', () => {
    const history = [replyRequested(webhook), webhookFailed(1)];
    const snapshot = JSON.parse(JSON.stringify(state(...history))) as ReturnType<typeof state>;
    expect(deliveryDecider.decide(attemptWebhook(2, delivered()), snapshot)).toEqual(deliveryDecider.decide(attemptWebhook(2, delivered()), state(...history)));
  });
});

describe('replyFinished', () => {
  const finished = (...events: DeliveryEvent[]) => replyFinished(fold(deliveryDecider, events));

  it('is false before any reply is requested', () => {
    expect(finished()).toBe(false);
    expect(finished(progressRequested(), progressPosted())).toBe(false);
  });
  it('is false while the reply is requested or being retried', () => {
    expect(finished(replyRequested())).toBe(false);
    expect(finished(replyRequested(webhook), webhookFailed(1))).toBe(false);
  });
  it('is true once posted, delivered, dead-lettered or published', () => {
    expect(finished(replyRequested(), replyPosted())).toBe(true);
    expect(finished(replyRequested(webhook), webhookDelivered(1))).toBe(true);
    expect(finished(replyRequested(webhook), webhookFailed(1), deadLettered(1))).toBe(true);
    expect(finished(replyRequested(nats), natsPublished())).toBe(true);
  });
});

// ── boundary ────────────────────────────────────────────────────────────────
describe('parseDeliveryCommand', () => {
  const problems = (input: unknown): readonly string[] => {
    const result = parseDeliveryCommand(input);
    return isLeft(result) ? result.left.issues : expect.fail('expected the command to be refused');
  };

  it('accepts a webhook attempt', () => {
    const input = {
      type: 'RecordWebhookAttempt',
      deliveryId,
      at,
      attempt: 1,
      maxAttempts: 5,
      outcome: { delivered: false, error: 'timeout', retryable: true },
    };
    const result = parseDeliveryCommand(input);
    expect(isRight(result) && result.right).toEqual(input);
  });

  it('accepts a reply to each kind of target', () => {
    for (const target of [slack, webhook, nats])
      expect(isRight(parseDeliveryCommand({ type: 'BeginReply', deliveryId, at, target, outcome: 'completed' }))).toBe(true);
  });

  it('refuses an attempt numbered below 1 and an error over 2000 characters', () => {
    const attempt = { type: 'RecordWebhookAttempt', deliveryId, at, attempt: 1, maxAttempts: 3, outcome: { delivered: false, error: 'x', retryable: true } };
    expect(problems({ ...attempt, attempt: 0 })).toEqual([expect.stringMatching(/^attempt: Too small/)]);
    expect(problems({ ...attempt, maxAttempts: 0 })).toEqual([expect.stringMatching(/^maxAttempts: Too small/)]);
    expect(problems({ ...attempt, outcome: { delivered: false, error: 'x'.repeat(2_001), retryable: true } })).toEqual([
      expect.stringMatching(/^outcome\.error: Too big/),
    ]);
  });

  it('refuses a failure without its error, and an outcome that is neither', () => {
    const attempt = { type: 'RecordWebhookAttempt', deliveryId, at, attempt: 1, maxAttempts: 3 };
    expect(problems({ ...attempt, outcome: { delivered: false, retryable: true } })).toEqual([expect.stringMatching(/^outcome\.error: /)]);
    expect(problems({ ...attempt, outcome: { delivered: 'yes', status: 200 } })).toEqual([expect.stringMatching(/^outcome\.delivered: /)]);
  });

  it('refuses an unknown outcome and target', () => {
    expect(problems({ type: 'BeginReply', deliveryId, at, target: slack, outcome: 'skipped' })).toEqual([expect.stringMatching(/^outcome: /)]);
    expect(problems({ type: 'BeginReply', deliveryId, at, target: { kind: 'email', to: 'a@b.c' }, outcome: 'completed' })).toEqual([
      expect.stringMatching(/^target\.kind: /),
    ]);
  });

  it('refuses a delivery id with a "."', () =>
    expect(problems({ type: 'RecordNatsReply', deliveryId: 'task.42', at, subject: 'ci.results' })).toEqual([
      'deliveryId: must be 1-200 characters with no ".", "*", ">" or white space',
    ]));
});

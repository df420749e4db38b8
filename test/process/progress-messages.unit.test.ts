import { describe, expect, it } from 'vitest';
import type { Intent } from '../../domain/process/process-manager.ts';
import { progressMessages, type ProgressInput, type ProgressReply } from '../../domain/process/progress-messages.ts';
import type { ThreadEffect } from '../../domain/process/thread-messages.ts';
import type { TaskEvent } from '../../domain/task/events.ts';
import { managerSpecFor } from '../support/manager-spec.ts';

// The progress message as a specification: one message per task answering in Slack, opened
// once (looked up, begun, posted, recorded), then edited at most once per interval with the
// latest state, pushed back by rate limits, and closed once the final state is written.

const manager = progressMessages({ intervalMs: 2_000 });
const { given } = managerSpecFor(manager);

const t = (ms: number) => new Date(Date.UTC(2026, 10, 21, 10, 0, 0) + ms).toISOString();
const slack = { kind: 'slack', channel: 'C1', threadTs: '1.1' } as const;
const thread = { source: 'slack', channel: 'C1', threadTs: '1.1' } as const;
const like = (partial: object): Partial<Intent<ThreadEffect>> => partial as Partial<Intent<ThreadEffect>>;

const taskEvent = (type: TaskEvent['type'], data: object, at = t(0)): ProgressInput => ({
  kind: 'event',
  event: { type, data: { taskId: 'T1', at, ...data } } as TaskEvent,
  at,
});
const queued = (replyTo: object | undefined = slack) =>
  taskEvent('TaskQueued', {
    taskType: 'run-tests',
    pool: 'local-ops',
    priority: 'normal',
    payload: {},
    maxAttempts: 3,
    timeoutMs: 60_000,
    requestedBy: 'U1',
    ...(replyTo && { replyTo }),
  });
const assigned = (at = t(0)) => taskEvent('TaskAssigned', { attempt: 1, workerId: 'w1' }, at);
const progressed = (percent: number, at: string, attempt = 1) => taskEvent('TaskProgressed', { attempt, stage: 'testing', percent }, at);
const completed = (at: string) => taskEvent('TaskCompleted', { attempt: 1, workerId: 'w1', durationMs: 5, result: {} }, at);

const answered = (intent: object, reply: ProgressReply, at = t(0)): ProgressInput => ({ kind: 'reply', intent: intent as Intent<ThreadEffect>, reply, at });
const lookUp = { kind: 'effect', effect: { type: 'look-up', deliveryId: 'T1', thread, marker: { kind: 'progress', deliveryId: 'T1' } } };
const begin = { kind: 'command', category: 'delivery', id: 'T1', type: 'BeginProgressMessage' };
const post = { kind: 'effect', effect: { type: 'post', deliveryId: 'T1' } };
const update = { kind: 'effect', effect: { type: 'update', deliveryId: 'T1' } };
const message = { channel: 'C1', ts: '5.5' };
/** Queued, looked up, begun and posted at t(0): the message is open, last written at t(0). */
const open = [
  queued(),
  answered(lookUp, { kind: 'looked-up', recorded: false }),
  answered(begin, { status: 'accepted', events: 1 }),
  answered(post, { kind: 'posted', message }),
];

describe('opening the progress message', () => {
  it('looks the message up first, for a task that answers in Slack only', () => {
    given()
      .when(queued())
      .then({ kind: 'effect', key: 'look-up-T1', wantsReply: true, effect: lookUp.effect as ThreadEffect });
    given()
      .when(queued({ kind: 'webhook', url: 'https://example.com/h' }))
      .thenNothing();
  });

  it('begins it on the Delivery, posts it, then records where it landed', () => {
    given(queued())
      .when(answered(lookUp, { kind: 'looked-up', recorded: false }))
      .thenSends(like({ ...begin, commandId: 'begin-message-T1', data: { channel: 'C1', threadTs: '1.1' } }));
    given(queued(), answered(lookUp, { kind: 'looked-up', recorded: false }))
      .when(answered(begin, { status: 'accepted', events: 1 }))
      .thenSends(like({ ...post, effect: { ...post.effect, thread } }));
    given(...open.slice(0, 3))
      .when(open[3]!)
      .thenSends(like({ kind: 'command', type: 'RecordProgressMessage', commandId: 'message-posted-T1', data: message }));
  });

  it('edits the message found after a restart instead of posting another', () => {
    given(queued())
      .when(answered(lookUp, { kind: 'looked-up', message, recorded: true }))
      .thenSends(like({ ...update, effect: { ...update.effect, message } }));
  });

  it('tries again later, looking first, when the post kept failing', () => {
    const failing = [...open.slice(0, 3), answered(post, { kind: 'failed', error: 'ECONNRESET' }, t(100))];
    const state = failing.reduce(manager.evolve, manager.initialState());
    expect(manager.keepsEvents(state)).toBe(true);
    expect(manager.timers(state)).toMatchObject([{ dueAt: t(1_100) }]);
    given(...failing)
      .when({ kind: 'due', timer: { ...manager.timers(state)[0]!, payload: undefined }, at: t(1_100) })
      .thenSends(like(lookUp));
  });
});

describe('editing it', () => {
  it('edits at once when the interval since the last write has passed', () => {
    given(...open)
      .when(assigned(t(2_500)))
      .thenSends(like(update));
  });

  it('waits out the interval on the agenda, and then shows the latest state only', () => {
    given(...open)
      .when(progressed(10, t(500)))
      .thenNothing();
    const waiting = given(...open, progressed(10, t(500)))
      .when(progressed(20, t(900)))
      .state();
    expect(manager.timers(waiting)).toMatchObject([{ dueAt: t(2_000) }]);
    given(...open, progressed(10, t(500)), progressed(20, t(900)))
      .when({ kind: 'due', timer: { ...manager.timers(waiting)[0]!, payload: undefined }, at: t(2_000) })
      .thenSends(like({ ...update, effect: { ...update.effect, document: expect.objectContaining({}) } }));
  });

  it('edits when its timer fires, even if the clock reads a little short of the due time', () => {
    given(...open, progressed(10, t(500)))
      .when({ kind: 'due', timer: { name: 'edit', dueAt: t(2_000), payload: undefined }, at: t(1_999) })
      .thenSends(like(update));
  });

  it('ignores progress of an older attempt', () => {
    given(
      ...open,
      assigned(t(2_500)),
      answered(update, { kind: 'updated' }, t(2_600)),
      taskEvent('TaskAssigned', { attempt: 2, workerId: 'w2' }, t(5_000)),
      answered(update, { kind: 'updated' }, t(5_100)),
    )
      .when(progressed(50, t(9_000), 1))
      .thenNothing();
  });

  it('a rate limit pushes the next edit past its Retry-After', () => {
    const limited = given(...open, assigned(t(2_500)))
      .when(answered(update, { kind: 'not-updated', error: 'ratelimited', retryAfterMs: 7_000 }, t(2_600)))
      .state();
    expect(manager.timers(limited)).toMatchObject([{ dueAt: t(9_600) }]);
  });

  it('writes the final state however long that takes, then is done', () => {
    const final = [...open, completed(t(500))];
    given(...final)
      .when({ kind: 'due', timer: { name: 'edit', dueAt: t(2_000), payload: undefined }, at: t(2_000) })
      .thenSends(like(update));
    const written = given(...final, { kind: 'due', timer: { name: 'edit', dueAt: t(2_000), payload: undefined }, at: t(2_000) })
      .when(answered(update, { kind: 'updated' }, t(2_100)))
      .state();
    expect(manager.finished(written)).toBe(true);
    expect(
      manager.keepsEvents(
        given(...final)
          .when(progressed(1, t(600)))
          .state(),
      ),
    ).toBe(true);
  });

  it('gives up on a message that cannot be written any more', () => {
    const gone = given(...open, assigned(t(2_500)))
      .when(answered(update, { kind: 'gone', code: 'message_not_found' }, t(2_600)))
      .state();
    expect(manager.finished(gone)).toBe(true);
  });
});

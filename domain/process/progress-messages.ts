import { backoffCeilingMs, type Backoff } from '../backoff.ts';
import type { MessageRef, ThreadRef } from '../ports/chat-poster.ts';
import { describeRemaining, estimateCompletion } from '../progress/eta.ts';
import { progressReply, type ProgressStatus } from '../replies/progress-reply.ts';
import type { ReplyDocument } from '../replies/reply-document.ts';
import type { TaskEvent } from '../task/events.ts';
import { describeAnswer, type CommandAnswer, type DueTimer, type Intent, type ManagerInput, type ProcessManager } from './process-manager.ts';
import { recordMessage, type ChatAnswer, type ThreadEffect } from './thread-messages.ts';

// One progress message per task that answers in a Slack thread, edited in place as the task
// moves: latest state wins (events arriving while an edit waits only replace what it will
// show), at most one edit per message every `intervalMs`, a rate limit pushes the next edit
// past its Retry-After, other failures back off, and the final state is written however long
// that takes. The message is looked up before it is posted (recorded on the task's Delivery,
// or found by the marker it carries after a crash between posting and recording), begun on
// the Delivery, posted, and where it landed recorded, so a restart edits the same message
// instead of posting another. Time is the input's `at`; the next edit is a timer.

export interface View {
  readonly status: ProgressStatus;
  readonly percent: number;
  readonly stage?: string;
  readonly details?: string;
  readonly counters?: Readonly<Record<string, number>>;
  readonly attempt?: number;
  readonly startedAt?: string;
  readonly progressAt?: string;
}

const FINAL: readonly ProgressStatus[] = ['completed', 'failed', 'cancelled'];

/** The view after one more event; the same object when the event changes nothing shown. */
export function viewAfter(view: View, event: TaskEvent): View {
  switch (event.type) {
    case 'TaskAssigned': {
      const { attempt, at } = event.data;
      return { status: 'running', percent: 0, attempt, startedAt: at, stage: 'starting' };
    }
    case 'TaskProgressed': {
      const p = event.data;
      if (view.attempt !== undefined && p.attempt !== view.attempt) return view;
      return { ...view, status: 'running', percent: p.percent, stage: p.stage, details: p.details, counters: p.counters ?? view.counters, progressAt: p.at };
    }
    case 'TaskRetryScheduled':
      return { ...view, status: 'retrying', details: 'the attempt did not finish; retrying' };
    case 'TaskOutcomeUnknown':
      // Not run again by itself: the decision is taken on its own message in this thread.
      return { ...view, status: 'outcomeUnknown', details: 'the attempt stopped without a known outcome; not run again until someone decides' };
    case 'TaskCompleted':
      return { ...view, status: 'completed', percent: 100, stage: 'done', details: undefined };
    case 'TaskFailed': {
      const f = event.data;
      return f.final ? { ...view, status: 'failed', details: `${f.error.code}: ${f.error.message}` } : view;
    }
    case 'TaskCancelled':
      return { ...view, status: 'cancelled', details: event.data.reason };
    default:
      return view;
  }
}

export const progressDocument = (taskId: string, taskType: string, view: View): ReplyDocument => {
  const eta =
    view.status === 'running' && view.startedAt && view.progressAt
      ? estimateCompletion({ startedAt: view.startedAt, at: view.progressAt, percent: view.percent })
      : undefined;
  return progressReply({
    taskId,
    taskType,
    status: view.status,
    percent: view.percent,
    stage: view.stage,
    details: view.details,
    counters: view.counters,
    attempt: view.attempt,
    etaText: eta ? describeRemaining(eta.remainingMs) : undefined,
  });
};

/** What the chat port answers an edit that did not go through: when to try again, if the service said. */
export type ProgressAnswer = ChatAnswer | { readonly kind: 'not-updated'; readonly error: string; readonly retryAfterMs?: number };

export type ProgressReply = CommandAnswer | ProgressAnswer;
export type ProgressInput = ManagerInput<TaskEvent, ProgressReply, undefined, ThreadEffect>;

interface Tracked {
  readonly taskId: string;
  readonly taskType: string;
  readonly thread: ThreadRef;
  readonly view: View;
  /** `reopening`: the post kept failing; looked up again (it may have landed) once `notBefore` is reached. */
  readonly opening: 'looking-up' | 'beginning' | 'posting' | 'reopening' | 'open';
  readonly message?: MessageRef;
  /** Something changed since the message was last written. */
  readonly dirty: boolean;
  readonly writing: boolean;
  /** Epoch ms of the last write; 0 before any. */
  readonly lastWriteAt: number;
  /** Epoch ms before which no edit is tried (a rate limit, a backoff). */
  readonly notBefore: number;
  readonly failures: number;
}

export interface ProgressState {
  readonly tracked?: Tracked;
  /** The final state was written, or the message cannot be written any more. */
  readonly done?: boolean;
}

export interface ProgressConfig {
  /** Least time between two writes of one message; Slack allows about one per second per channel. */
  readonly intervalMs: number;
}

const CHAT_BACKOFF: Backoff = { initialMs: 500, maxMs: 30_000 };

type Step = { readonly state: ProgressState; readonly intents: readonly Intent<ThreadEffect>[] };
const nothing = (state: ProgressState): Step => ({ state, intents: [] });
const effect = (e: ThreadEffect, wantsReply = true): Intent<ThreadEffect> => ({
  kind: 'effect',
  key: e.type === 'locate' ? `locate-${e.conversationId}` : `${e.type}-${e.deliveryId}`,
  effect: e,
  ...(wantsReply && { wantsReply }),
});
const report = (level: 'warn' | 'error', deliveryId: string, message: string) => effect({ type: 'report', level, deliveryId, message }, false);
const marker = (taskId: string) => ({ kind: 'progress', deliveryId: taskId }) as const;

function step(config: ProgressConfig, state: ProgressState, input: ProgressInput): Step {
  const now = Date.parse(input.at);
  const { tracked } = state;
  if (input.kind === 'event') {
    const { event } = input;
    if (event.type === 'TaskQueued') {
      const { replyTo, taskType, taskId } = event.data;
      if (replyTo?.kind !== 'slack' || tracked || state.done) return nothing(state);
      const thread = { channel: replyTo.channel, threadTs: replyTo.threadTs };
      const opened: Tracked = {
        taskId,
        taskType,
        thread,
        view: { status: 'queued', percent: 0 },
        opening: 'looking-up',
        dirty: false,
        writing: false,
        lastWriteAt: 0,
        notBefore: 0,
        failures: 0,
      };
      return lookUp(opened);
    }
    if (!tracked) return nothing(state);
    const view = viewAfter(tracked.view, event);
    if (view === tracked.view) return nothing(state);
    return schedule(config, { tracked: { ...tracked, view, dirty: true } }, now);
  }
  if (!tracked) return nothing(state);
  // A timer fires when due, even if the clock reads a millisecond short of it (Node's timers can).
  if (input.kind === 'due') {
    const due = Math.max(now, Date.parse(input.timer.dueAt));
    return tracked.opening === 'reopening' ? lookUp({ ...tracked, opening: 'looking-up' }) : schedule(config, state, due);
  }
  return onReply(config, tracked, input.intent, input.reply, now);
}

function onReply(config: ProgressConfig, tracked: Tracked, intent: Intent<ThreadEffect>, reply: ProgressReply, now: number): Step {
  const { taskId } = tracked;
  const with_ = (change: Partial<Tracked>): ProgressState => ({ tracked: { ...tracked, ...change } });
  if (intent.kind === 'command') {
    const answer = reply as CommandAnswer;
    if (intent.type === 'BeginProgressMessage' && tracked.opening === 'beginning') {
      if (answer.status !== 'accepted')
        return { state: { done: true }, intents: [report('error', taskId, `could not begin the progress message: ${describeAnswer(answer)}`)] };
      const document = progressDocument(taskId, tracked.taskType, tracked.view);
      return {
        state: with_({ opening: 'posting', dirty: false, lastWriteAt: now }),
        intents: [effect({ type: 'post', deliveryId: taskId, thread: { source: 'slack', ...tracked.thread }, document, marker: marker(taskId) })],
      };
    }
    return answer.status === 'accepted'
      ? nothing({ tracked })
      : { state: { tracked }, intents: [report('warn', taskId, `could not record the progress message: ${describeAnswer(answer)}`)] };
  }
  const answer = reply as ProgressAnswer;
  if (answer.kind === 'gone')
    return { state: { done: true }, intents: [report('warn', taskId, `the progress message cannot be written any more (${answer.code}); giving up on it`)] };
  if (intent.effect.type === 'look-up' && answer.kind === 'looked-up' && tracked.opening === 'looking-up') {
    if (!answer.message) {
      return {
        state: with_({ opening: 'beginning' }),
        intents: [
          {
            kind: 'command',
            category: 'delivery',
            id: taskId,
            commandId: `begin-message-${taskId}`,
            type: 'BeginProgressMessage',
            wantsReply: true,
            data: { channel: tracked.thread.channel, threadTs: tracked.thread.threadTs },
          },
        ],
      };
    }
    // Found: it shows an older state than the one replayed.
    const found = schedule(config, with_({ opening: 'open', message: answer.message, dirty: true }), now);
    return answer.recorded ? found : { state: found.state, intents: [recordMessage(taskId, answer.message), ...found.intents] };
  }
  if (intent.effect.type === 'post' && tracked.opening === 'posting') {
    if (answer.kind !== 'posted') {
      // Still failing after the port's tries: looked up and tried again later, with backoff.
      const failures = tracked.failures + 1;
      const error = answer.kind === 'failed' || answer.kind === 'not-updated' ? answer.error : answer.kind;
      return {
        state: with_({ opening: 'reopening', failures, notBefore: now + backoffCeilingMs(failures, CHAT_BACKOFF), dirty: true }),
        intents: [report('warn', taskId, `could not post the progress message (${error}); trying again`)],
      };
    }
    const opened = schedule(config, with_({ opening: 'open', message: answer.message, failures: 0 }), now);
    return { state: opened.state, intents: [recordMessage(taskId, answer.message), ...opened.intents] };
  }
  if (intent.effect.type === 'update' && tracked.writing) {
    if (answer.kind === 'updated') return schedule(config, with_({ writing: false, failures: 0 }), now);
    const failures = tracked.failures + 1;
    const delay = answer.kind === 'not-updated' && answer.retryAfterMs !== undefined ? answer.retryAfterMs : backoffCeilingMs(failures, CHAT_BACKOFF);
    return schedule(config, with_({ writing: false, dirty: true, failures, notBefore: now + delay }), now);
  }
  return nothing({ tracked });
}

const lookUp = (tracked: Tracked): Step => ({
  state: { tracked },
  intents: [effect({ type: 'look-up', deliveryId: tracked.taskId, thread: { source: 'slack', ...tracked.thread }, marker: marker(tracked.taskId) })],
});

/** Writes now when due, else leaves it to the timer; once the final state is written, done. */
function schedule(config: ProgressConfig, state: ProgressState, now: number): Step {
  const tracked = state.tracked;
  if (!tracked || tracked.opening !== 'open' || tracked.writing || !tracked.message) return nothing(state);
  if (!tracked.dirty) return FINAL.includes(tracked.view.status) ? nothing({ done: true }) : nothing(state);
  if (dueAt(config, tracked) > now) return nothing(state);
  return {
    state: { tracked: { ...tracked, writing: true, dirty: false, lastWriteAt: now } },
    intents: [
      effect({
        type: 'update',
        deliveryId: tracked.taskId,
        thread: { source: 'slack', ...tracked.thread },
        message: tracked.message,
        document: progressDocument(tracked.taskId, tracked.taskType, tracked.view),
      }),
    ],
  };
}

const dueAt = (config: ProgressConfig, tracked: Tracked): number => Math.max(tracked.lastWriteAt + config.intervalMs, tracked.notBefore);

export const progressTimers =
  (config: ProgressConfig) =>
  (state: ProgressState): readonly DueTimer<undefined>[] => {
    const t = state.tracked;
    if (t?.opening === 'reopening') return [{ name: `reopen-${t.failures}`, dueAt: new Date(t.notBefore).toISOString(), payload: undefined }];
    if (!t || t.opening !== 'open' || t.writing || !t.dirty) return [];
    return [{ name: `edit-${t.lastWriteAt}-${t.notBefore}`, dueAt: new Date(dueAt(config, t)).toISOString(), payload: undefined }];
  };

/** Tracked and not done: its TaskQueued is needed again after a restart. */
export const progressKeepsEvents = (state: ProgressState): boolean => state.tracked !== undefined && !state.done;

export const progressMessages = (
  config: ProgressConfig,
): ProcessManager<ProgressInput, ProgressState, ThreadEffect> & {
  timers(state: ProgressState): readonly DueTimer<undefined>[];
  finished(state: ProgressState): boolean;
  keepsEvents(state: ProgressState): boolean;
} => ({
  name: 'progress-reactor',
  initialState: () => ({}),
  evolve: (state, input) => step(config, state, input).state,
  decide: (input, state) => step(config, state, input).intents,
  step: (input, state) => step(config, state, input),
  timers: progressTimers(config),
  // Not tracked (no Slack thread to speak in), or done: forgotten.
  finished: (state) => !progressKeepsEvents(state),
  keepsEvents: progressKeepsEvents,
});

import type { Logger } from 'pino';
import { ChatRateLimited, ChatTargetGone, type ChatPoster, type MessageRef, type ThreadRef } from '../../domain/ports/chat-poster.ts';
import type { CheckpointStore } from '../../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.ts';
import { describeRemaining, estimateCompletion } from '../../domain/progress/eta.ts';
import { progressReply } from '../../domain/replies/progress-reply.ts';
import type { CommandClient } from '../runtime/command-client.ts';
import { taskEventReactor, type EventReactor, type Hold } from '../runtime/event-reactor.ts';
import { chatRetryDelayMs, findThreadMessage, postThreadMessage, type ThreadMessages } from './thread-message.ts';
import { taskEventIn } from '../../domain/events/typed-events.ts';
import type { TaskEvent } from '../../domain/task/events.ts';

// One progress message per task that answers in a Slack thread, edited in place as the task
// moves: latest state wins (events arriving while an edit waits only replace what it will
// show), at most one edit per message every `intervalMs`, a 429 pushes the next edit past its
// Retry-After, and the final state is written however long that takes. The message's ts is
// recorded on the task's Delivery before anything else is written to it, and the message
// carries a marker, so a restart edits the same message instead of posting another.

type Status = 'queued' | 'running' | 'retrying' | 'outcomeUnknown' | 'completed' | 'failed' | 'cancelled';

interface View {
  status: Status;
  percent: number;
  stage?: string;
  details?: string;
  counters?: Record<string, number>;
  attempt?: number;
  startedAt?: string;
  progressAt?: string;
}

interface Tracked {
  readonly taskId: string;
  readonly taskType: string;
  readonly thread: ThreadRef;
  readonly hold: Hold;
  view: View;
  message?: MessageRef;
  /** Something changed since the message was last written. */
  dirty: boolean;
  writing: boolean;
  lastWriteAt: number;
  notBefore: number;
  failures: number;
  timer?: NodeJS.Timeout;
}

const FINAL: readonly Status[] = ['completed', 'failed', 'cancelled'];


export interface ProgressReactorOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly commands: CommandClient;
  readonly chat: ChatPoster;
  readonly logger: Logger;
  /** Least time between two writes of one message; Slack allows about one per second per channel. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export class ProgressReactor {
  private readonly tracked = new Map<string, Tracked>();
  private readonly reactor: EventReactor;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private stopped = false;
  private readonly stopping = new AbortController();

  private readonly messages: ThreadMessages;

  constructor(private readonly options: ProgressReactorOptions) {
    this.messages = { commands: options.commands, store: options.store, logger: options.logger, actor: 'progress-reactor', signal: this.stopping.signal };
    this.intervalMs = options.intervalMs ?? 2_000;
    this.now = options.now ?? Date.now;
    this.reactor = taskEventReactor('progress-reactor', options, (event, hold) => this.handle(event, hold));
  }

  start(): Promise<void> {
    return this.reactor.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    for (const task of this.tracked.values()) clearTimeout(task.timer);
    await this.reactor.stop();
  }

  private handle(recorded: RecordedEvent, hold: () => Hold): void {
    const typed = taskEventIn(recorded);
    if (!typed) return;
    const { id: taskId, event } = typed;
    if (event.type === 'TaskQueued') {
      const { data } = event;
      if (data.replyTo?.kind !== 'slack' || this.tracked.has(taskId)) return;
      const task: Tracked = {
        taskId,
        taskType: data.taskType,
        thread: { channel: data.replyTo.channel, threadTs: data.replyTo.threadTs },
        hold: hold(),
        view: { status: 'queued', percent: 0 },
        dirty: false,
        writing: false,
        lastWriteAt: 0,
        notBefore: 0,
        failures: 0,
      };
      this.tracked.set(taskId, task);
      void this.openMessage(task);
      return;
    }
    const task = this.tracked.get(taskId);
    if (!task) return;
    const view = this.next(task.view, event);
    if (view === task.view) return;
    task.view = view;
    task.dirty = true;
    this.schedule(task);
  }

  /** The view after one more event; the same object when the event changes nothing shown. */
  private next(view: View, event: TaskEvent): View {
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

  private document(task: Tracked) {
    const { view } = task;
    const eta = view.status === 'running' && view.startedAt && view.progressAt ? estimateCompletion({ startedAt: view.startedAt, at: view.progressAt, percent: view.percent }) : undefined;
    return progressReply({
      taskId: task.taskId,
      taskType: task.taskType,
      status: view.status,
      percent: view.percent,
      stage: view.stage,
      details: view.details,
      counters: view.counters,
      attempt: view.attempt,
      etaText: eta ? describeRemaining(eta.remainingMs) : undefined,
    });
  }

  /** Finds or posts the task's one progress message, recording it on the Delivery first. */
  private async openMessage(task: Tracked): Promise<void> {
    const marker = { kind: 'progress', deliveryId: task.taskId } as const;
    const { chat } = this.options;
    for (;;) {
      try {
        let message = await findThreadMessage(this.messages, chat, task.taskId, task.thread, marker);
        if (message) task.dirty = true; // it shows an older state than the one replayed
        else {
          const dirtyBefore = task.dirty;
          task.dirty = false;
          task.lastWriteAt = this.now();
          try {
            message = await postThreadMessage(this.messages, task.taskId, task.thread, () => chat.post(task.thread, this.document(task), marker));
          } catch (error) {
            task.dirty = dirtyBefore;
            throw error;
          }
        }
        task.message = message;
        task.failures = 0;
        this.schedule(task);
        return;
      } catch (error) {
        if (!(await this.backOff(task, error, 'could not open the progress message'))) return;
      }
    }
  }

  private schedule(task: Tracked): void {
    if (this.stopped || task.timer || task.writing || !task.message) return;
    if (!task.dirty) {
      if (FINAL.includes(task.view.status)) this.finish(task);
      return;
    }
    const wait = Math.max(task.lastWriteAt + this.intervalMs, task.notBefore) - this.now();
    if (wait > 0) {
      task.timer = setTimeout(() => {
        task.timer = undefined;
        this.schedule(task);
      }, wait);
      return;
    }
    void this.write(task);
  }

  private async write(task: Tracked): Promise<void> {
    task.writing = true;
    task.dirty = false;
    task.lastWriteAt = this.now();
    try {
      await this.options.chat.update(task.message!, this.document(task));
      task.failures = 0;
    } catch (error) {
      task.dirty = true;
      if (!(await this.backOff(task, error, 'could not update the progress message', false))) {
        task.writing = false;
        return;
      }
    }
    task.writing = false;
    this.schedule(task);
  }

  /** Sets when to try again; false when trying again cannot help (the task is dropped). */
  private async backOff(task: Tracked, error: unknown, what: string, sleep = true): Promise<boolean> {
    if (this.stopped) return false;
    if (error instanceof ChatTargetGone) {
      this.options.logger.warn({ taskId: task.taskId, code: error.code }, `${what}; giving up on this message`);
      this.finish(task);
      return false;
    }
    task.failures += 1;
    const delay = chatRetryDelayMs(error, task.failures);
    task.notBefore = this.now() + delay;
    const log = error instanceof ChatRateLimited ? this.options.logger.info.bind(this.options.logger) : this.options.logger.warn.bind(this.options.logger);
    log({ taskId: task.taskId, err: error instanceof ChatRateLimited ? undefined : error, retryInMs: delay }, error instanceof ChatRateLimited ? 'rate limited; the next progress edit waits' : what);
    if (sleep) await new Promise((resolve) => setTimeout(resolve, delay));
    return !this.stopped;
  }

  private finish(task: Tracked): void {
    clearTimeout(task.timer);
    this.tracked.delete(task.taskId);
    task.hold.release();
  }
}

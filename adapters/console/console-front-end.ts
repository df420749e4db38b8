import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { ConversationIntake, IntakeOutcome } from '../../actors/conversation-intake.ts';
import type { DecisionDesk } from '../../actors/decision-desk.ts';
import type { SlashAnswer, SlashRequest } from '../../actors/slash-commands.ts';
import type { EventStore, Subscription } from '../../domain/ports/event-store.ts';
import { describeRemaining, estimateCompletion } from '../../domain/progress/eta.ts';
import { progressBar } from '../../domain/replies/progress-reply.ts';
import { resultReply } from '../../domain/replies/result-reply.ts';
import type { TaskTypeDescriptor } from '../../domain/task-types/descriptor.ts';
import { toPlainText } from '../../domain/replies/plain-text.ts';
import { OUTCOME_ACTIONS, parseOutcomeActionValue, type OutcomeResolution } from '../../domain/replies/unknown-outcome-reply.ts';
import type { ConsoleNotice } from './console-notice-poster.ts';
import { taskEventIn } from '../../domain/events/typed-events.ts';
import type { TaskEvent } from '../../domain/task/events.ts';

// The terminal front end, the embedded default when Slack is not configured: the same
// conversation flows as Slack (requests through the intake, follow-ups against the thread's
// context), progress drawn as a bar from the task's events, and the result as it is
// delivered: the result reactor publishes it on this session's NATS subject, the console's
// reply target. `/new` starts a new conversation (a new thread); `--once` runs one request
// and exits with 0 when it completed. When a side-effecting task's outcome is unknown, its
// notice says so and RERUN, DONE or FAIL typed here decides it (the console's buttons).

export type ConsoleTaskTypes = readonly Pick<TaskTypeDescriptor, 'taskType' | 'chat' | 'reply'>[];

export interface ConsoleFrontEndOptions {
  readonly intake: ConversationIntake;
  readonly slash: { answer(request: SlashRequest): Promise<SlashAnswer>; readonly commands: readonly string[] };
  /** Decides unknown outcomes typed as RERUN, DONE or FAIL; without it those words are requests like any other. */
  readonly decisions?: Pick<DecisionDesk, 'resolveOutcome'>;
  readonly store: EventStore;
  /** The registered task types: their descriptors say how chat asks for each one and how its result reads. */
  readonly taskTypes: ConsoleTaskTypes;
  /** Delivered results for this session (the nats reply target's subject). */
  readonly results: AsyncIterable<Uint8Array>;
  /** The channel the session's conversations live in (part of their ids). */
  readonly channel: string;
  readonly user: string;
  readonly input: Readable;
  readonly output: Writable;
  /** Redraw the bar in place (a terminal) or print each change on its own line (a pipe). */
  readonly interactive: boolean;
  readonly logger: Logger;
  readonly now?: () => number;
}

interface Result {
  readonly taskId: string;
  readonly taskType: string;
  readonly outcome: 'completed' | 'failed' | 'cancelled';
  readonly result?: unknown;
  readonly error?: { code: string; message: string };
  readonly reason?: string;
}

const RESOLUTION_OF_WORD: Readonly<Record<string, OutcomeResolution>> = { RERUN: 'rerun', DONE: 'completed', FAIL: 'failed' };
const WORD_OF_RESOLUTION: Readonly<Record<OutcomeResolution, string>> = { rerun: 'RERUN', completed: 'DONE', failed: 'FAIL' };
/** RERUN, DONE or FAIL alone (any case, optional "!" or "."), or followed by a task id. */
const TYPED_RESOLUTION = /^(rerun|done|fail)(?:\s+([^\s.!]+))?[.!]*$/i;

/** Each registered task type chat can ask for, in its descriptor's example words. */
const helpText = (taskTypes: ConsoleTaskTypes): string =>
  [
    'Ask for work in plain words, for example:',
    ...taskTypes.flatMap((t) => (t.chat ? [`  ${t.chat.example}`] : [])),
    '  now run the tests            (uses the repository this conversation is about)',
    ...HELP_COMMANDS,
  ].join('\n');

const HELP_COMMANDS = [
  'Commands:',
  '  /new                         start a new conversation',
  '  deploy my-service, test everything first   (a plan: previewed, then run on APPROVE)',
  '  APPROVE / REJECT             decide the plan or approval gate this conversation waits for',
  '  RERUN / DONE / FAIL [task]   decide a task whose outcome is unknown (run it again, it ran, it failed)',
  '  /cancel <task id>            stop a running task',
  '  /orchestrator status         planner, pools, tasks',
  '  /orchestrator policy         what you may start, approve and cancel',
  '  /monitor                     task counts',
  '  /workflow ...                workflows',
  '  /help                        this text',
  '  /quit                        leave (the orchestrator stops too)',
];

export class ConsoleFrontEnd {
  private threadTs: string;
  private sequence = 0;
  private readonly waiting = new Map<string, (result: Result) => void>();
  private readonly early = new Map<string, Result>();
  private readonly noticesSeen = new Set<string>();
  private readonly noticeWaiters = new Map<string, () => void>();
  /** Unknown outcomes waiting for a decision in this session, by notice: what RERUN / DONE / FAIL decide. */
  private readonly openOutcomes = new Map<string, { taskId: string; attempt: number }>();
  private readline: Interface | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ConsoleFrontEndOptions) {
    this.now = options.now ?? Date.now;
    this.threadTs = this.nextTs();
    void this.collectResults();
  }

  /** Runs one request to its end; resolves true when it completed. */
  async once(text: string): Promise<boolean> {
    return this.request(text);
  }

  /** The interactive chat; resolves when the person quits or the input ends. */
  async chat(): Promise<'quit' | 'end'> {
    const { input, output } = this.options;
    this.print(`Orchestrator console. Type a request, or /help. Conversation ${this.threadTs}.`);
    const rl = createInterface({ input, output, prompt: 'you> ', terminal: this.options.interactive });
    this.readline = rl;
    rl.prompt();
    for await (const line of rl) {
      const text = line.trim();
      if (text === '/quit' || text === '/exit') {
        rl.close();
        return 'quit';
      }
      if (text !== '') await this.line(text).catch((error: unknown) => this.print(`Sorry, that failed: ${(error as Error).message}`));
      rl.prompt();
    }
    return 'end';
  }

  close(): void {
    this.readline?.close();
  }

  private async line(text: string): Promise<void> {
    if (text === '/help') return this.print(helpText(this.options.taskTypes));
    if (text === '/new') {
      this.threadTs = this.nextTs();
      return this.print(`New conversation ${this.threadTs}.`);
    }
    const typed = TYPED_RESOLUTION.exec(text);
    if (typed && this.options.decisions) return this.print(await this.decideOutcome(RESOLUTION_OF_WORD[typed[1]!.toUpperCase()]!, typed[2]));
    const cancel = /^\/cancel\s+(\S+)$/.exec(text);
    if (cancel) return this.print(await this.options.intake.cancelTask(cancel[1]!, this.options.user));
    if (text.startsWith('/')) {
      const [command = '', ...rest] = text.split(/\s+/);
      const answer = await this.options.slash.answer({ command, text: rest.join(' '), user: this.options.user, channel: this.options.channel });
      return this.print(answer.text);
    }
    await this.request(text);
  }

  /** The one unknown outcome waiting in this session, or the named task's when several are. */
  private async decideOutcome(resolution: OutcomeResolution, taskId: string | undefined): Promise<string> {
    const open = [...this.openOutcomes.values()];
    const chosen = taskId === undefined ? (open.length === 1 ? open[0] : undefined) : open.find((o) => o.taskId === taskId);
    if (!chosen) {
      if (taskId !== undefined) return `No unknown outcome of task ${taskId} is waiting in this session.`;
      return open.length === 0
        ? 'No task of this session is waiting for a decision.'
        : `Several tasks are waiting for a decision (${open.map((o) => o.taskId).join(', ')}); name one, e.g. ${WORD_OF_RESOLUTION[resolution]} ${open[0]!.taskId}.`;
    }
    return this.options.decisions!.resolveOutcome(chosen.taskId, chosen.attempt, this.options.user, resolution);
  }

  private async request(text: string): Promise<boolean> {
    // Subscribe before queueing, so no event of the new task can slip past.
    const head = await this.options.store.headPosition({ category: 'task' });
    const outcome = await this.options.intake.receive({
      source: 'console',
      channel: this.options.channel,
      threadTs: this.threadTs,
      messageTs: this.nextTs(),
      user: this.options.user,
      text,
    });
    return this.follow(outcome, head);
  }

  private async follow(outcome: IntakeOutcome, head: Awaited<ReturnType<EventStore['headPosition']>>): Promise<boolean> {
    switch (outcome.kind) {
      case 'not-understood':
        this.print(outcome.answer.message);
        return false;
      case 'refused':
        this.print(`Sorry, I could not start that: ${outcome.message}`);
        return false;
      case 'duplicate':
      case 'ignored':
        return false;
      case 'answered':
        this.print(outcome.message);
        return false;
      case 'planned': {
        // The preview arrives as a notice; wait for it, so `--once` shows it before exiting.
        const preview = await this.noticeOf(`plan-${outcome.planId}`, 15_000);
        if (!preview) this.print(`Planned (plan ${outcome.planId}); the preview has not arrived yet.`);
        return true;
      }
      case 'queued':
      case 'rerun': {
        const taskId = outcome.taskId;
        this.print(outcome.kind === 'queued' ? `On it: ${outcome.intent.summary} (task ${taskId}).` : `Running it again as task ${taskId}.`);
        const result = this.resultOf(taskId);
        const subscription = this.options.store.subscribe({ category: 'task', ...(head ? { after: head } : {}) });
        let outcomeUnknown: () => void = () => undefined;
        const waitingForDecision = new Promise<'outcomeUnknown'>((resolve) => (outcomeUnknown = () => resolve('outcomeUnknown')));
        const drawing = this.drawProgress(subscription, taskId, () => outcomeUnknown());
        const printResult = (delivered: Result) =>
          this.print(
            toPlainText(
              resultReply({ ...delivered, repository: outcome.kind === 'queued' ? outcome.intent.params.repository : undefined }, this.options.taskTypes),
            ),
          );
        const first = await Promise.race([result, waitingForDecision]);
        await subscription.close();
        await drawing;
        if (first === 'outcomeUnknown') {
          // The prompt comes back so the decision can be typed; the result prints when it comes.
          void result.then(printResult);
          return false;
        }
        printResult(first);
        return first.outcome === 'completed';
      }
    }
  }

  private async drawProgress(subscription: Subscription, taskId: string, onOutcomeUnknown: () => void): Promise<void> {
    let startedAt: string | undefined;
    let lastLine = '';
    for await (const message of subscription) {
      const typed = message.kind === 'event' ? taskEventIn(message.event) : undefined;
      if (!typed || typed.id !== taskId) continue;
      const { event } = typed;
      const line = this.progressLine(event, startedAt);
      if (event.type === 'TaskAssigned') startedAt = event.data.at;
      if (line && line !== lastLine) {
        lastLine = line;
        this.status(line);
      }
      if (event.type === 'TaskCompleted' || event.type === 'TaskCancelled' || (event.type === 'TaskFailed' && event.data.final)) break;
      if (event.type === 'TaskOutcomeUnknown') {
        onOutcomeUnknown();
        break;
      }
    }
    if (this.options.interactive && lastLine) this.options.output.write('\n');
  }

  private progressLine(event: TaskEvent, startedAt: string | undefined): string | undefined {
    switch (event.type) {
      case 'TaskQueued':
        return `${progressBar(0)}  queued`;
      case 'TaskAssigned':
        return `${progressBar(0)}  starting`;
      case 'TaskProgressed': {
        const { data } = event;
        const eta = startedAt ? estimateCompletion({ startedAt, at: data.at, percent: data.percent }) : undefined;
        return `${progressBar(data.percent)}  ${data.stage}${data.details ? ` — ${data.details}` : ''}${eta ? ` (${describeRemaining(eta.remainingMs)} left)` : ''}`;
      }
      case 'TaskRetryScheduled':
        return `retrying (attempt ${event.data.nextAttempt})`;
      case 'TaskOutcomeUnknown':
        return 'outcome unknown: not run again until you type RERUN, DONE or FAIL';
      case 'TaskCompleted':
        return `${progressBar(100)}  done`;
      default:
        return undefined;
    }
  }

  private resultOf(taskId: string): Promise<Result> {
    const early = this.early.get(taskId);
    if (early) {
      this.early.delete(taskId);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => this.waiting.set(taskId, resolve));
  }

  private noticeOf(deliveryId: string, timeoutMs: number): Promise<boolean> {
    if (this.noticesSeen.has(deliveryId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.noticeWaiters.delete(deliveryId);
        resolve(false);
      }, timeoutMs);
      this.noticeWaiters.set(deliveryId, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** A notice prints whole when first posted; a redraw prints its title, summary and who acted only. */
  private showNotice(notice: ConsoleNotice): void {
    const { document } = notice;
    const byline = document.byline ? ` ${document.byline.text} ${document.byline.user}.` : '';
    this.print(notice.update ? `↻ ${document.title}${document.summary ? ` — ${document.summary}` : ''}${byline}` : toPlainText(document));
    // The buttons of an unknown outcome become words to type; a redraw without them closes it.
    const outcome = document.actions?.find((a) => (OUTCOME_ACTIONS as readonly string[]).includes(a.actionId));
    const decides = outcome && parseOutcomeActionValue(outcome.value);
    if (decides) {
      this.openOutcomes.set(notice.deliveryId, decides);
      const several = this.openOutcomes.size > 1 ? ` ${decides.taskId}` : '';
      this.print(`Type RERUN${several} to run it again, DONE${several} if it did its work, or FAIL${several} to mark it failed.`);
    } else if (notice.update) {
      this.openOutcomes.delete(notice.deliveryId);
    }
    this.noticesSeen.add(notice.deliveryId);
    this.noticeWaiters.get(notice.deliveryId)?.();
    this.noticeWaiters.delete(notice.deliveryId);
  }

  private async collectResults(): Promise<void> {
    for await (const data of this.options.results) {
      let message: Result | ConsoleNotice;
      try {
        message = JSON.parse(new TextDecoder().decode(data)) as Result | ConsoleNotice;
      } catch (error) {
        this.options.logger.warn({ err: error }, 'unreadable result message');
        continue;
      }
      if ('kind' in message && message.kind === 'notice') {
        this.showNotice(message);
        continue;
      }
      const result = message as Result;
      const waiter = this.waiting.get(result.taskId);
      if (waiter) {
        this.waiting.delete(result.taskId);
        waiter(result);
      } else {
        this.early.set(result.taskId, result);
      }
    }
  }

  private status(line: string): void {
    if (this.options.interactive) this.options.output.write(`\r\x1b[2K${line}`);
    else this.options.output.write(`${line}\n`);
  }

  private print(text: string): void {
    this.options.output.write(`${text}\n`);
  }

  /** Slack-like message ids: seconds with a per-session sequence, unique and increasing. */
  private nextTs(): string {
    this.sequence += 1;
    return `${Math.floor(this.now() / 1000)}.${String(this.sequence).padStart(6, '0')}`;
  }
}

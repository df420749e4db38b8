import { randomInt } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.ts';
import { parseStreamName, streamName } from '../domain/streams.ts';
import { nextTimers, type RetryTask, type WorkflowTimer, type WorkflowTimers } from '../domain/workflow/timers.ts';
import type { GateRequirement, SideEffectClass } from '../domain/workflow/gate-policy.ts';
import { DEFAULT_APPROVAL_TIMEOUT_MS } from '../domain/workflow/step-fields.ts';
import type { TaskRoute } from './conversation-intake.ts';
import type { CommandClient } from './runtime/command-client.ts';
import type { CommandReply } from './runtime/command-envelope.ts';
import { EventReactor, type Hold } from './runtime/event-reactor.ts';
import { KeyedMailbox } from './runtime/keyed-mailbox.ts';
import { readAggregateState } from './runtime/aggregate-reader.ts';
import { taskAggregate } from './aggregates/task.ts';
import type { PaidRunBudget } from './paid-run-budget.ts';
import { WorkflowAgenda } from './workflow-agenda.ts';
import { taskEventIn, workflowEventIn } from '../domain/events/typed-events.ts';

// The workflow engine: the process manager between the Workflow aggregate and the tasks that
// run its steps. A scheduled step becomes a queued task (`${workflowId}_${stepId}_${attempt}`,
// one attempt per task: the workflow owns retries); the task's events come back as step
// outcomes. Every command it sends has an id derived from what caused it, and the deciders
// ignore what was already decided, so replaying the log after a crash, or firing a timer twice,
// sends nothing twice that matters.
//
// Timers (retries, approval timeouts and reminders, step timeouts, the workflow's maximum time)
// come from the `workflow-timers` read model: at start the engine reads every running workflow's
// document, arms each timer for its original due time (at once when past), then follows the
// workflow events from its checkpoint and keeps the agenda current with the same fold
// (domain/workflow/timers.ts). No timer is lost however far the model lags behind the log:
//  - the checkpoint never passes a workflow's WorkflowStarted until the model holds a document
//    for that workflow (or the workflow ended), so every workflow running before the checkpoint
//    is in the model at the next start; without a model, it never passes a running workflow;
//  - each document records the stream revision it reflects, and at start the engine reads the
//    rest of that workflow's stream and folds it in, so a document behind its stream (a retry
//    or a gate the model has not applied yet) is brought up to date;
//  - everything after the checkpoint is followed again, and re-arming a timer by its name is
//    idempotent, so what the model and the replay both know is armed once.

/** The `workflow-timers` read model, as the engine reads it. */
export interface WorkflowTimersModel {
  /** Every workflow the model holds as running, each as of the revision its document records. */
  running(): Promise<readonly WorkflowTimers[]>;
  /** Which of these workflows the model holds a document for. */
  holding(workflowIds: readonly string[]): Promise<ReadonlySet<string>>;
}

/** Without a model no start is ever confirmed: the checkpoint stays before every running workflow, and a restart replays them. */
const noModel: WorkflowTimersModel = { running: async () => [], holding: async () => new Set() };


/** Who cancels a task whose step timed out: its TaskCancelled then reports the timeout, not a cancellation. */
const STEP_TIMEOUT = 'workflow-engine:step-timeout';
const ENDINGS: readonly string[] = ['WorkflowCompleted', 'WorkflowFailed', 'WorkflowCancelled', 'WorkflowTimedOut'];
/** How a step ends whose cost gate was not granted: what the Budget was asked to approve is released. */
const COST_GATE_ENDINGS: readonly string[] = ['CostApprovalRejected', 'CostApprovalTimedOut'];

/** A task running a step: which step, and (for paid runs) what to settle on the Budget when it ends. */
interface RunningStep {
  readonly workflowId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly taskType?: string;
  readonly queuedAt?: string;
  /** False when running the step's task again could repeat a side effect (a production deploy). */
  readonly rerunSafe: boolean;
}

type StepToRun = Pick<RetryTask, 'taskId' | 'taskType' | 'pool' | 'params' | 'timeoutMs' | 'dryRun' | 'sideEffects'> & {
  readonly stepId: string;
  readonly attempt: number;
  /** Who granted the step's cost gate: its paid run is reserved over the cap in their names. */
  readonly overCapApprovedBy?: readonly string[];
};

export interface WorkflowEngineOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly commands: CommandClient;
  readonly logger: Logger;
  readonly routeTask: (taskType: string) => TaskRoute | undefined;
  /** Where the agenda is rebuilt from at start; without one, from the log alone (slower restarts, same timers). */
  readonly timersModel?: WorkflowTimersModel;
  /** How often started workflows are looked for in the model; default 250 ms. */
  readonly confirmEveryMs?: number;
  /** Reserves paid runs (headless Claude Code) on the Budget before they are queued, and settles them after. */
  readonly paidRuns?: PaidRunBudget;
  /** Whether a task of this type with these parameters may run again when its outcome is unknown; default: yes. */
  readonly rerunSafe?: (taskType: string, params: unknown) => boolean;
  /**
   * What a task of this type with these parameters does outside. With it, a step whose
   * definition says it has no side effects while its executor would change something is failed
   * (UndeclaredSideEffect) instead of run: only steps declared side-effecting are gated.
   */
  readonly classify?: (taskType: string, params: Readonly<Record<string, unknown>>) => SideEffectClass;
  /** AG5: the gate a paid run over a budget cap waits for; without it such a step fails (BudgetExceeded). */
  readonly costGate?: GateRequirement;
  readonly now?: () => number;
}

export class WorkflowEngine {
  private readonly agenda: WorkflowAgenda;
  private readonly model: WorkflowTimersModel;
  /** Started workflows the model does not hold yet → the hold keeping the checkpoint before their start. */
  private readonly unconfirmed = new Map<string, Hold>();
  /** taskId → the step it runs, from TaskQueued (or its stream after a restart). */
  private readonly steps = new Map<string, RunningStep>();
  /** Tasks that run no workflow step, so their later events are skipped without a read. */
  private readonly notSteps = new LRUCache<string, true>({ max: 10_000 });
  private readonly workflowEvents: EventReactor;
  private readonly taskEvents: EventReactor;
  private readonly mailbox = new KeyedMailbox();
  private confirmTimer: NodeJS.Timeout | undefined;
  private confirming = false;
  /** Aborted by stop(): commands still waiting for an aggregate host give up, so shutdown is not blocked. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: WorkflowEngineOptions) {
    this.model = options.timersModel ?? noModel;
    this.agenda = new WorkflowAgenda(
      (timer) => this.fire(timer),
      options.now ?? Date.now,
      (error, timer) => options.logger.warn({ err: error, timer }, 'a workflow timer failed to fire; trying again'),
    );
    const common = { store: options.store, checkpoints: options.checkpoints, logger: options.logger };
    // Events of different workflows (and tasks) are handled concurrently, each key's in order;
    // a hold per event keeps the checkpoint before work that has not finished.
    this.workflowEvents = new EventReactor({
      ...common,
      name: 'workflow-engine-workflows',
      category: 'workflow',
      handle: (event, context) => {
        const started = event.type === 'WorkflowStarted' ? context.hold() : undefined;
        this.concurrently(parseStreamName(event.stream).id, context.hold(), () => this.onWorkflowEvent(event, started));
      },
    });
    this.taskEvents = new EventReactor({
      ...common,
      name: 'workflow-engine-tasks',
      category: 'task',
      handle: (event, context) => this.concurrently(parseStreamName(event.stream).id, context.hold(), () => this.onTaskEvent(event)),
    });
  }

  async start(): Promise<void> {
    await this.rebuildAgenda();
    if (this.model !== noModel) this.confirmTimer = setInterval(() => void this.confirmStarts(), this.options.confirmEveryMs ?? 250);
    await this.workflowEvents.start();
    await this.taskEvents.start();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.confirmTimer);
    this.agenda.stop();
    await this.taskEvents.stop();
    await this.workflowEvents.stop();
    await this.mailbox.idle();
  }

  /** The model's documents, each brought up to the end of its stream, armed before any event is followed. */
  private async rebuildAgenda(): Promise<void> {
    const documents = await this.model.running();
    for (let i = 0; i < documents.length; i += 32) {
      await Promise.all(
        documents.slice(i, i + 32).map(async (document) => {
          const { events } = await this.options.store.read(streamName('workflow', document.workflowId), { fromRevision: BigInt(document.revision + 1) });
          let timers: WorkflowTimers | undefined = document;
          for (const recorded of events) {
            const event = workflowEventIn(recorded)?.event;
            if (event) timers = nextTimers(timers, event, Number(recorded.revision));
          }
          this.agenda.set(document.workflowId, timers);
        }),
      );
    }
    this.options.logger.info({ fromModel: documents.length, ...this.agenda.size() }, 'workflow timers armed from the workflow-timers read model');
  }

  /** Releases the start of every workflow the model now holds. */
  private async confirmStarts(): Promise<void> {
    if (this.confirming || this.unconfirmed.size === 0) return;
    this.confirming = true;
    try {
      const held = await this.model.holding([...this.unconfirmed.keys()].slice(0, 100));
      for (const workflowId of held) this.confirmed(workflowId);
    } catch (error) {
      this.options.logger.debug({ err: error }, 'could not read the workflow-timers model; trying again');
    } finally {
      this.confirming = false;
    }
  }

  private confirmed(workflowId: string): void {
    this.unconfirmed.get(workflowId)?.release();
    this.unconfirmed.delete(workflowId);
  }

  private concurrently(key: string, hold: Hold, work: () => Promise<void>): void {
    void this.mailbox
      .run(key, work)
      .then(
        () => hold.release(),
        (error: unknown) => {
          // Kept held: the checkpoint stays before this event, so a restart handles it again.
          this.options.logger.error({ err: error, key }, 'workflow engine failed to handle an event');
        },
      );
  }

  private async onWorkflowEvent(recorded: RecordedEvent, startedHold: Hold | undefined): Promise<void> {
    const workflowId = parseStreamName(recorded.stream).id;
    const event = workflowEventIn(recorded)?.event;
    if (!event) {
      startedHold?.release();
      return this.options.logger.warn({ eventId: recorded.id, type: recorded.type }, 'workflow engine skipped an event it cannot read');
    }
    const before = this.agenda.get(workflowId);
    if (event.type === 'WorkflowStarted') {
      if (before) return startedHold?.release(); // armed from the model, which therefore holds it
      if (startedHold) this.unconfirmed.set(workflowId, startedHold);
    }
    if (ENDINGS.includes(event.type)) {
      this.agenda.set(workflowId, undefined);
      this.confirmed(workflowId);
      // Sent even for a workflow not followed here (the model had seen it end): the ids make repeats harmless.
      const tasksToCancel = 'tasksToCancel' in event.data ? event.data.tasksToCancel : [];
      for (const taskId of tasksToCancel) {
        await this.send('task', taskId, `cancel-${taskId}`, 'CancelTask', { reason: `workflow ${workflowId} ended (${event.type})`, requestedBy: 'workflow-engine' });
      }
      return;
    }
    // Not running here: it ended before the checkpoint (a running one is in the model or started after it).
    if (event.type !== 'WorkflowStarted' && !before) return;
    this.agenda.set(workflowId, nextTimers(before, event, Number(recorded.revision)));
    if (event.type === 'StepScheduled') await this.runStep(workflowId, event.data);
    if (event.type === 'StepCostApproved') await this.runStep(workflowId, { ...event.data, overCapApprovedBy: event.data.approvedBy });
    if (event.type === 'StepFailed' && COST_GATE_ENDINGS.includes(event.data.error.code)) await this.options.paidRuns?.release({ taskId: event.data.taskId }, event.data.error.message);
  }

  private async fire(timer: WorkflowTimer): Promise<void> {
    const { workflowId } = timer;
    switch (timer.kind) {
      case 'workflow-timeout':
        return this.sendWhenDue('workflow', workflowId, `timeout-${workflowId}`, 'TimeOutWorkflow', {});
      case 'retry':
        return this.runStep(workflowId, { stepId: timer.stepId, attempt: timer.attempt, ...timer.task }, true);
      case 'approval-timeout':
        return this.sendWhenDue('workflow', workflowId, `approval-timeout-${workflowId}-${timer.stepId}-${timer.visit}`, 'TimeOutApproval', { stepId: timer.stepId, visit: timer.visit });
      case 'approval-reminder':
        // The gate records that its approvers were reminded (ApprovalReminderDue), once per request; the notices go from there.
        return this.sendWhenDue('workflow', workflowId, `remind-${workflowId}-${timer.stepId}-${timer.visit}`, 'RemindApprovers', { stepId: timer.stepId, visit: timer.visit });
      case 'step-timeout': {
        const step = await this.stepOf(timer.taskId);
        if (step && !step.rerunSafe) {
          // Stopping a deploy half-way and retrying the step could deploy twice: a running attempt
          // times out with its outcome unknown instead, and the step waits for people to decide.
          const task = await readAggregateState(this.options.store, taskAggregate, timer.taskId, this.options.logger);
          if (task.status === 'running') {
            return this.sendWhenDue('task', timer.taskId, `step-timeout-${timer.taskId}-${task.attempt}`, 'TimeOutTask', { attempt: task.attempt, rerunSafe: false });
          }
        }
        // Through the task, so the task aggregate decides between its completion and the timeout;
        // the cancellation then comes back as the step's timeout (onTaskEvent).
        // Sent as STEP_TIMEOUT: the task records who cancelled from the sender (the envelope's actor).
        return this.sendWhenDue(
          'task',
          timer.taskId,
          `step-timeout-${timer.taskId}`,
          'CancelTask',
          { reason: `attempt ${timer.attempt} of step "${timer.stepId}" of workflow ${workflowId} timed out`, requestedBy: STEP_TIMEOUT },
          STEP_TIMEOUT,
        );
      }
    }
  }

  /**
   * A task step's attempt: queued as a task, or, for a side-effecting step of a dry run, recorded
   * without running. `fromTimer`: a failure to send throws, so the timer tries again.
   */
  private async runStep(workflowId: string, step: StepToRun, fromTimer = false): Promise<void> {
    const send = fromTimer ? this.sendWhenDue.bind(this) : this.send.bind(this);
    const workflow = this.agenda.get(workflowId);
    if (!workflow) return;
    this.steps.set(step.taskId, {
      workflowId,
      stepId: step.stepId,
      attempt: step.attempt,
      taskType: step.taskType,
      queuedAt: new Date((this.options.now ?? Date.now)()).toISOString(),
      rerunSafe: this.rerunSafe(step.taskType, step.params),
    });
    if (step.dryRun) {
      const output = { dryRun: true, wouldRun: { taskType: step.taskType, params: step.params } };
      await send('workflow', workflowId, `dry-run-${step.taskId}`, 'RecordStepCompleted', { stepId: step.stepId, attempt: step.attempt, output });
      return;
    }
    if (step.sideEffects === false && this.options.classify && this.options.classify(step.taskType, step.params) !== 'read-only') {
      // The definition said no side effects, so nothing gated it; its executor would change things.
      await send('workflow', workflowId, `undeclared-side-effect-${step.taskId}`, 'RecordStepFailed', {
        stepId: step.stepId,
        attempt: step.attempt,
        error: { code: 'UndeclaredSideEffect', message: `step "${step.stepId}" runs ${step.taskType} with parameters that change things, but its definition says it has no side effects, so no approval gate guards it` },
        retryable: false,
      });
      return;
    }
    const route = this.options.routeTask(step.taskType);
    if (!route) {
      await send('workflow', workflowId, `no-route-${step.taskId}`, 'RecordStepFailed', {
        stepId: step.stepId,
        attempt: step.attempt,
        error: { code: 'UnknownTaskType', message: `no worker pool runs ${step.taskType} tasks here` },
        retryable: false,
      });
      return;
    }
    const paid = this.options.paidRuns;
    if (paid?.isPaid(step.taskType)) {
      // Over a cap the step waits for a cost gate (AG5); granted, it comes back here with the approvers' names.
      const costGate = this.options.costGate;
      const reserved = await paid.reserve(
        { workflowId, taskId: step.taskId, taskType: step.taskType, user: workflow.requestedBy },
        { askApproval: costGate !== undefined, ...(step.overCapApprovedBy ? { overCapApprovedBy: step.overCapApprovedBy.join(', ').slice(0, 200) } : {}) },
      );
      if (reserved.status === 'overCap' && costGate) {
        await send('workflow', workflowId, `cost-approval-${step.taskId}`, 'RequestCostApproval', {
          stepId: step.stepId,
          attempt: step.attempt,
          amountUsd: reserved.amountUsd,
          reason: reserved.reason.slice(0, 1_000),
          approvers: [...costGate.approvers],
          quorum: costGate.quorum,
          requesterMayApprove: costGate.requesterMayApprove,
          timeoutMs: costGate.timeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
          ...(costGate.reminderBeforeMs !== undefined ? { reminderBeforeMs: costGate.reminderBeforeMs } : {}),
        });
        return;
      }
      if (reserved.status !== 'reserved') {
        // Refused: the step fails with the reason; it is not queued, so nothing is spent.
        const message = reserved.reason;
        await send('workflow', workflowId, `over-budget-${step.taskId}`, 'RecordStepFailed', { stepId: step.stepId, attempt: step.attempt, error: { code: 'BudgetExceeded', message }, retryable: false });
        return;
      }
    }
    const queued = await this.send('task', step.taskId, `queue-${step.taskId}`, 'QueueTask', {
      taskType: step.taskType,
      pool: step.pool ?? route.pool,
      payload: step.params,
      timeoutMs: step.timeoutMs ?? route.timeoutMs,
      maxAttempts: 1,
      workflowId,
      stepId: step.stepId,
      requestedBy: workflow.requestedBy,
      ...(workflow.conversationId ? { conversationId: workflow.conversationId } : {}),
    });
    // Refused at the door (an unknown pool, parameters outside the workspace…): the step fails with
    // that reason rather than waiting for a task that was never queued. A task already there is fine.
    if ((queued.status === 'rejected' && queued.code !== 'TaskAlreadyExists') || queued.status === 'invalid') {
      const error = queued.status === 'rejected' ? { code: queued.code, message: queued.message } : { code: 'InvalidTask', message: queued.errors.join('; ').slice(0, 1_000) };
      await send('workflow', workflowId, `not-queued-${step.taskId}`, 'RecordStepFailed', { stepId: step.stepId, attempt: step.attempt, error, retryable: false });
    }
  }

  private async onTaskEvent(recorded: RecordedEvent): Promise<void> {
    if (!['TaskAssigned', 'TaskCompleted', 'TaskFailed', 'TaskCancelled', 'TaskOutcomeUnknown'].includes(recorded.type)) return;
    const typed = taskEventIn(recorded);
    if (!typed) return this.options.logger.warn({ eventId: recorded.id, type: recorded.type }, 'workflow engine skipped a task event it cannot read');
    const { id: taskId, event } = typed;
    const step = await this.stepOf(taskId);
    if (!step) return;
    const { workflowId, stepId, attempt } = step;
    // The jitter of a retry's backoff is drawn here: the decider draws no random numbers.
    const jitter = () => randomInt(0, 1_000_001) / 1_000_000;
    switch (event.type) {
      case 'TaskAssigned': {
        // A task runs a step once (maxAttempts 1); a later attempt of it is a re-run someone asked for after an unknown outcome.
        const rerun = event.data.attempt > 1 ? `-${event.data.attempt}` : '';
        await this.send('workflow', workflowId, `step-started-${taskId}${rerun}`, 'RecordStepStarted', { stepId, attempt, workerId: event.data.workerId });
        return;
      }
      case 'TaskOutcomeUnknown':
        // The step waits for someone to resolve the task (its timeout no longer applies); the resolution comes back as the events above.
        await this.send('workflow', workflowId, `step-outcome-unknown-${taskId}-${recorded.revision}`, 'RecordStepOutcomeUnknown', { stepId, attempt, taskId });
        return;
      case 'TaskCompleted': {
        const { result } = event.data;
        await this.settlePaidRun(taskId, step, result);
        await this.send('workflow', workflowId, `step-completed-${taskId}`, 'RecordStepCompleted', { stepId, attempt, output: result ?? null });
        this.steps.delete(taskId);
        return;
      }
      case 'TaskFailed': {
        const failed = event.data;
        if (!failed.final) return;
        await this.settlePaidRun(taskId, step, undefined);
        // The queue delivered the task again because its worker went silent (a crash, a lost
        // connection): not the step's fault, so the workflow's retry policy may run it again.
        const retryable = failed.retryable || failed.error.code === 'AttemptsExhausted';
        await this.send('workflow', workflowId, `step-failed-${taskId}`, 'RecordStepFailed', { stepId, attempt, error: failed.error, retryable, jitter: jitter() });
        this.steps.delete(taskId);
        return;
      }
      case 'TaskCancelled': {
        const cancelled = event.data;
        await this.settlePaidRun(taskId, step, undefined);
        if (cancelled.requestedBy === STEP_TIMEOUT) {
          await this.send('workflow', workflowId, `step-timed-out-${taskId}`, 'RecordStepTimedOut', { stepId, attempt, jitter: jitter() });
        } else {
          await this.send('workflow', workflowId, `step-cancelled-${taskId}`, 'RecordStepFailed', {
            stepId,
            attempt,
            error: { code: 'TaskCancelled', message: cancelled.reason },
            retryable: false,
          });
        }
        this.steps.delete(taskId);
        return;
      }
    }
  }

  private async settlePaidRun(taskId: string, step: RunningStep, result: unknown): Promise<void> {
    const paid = this.options.paidRuns;
    if (!paid || !step.taskType || !step.queuedAt || !paid.isPaid(step.taskType)) return;
    await paid.settle({ taskId, taskType: step.taskType }, step.queuedAt, result);
  }

  /** Which workflow step a task runs; from its TaskQueued when not seen since the start. */
  private rerunSafe(taskType: string, params: unknown): boolean {
    return this.options.rerunSafe?.(taskType, params) ?? true;
  }

  private async stepOf(taskId: string): Promise<RunningStep | undefined> {
    const known = this.steps.get(taskId);
    if (known) return known;
    if (this.notSteps.has(taskId)) return undefined;
    const { events } = await this.options.store.read(streamName('task', taskId), { maxCount: 1 });
    const recorded = events[0];
    const first = recorded && taskEventIn(recorded)?.event;
    if (!recorded || first?.type !== 'TaskQueued') return undefined;
    const { data } = first;
    if (!data.workflowId || !data.stepId) {
      // A chat task: its other events need no second look.
      this.notSteps.set(taskId, true);
      return undefined;
    }
    const attempt = Number(taskId.slice(taskId.lastIndexOf('_') + 1));
    if (!Number.isInteger(attempt) || attempt < 1) return undefined;
    const step: RunningStep = {
      workflowId: data.workflowId,
      stepId: data.stepId,
      attempt,
      taskType: data.taskType,
      queuedAt: recorded.metadata.occurredAt,
      rerunSafe: this.rerunSafe(data.taskType, data.payload),
    };
    this.steps.set(taskId, step);
    return step;
  }

  private async send(category: 'workflow' | 'task', id: string, commandId: string, type: string, data: Record<string, unknown>, actor = 'workflow-engine'): Promise<CommandReply> {
    // Retried under the same id until a host decides: a missing aggregate host or a broker restart
    // must delay the workflow, never drop a step's outcome.
    const reply: CommandReply = await this.options.commands.sendUntilAnswered(
      { category, id },
      { commandId, type, actor, data },
      {
        signal: this.stopping.signal,
        onRetry: (error, attempt) => this.options.logger[attempt > 3 ? 'warn' : 'debug']({ err: error, category, id, type, attempt }, 'workflow engine command not answered yet; retrying'),
      },
    );
    if (reply.status === 'accepted') return reply;
    // Already decided (a replay, a timer fired twice, a race with a person's click, a finished workflow): nothing to do.
    const level = reply.status === 'rejected' ? 'debug' : 'error';
    this.options.logger[level]({ category, id, type, reply }, 'workflow engine command not applied');
    return reply;
  }

  /** For timers: throws when the command was not recorded or the aggregate's clock is not at the due time yet, so the timer fires again. */
  private async sendWhenDue(category: 'workflow' | 'task', id: string, commandId: string, type: string, data: Record<string, unknown>, actor?: string): Promise<void> {
    const reply = await this.send(category, id, commandId, type, data, actor);
    if (reply.status === 'failed' || (reply.status === 'rejected' && reply.code === 'TimerNotDue')) throw new Error(`${type} ${commandId}: ${reply.message}`);
  }
}


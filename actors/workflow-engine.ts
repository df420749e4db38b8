import { randomInt } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.ts';
import { streamName } from '../domain/streams.ts';
import { nextTimers, type WorkflowTimer, type WorkflowTimers } from '../domain/workflow/timers.ts';
import type { GateRequirement, SideEffectClass } from '../domain/workflow/gate-policy.ts';
import type { TaskRoute } from '../domain/task/route.ts';
import type { CommandAnswer } from '../domain/process/process-manager.ts';
import {
  rerunSafeOf,
  runningWorkflowState,
  workflowStepRunner,
  type StepRunnerConfig,
  type StepRunnerEvent,
  type StepRunnerState,
  type TaskInfo,
} from '../domain/process/workflow-step-runner.ts';
import type { TaskStep } from '../domain/process/workflow-step-runner-types.ts';
import type { CommandClient } from './runtime/command-client.ts';
import { ProcessManagerHost, type Keyed } from './runtime/process-manager-host.ts';
import type { PaidRunBudget } from './paid-run-budget.ts';
import { taskEventIn, workflowEventIn } from '../domain/events/typed-events.ts';

// The workflow engine: the workflow step runner (domain/process/workflow-step-runner.ts) on the
// process-manager host, keyed by workflow. It follows the workflow events and the task events of
// workflow steps (each with the step it runs, from the task's TaskQueued), and its timers are the
// durable agenda's, rebuilt at start from the `workflow-timers` read model. No timer is lost
// however far the model lags behind the log:
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

/** Task events that say something about a step's attempt. */
const STEP_OUTCOMES: ReadonlySet<string> = new Set([
  'TaskAssigned',
  'TaskCompleted',
  'TaskFailed',
  'TaskCancelled',
  'TaskOutcomeUnknown',
  'TaskTimedOut',
  'TaskAttemptAbandoned',
]);

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
  /** The prices paid runs (headless Claude Code) are reserved on the Budget with before they are queued, and settled after. */
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
  private readonly host: ProcessManagerHost<StepRunnerEvent, StepRunnerState, never, CommandAnswer, WorkflowTimer>;
  private readonly config: StepRunnerConfig;
  /** taskId → the step it runs (null: a task that runs no workflow step), from its TaskQueued. */
  private readonly steps = new LRUCache<string, TaskStep | { readonly none: true }>({ max: 10_000 });

  constructor(private readonly options: WorkflowEngineOptions) {
    const model = options.timersModel ?? noModel;
    this.config = {
      routeTask: options.routeTask,
      ...(options.rerunSafe && { rerunSafe: options.rerunSafe }),
      ...(options.classify && { classify: options.classify }),
      ...(options.costGate && { costGate: options.costGate }),
      ...(options.paidRuns && { paidRuns: options.paidRuns.config }),
    };
    this.host = new ProcessManagerHost({
      manager: workflowStepRunner(this.config),
      follows: [
        { category: 'workflow', checkpoint: 'workflow-engine-workflows', read: (recorded) => this.readWorkflowEvent(recorded) },
        { category: 'task', checkpoint: 'workflow-engine-tasks', read: (recorded) => this.readTaskEvent(recorded) },
      ],
      store: options.store,
      checkpoints: options.checkpoints,
      commands: options.commands,
      logger: options.logger,
      restore: () => this.restore(model),
      confirm: {
        // Armed from the model already (which therefore holds it), or a start the model must see first.
        needs: (event, before) => event.source === 'workflow' && event.event.type === 'WorkflowStarted' && before.workflow === undefined,
        holding: (keys) => model.holding(keys.map((k) => k.key)),
        everyMs: options.confirmEveryMs ?? 250,
      },
      ...(options.now && { now: options.now }),
    });
  }

  start(): Promise<void> {
    return this.host.start();
  }

  stop(): Promise<void> {
    return this.host.stop();
  }

  private readWorkflowEvent(recorded: RecordedEvent): Keyed<StepRunnerEvent> | undefined {
    const typed = workflowEventIn(recorded);
    if (!typed) return void this.options.logger.warn({ eventId: recorded.id, type: recorded.type }, 'workflow engine skipped an event it cannot read');
    return { key: typed.id, event: { source: 'workflow', workflowId: typed.id, revision: Number(recorded.revision), event: typed.event } };
  }

  private async readTaskEvent(recorded: RecordedEvent): Promise<Keyed<StepRunnerEvent> | undefined> {
    if (recorded.type === 'TaskQueued') {
      // Learnt as it passes, so the task's later events need no read.
      const typed = taskEventIn(recorded);
      if (typed?.event.type === 'TaskQueued') this.steps.set(typed.id, stepOf(typed.id, typed.event.data, recorded.metadata.occurredAt) ?? { none: true });
      return undefined;
    }
    if (!STEP_OUTCOMES.has(recorded.type)) return undefined;
    const typed = taskEventIn(recorded);
    if (!typed) return void this.options.logger.warn({ eventId: recorded.id, type: recorded.type }, 'workflow engine skipped a task event it cannot read');
    const step = await this.stepOf(typed.id);
    if (!step) return undefined;
    // The jitter of a retry's backoff is drawn here: the decider draws no random numbers.
    const jitter = randomInt(0, 1_000_001) / 1_000_000;
    return { key: step.workflowId, event: { source: 'task', taskId: typed.id, revision: Number(recorded.revision), step, event: typed.event, jitter } };
  }

  /** Which workflow step a task runs; from its TaskQueued (the first event of its stream) when not seen since the start. */
  private async stepOf(taskId: string): Promise<TaskStep | undefined> {
    const known = this.steps.get(taskId);
    if (known) return 'none' in known ? undefined : known;
    const { events } = await this.options.store.read(streamName('task', taskId), { maxCount: 1 });
    const recorded = events[0];
    const first = recorded && taskEventIn(recorded)?.event;
    if (!recorded || first?.type !== 'TaskQueued') return undefined;
    const step = stepOf(taskId, first.data, recorded.metadata.occurredAt);
    // A chat task: its other events need no second look.
    this.steps.set(taskId, step ?? { none: true });
    return step;
  }

  /** The model's documents, each brought up to the end of its stream, restored before any event is followed. */
  private async restore(model: WorkflowTimersModel): Promise<[string, StepRunnerState][]> {
    const documents = await model.running();
    const restored: [string, StepRunnerState][] = [];
    for (let i = 0; i < documents.length; i += 32) {
      await Promise.all(
        documents.slice(i, i + 32).map(async (document) => {
          const { events } = await this.options.store.read(streamName('workflow', document.workflowId), { fromRevision: BigInt(document.revision + 1) });
          let timers: WorkflowTimers | undefined = document;
          for (const recorded of events) {
            const event = workflowEventIn(recorded)?.event;
            if (event) timers = nextTimers(timers, event, Number(recorded.revision));
          }
          if (timers) restored.push([document.workflowId, runningWorkflowState(timers, await this.runningTasks(timers))]);
        }),
      );
    }
    this.options.logger.info({ fromModel: documents.length, workflows: restored.length }, 'workflow timers armed from the workflow-timers read model');
    return restored;
  }

  /** For the step timeouts a restart re-arms: whether each task may run again (its TaskQueued); its status is asked of the task when it fires. */
  private async runningTasks(timers: WorkflowTimers): Promise<Record<string, TaskInfo>> {
    if (!this.options.rerunSafe) return {};
    const tasks: Record<string, TaskInfo> = {};
    for (const timer of timers.timers) {
      if (timer.kind !== 'step-timeout') continue;
      const step = await this.stepOf(timer.taskId);
      if (step) tasks[timer.taskId] = { rerunSafe: rerunSafeOf(this.config, step.taskType, step.payload) };
    }
    return tasks;
  }
}

/** The step a task runs, from its TaskQueued; undefined for a task that runs none (a chat task). */
function stepOf(
  taskId: string,
  queued: { readonly workflowId?: string; readonly stepId?: string; readonly taskType: string; readonly payload: unknown },
  queuedAt: string,
): TaskStep | undefined {
  if (!queued.workflowId || !queued.stepId) return undefined;
  const attempt = Number(taskId.slice(taskId.lastIndexOf('_') + 1));
  if (!Number.isInteger(attempt) || attempt < 1) return undefined;
  return { workflowId: queued.workflowId, stepId: queued.stepId, attempt, taskType: queued.taskType, payload: queued.payload, queuedAt };
}

import type { TaskEvent } from '../task/events.ts';
import type { TaskRoute } from '../task/route.ts';
import type { WorkflowEvent } from '../workflow/events.ts';
import type { GateRequirement, SideEffectClassifier } from '../workflow/gate-policy.ts';
import type { WorkflowTimer, WorkflowTimers } from '../workflow/timers.ts';
import type { PaidRunsConfig } from './paid-runs.ts';
import type { CommandAnswer, CommandIntent, ManagerInput } from './process-manager.ts';
import type { RetryTask } from '../workflow/timers.ts';

// What the workflow step runner's parts share: its configuration, inputs and state, and the
// commands more than one part sends.

export interface StepRunnerConfig {
  /** Where a task type runs; undefined: no pool runs it here (the step fails, UnknownTaskType). */
  readonly routeTask: (taskType: string) => TaskRoute | undefined;
  /** Whether a task of this type with these parameters may run again when its outcome is unknown; default: yes. */
  readonly rerunSafe?: (taskType: string, params: unknown) => boolean;
  /**
   * What a task of this type with these parameters does outside. With it, a step whose definition
   * says it has no side effects while its executor would change something is failed
   * (UndeclaredSideEffect) instead of run: only steps declared side-effecting are gated.
   */
  readonly classify?: SideEffectClassifier;
  /** AG5: the gate a paid run over a budget cap waits for; without it such a step fails (BudgetExceeded). */
  readonly costGate?: GateRequirement;
  /** Reserves paid runs on the Budget before they are queued, and settles them after. */
  readonly paidRuns?: PaidRunsConfig;
}

export type StepRunnerEvent =
  | { readonly source: 'workflow'; readonly workflowId: string; readonly revision: number; readonly event: WorkflowEvent }
  /** `step`: which step the task runs (from its TaskQueued); `jitter` in [0, 1]: the draw for a retry's backoff, made by the wiring. */
  | {
      readonly source: 'task';
      readonly taskId: string;
      readonly revision: number;
      readonly step: TaskStep;
      readonly event: TaskEvent;
      readonly jitter: number;
    };

export type StepRunnerInput = ManagerInput<StepRunnerEvent, CommandAnswer, WorkflowTimer>;

/** What the runner knows of a task running a step: whether it may run again, and its attempt while running. */
export interface TaskInfo {
  readonly rerunSafe: boolean;
  /** Undefined when its events were before the checkpoint (after a restart). */
  readonly running?: boolean;
  readonly attempt?: number;
}

export interface StepRunnerState {
  /** The workflow's timers while it runs here; undefined: not started, or it ended before the checkpoint. */
  readonly workflow?: WorkflowTimers;
  readonly ended: boolean;
  /** Steps between being scheduled and queued (a reservation or the queueing waiting for its answer), by task id. */
  readonly pending: Readonly<Record<string, PendingRun>>;
  readonly tasks: Readonly<Record<string, TaskInfo>>;
}

export interface Step {
  readonly intents: readonly CommandIntent[];
  readonly state: StepRunnerState;
}

/** Who cancels a task whose step timed out: its TaskCancelled then reports the timeout, not a cancellation. */
export const STEP_TIMEOUT = 'workflow-engine:step-timeout';

export const rerunSafeOf = (config: StepRunnerConfig, taskType: string, params: unknown): boolean => config.rerunSafe?.(taskType, params) ?? true;

/**
 * Through the task, so the task aggregate decides between its completion and the timeout; the
 * cancellation then comes back as the step's timeout. Sent as STEP_TIMEOUT: the task records who
 * cancelled from the sender (the envelope's actor).
 */
export const cancelForTimeout = (t: {
  readonly workflowId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly taskId: string;
}): CommandIntent => ({
  kind: 'command',
  category: 'task',
  id: t.taskId,
  commandId: `step-timeout-${t.taskId}`,
  type: 'CancelTask',
  actor: STEP_TIMEOUT,
  data: { reason: `attempt ${t.attempt} of step "${t.stepId}" of workflow ${t.workflowId} timed out` },
});

export type StepToRun = Pick<RetryTask, 'taskId' | 'taskType' | 'pool' | 'params' | 'timeoutMs' | 'dryRun' | 'sideEffects'> & {
  readonly stepId: string;
  readonly attempt: number;
  /** Who granted the step's cost gate: its paid run is reserved over the cap in their names. */
  readonly overCapApprovedBy?: readonly string[];
};

export interface PendingRun {
  readonly workflowId: string;
  readonly step: StepToRun;
  /** Which answer it waits for: the reservation, the request that approval is needed, or the queueing. */
  readonly phase: 'reserving' | 'asking' | 'queueing';
  /** While asking: why the Budget refused, for the cost gate's request. */
  readonly reason?: string;
  readonly amountUsd?: number;
  /** When the reservation was first asked for: every Budget command of the run goes to that month's Budget. */
  readonly reservedAt?: string;
}

/** Which step a task runs, and what its TaskQueued said. */
export interface TaskStep {
  readonly workflowId: string;
  readonly stepId: string;
  /** The step's attempt (the `_<n>` of the task id): one task per attempt. */
  readonly attempt: number;
  readonly taskType: string;
  readonly payload: unknown;
  readonly queuedAt: string;
}

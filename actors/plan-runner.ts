import type { Logger } from 'pino';
import { planEventIn, PLAN_CATEGORY } from '../domain/events/typed-events.ts';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.ts';
import type { EventStore } from '../domain/ports/event-store.ts';
import {
  loadedPlanRunnerState,
  planFinished,
  planRunner,
  type PlanRunnerEvent,
  type PlanRunnerReport,
  type PlanRunnerState,
} from '../domain/process/plan-runner.ts';
import type { CommandAnswer } from '../domain/process/process-manager.ts';
import type { GateRules, Registry } from '../domain/workflow/index.ts';
import type { ReadStateAt } from './reactors/aggregate-state-at.ts';
import type { CommandClient } from './runtime/command-client.ts';
import { ProcessManagerHost } from './runtime/process-manager-host.ts';

// The plan runner (domain/process/plan-runner.ts) on the process-manager host: it follows the
// plan category under its own checkpoint, starts a plan it first sees mid-stream from the
// state its aggregate host answers, and reports what only a log can tell.

export interface PlanRunnerOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly commands: CommandClient;
  /** A plan's state and revision from its aggregate host. */
  readonly stateAt: ReadStateAt;
  readonly registry: Registry;
  readonly gates: GateRules;
  readonly maxExecutionMs: number;
  /** DRY_RUN: planned workflows record their side-effecting steps instead of running them. */
  readonly dryRun?: boolean;
  readonly logger: Logger;
}

export class PlanRunner {
  private readonly host: ProcessManagerHost<PlanRunnerEvent, PlanRunnerState, PlanRunnerReport, CommandAnswer, never>;

  constructor(options: PlanRunnerOptions) {
    const { logger } = options;
    const manager = planRunner({ registry: options.registry, gates: options.gates, maxExecutionMs: options.maxExecutionMs, dryRun: options.dryRun ?? false });
    this.host = new ProcessManagerHost({
      manager: { ...manager, finished: planFinished },
      follows: [
        {
          category: PLAN_CATEGORY,
          checkpoint: 'plan-runner',
          read: (recorded) => {
            const typed = planEventIn(recorded);
            return typed && { key: typed.id, event: { revision: Number(recorded.revision), event: typed.event } };
          },
        },
      ],
      store: options.store,
      checkpoints: options.checkpoints,
      commands: options.commands,
      logger,
      perform: async (report) => reportOf(logger, report),
      load: async (planId) => {
        const { state, revision } = await options.stateAt('plan', planId);
        return loadedPlanRunnerState(state, revision);
      },
    });
  }

  start(): Promise<void> {
    return this.host.start();
  }

  stop(): Promise<void> {
    return this.host.stop();
  }
}

function reportOf(logger: Logger, report: PlanRunnerReport): void {
  switch (report.type) {
    case 'PlanNoLongerCompiles':
      logger.error({ planId: report.planId, errors: report.errors }, 'an approved plan no longer compiles into a workflow');
      return;
    case 'WorkflowNotStarted':
      logger.error({ planId: report.planId, reply: report.answer }, 'could not start the workflow of a plan');
      return;
    case 'NotRecorded':
      logger.warn({ planId: report.planId, command: report.command, reply: report.answer }, 'could not record the workflow on the plan or the conversation');
      return;
  }
}

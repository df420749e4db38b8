import { isLeft } from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import type { PlanState, ProposedPlan } from '../domain/plan/index.ts';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.ts';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.ts';
import { parseStreamName } from '../domain/streams.ts';
import { registerDefinition, workflowOfPlan, type GateRules, type Registry } from '../domain/workflow/index.ts';
import { planAggregate } from './aggregates/plan.ts';
import { readAggregateState } from './runtime/aggregate-reader.ts';
import type { CommandClient } from './runtime/command-client.ts';
import { accepted, describeReply, rejectedAs } from './runtime/command-replies.ts';
import { EventReactor } from './runtime/event-reactor.ts';
import { sendThatLands, type SendThatLands } from './runtime/commands-that-land.ts';

// The process manager from plans to workflows: a plan that needs no approval runs as soon as
// it is proposed, one that does once it is approved. The plan is compiled into a step tree and
// started as the workflow with the plan's own id, then the plan records which workflow it
// became. Both commands have ids derived from the plan, and the Plan decider takes the same
// workflow twice as nothing new, so a replay after a crash starts nothing twice.

export interface PlanRunnerOptions {
  readonly store: EventStore;
  readonly checkpoints: CheckpointStore;
  readonly commands: CommandClient;
  readonly registry: Registry;
  readonly gates: GateRules;
  readonly maxExecutionMs: number;
  /** DRY_RUN: planned workflows record their side-effecting steps instead of running them. */
  readonly dryRun?: boolean;
  readonly logger: Logger;
}

export class PlanRunner {
  private readonly reactor: EventReactor;
  /** Aborted by stop(), so a command waiting for an aggregate host does not block shutdown. */
  private readonly stopping = new AbortController();
  private readonly send: SendThatLands;
  constructor(private readonly options: PlanRunnerOptions) {
    this.send = sendThatLands(options.commands, this.stopping.signal, options.logger, 'plan-runner');
    this.reactor = new EventReactor({
      name: 'plan-runner',
      category: 'plan',
      store: options.store,
      checkpoints: options.checkpoints,
      logger: options.logger,
      handle: (event) => this.handle(event),
    });
  }

  start(): Promise<void> {
    return this.reactor.start();
  }

  stop(): Promise<void> {
    this.stopping.abort();
    return this.reactor.stop();
  }

  private async handle(event: RecordedEvent): Promise<void> {
    if (event.type !== 'PlanProposed' && event.type !== 'PlanApproved' && event.type !== 'PlanAmended') return;
    const planId = parseStreamName(event.stream).id;
    const state: PlanState = await readAggregateState(this.options.store, planAggregate, planId, this.options.logger);
    if (!runnable(state)) return;
    await this.run(state);
  }

  private async run(plan: ProposedPlan): Promise<void> {
    const { registry, logger } = this.options;
    const workflowId = plan.planId;
    const definition = workflowOfPlan(plan.plan, { name: plan.plan.summary.slice(0, 200), gates: this.options.gates, sideEffecting: registry.sideEffecting ?? [] });
    const compiled = registerDefinition(definition, registry);
    if (isLeft(compiled)) {
      // Plans were validated against the registry when proposed; only a registry changed since gets here.
      logger.error({ planId: plan.planId, errors: compiled.left }, 'an approved plan no longer compiles into a workflow');
      return;
    }
    const started = await this.send(
      { category: 'workflow', id: workflowId },
      {
        commandId: `start-${workflowId}`,
        type: 'StartWorkflow',
        actor: plan.approved?.approver ?? plan.requestedBy,
        correlationId: plan.conversationId,
        causationId: `plan-${plan.planId}`,
        data: {
          definition: compiled.right,
          requestedBy: plan.requestedBy,
          maxExecutionMs: this.options.maxExecutionMs,
          dryRun: this.options.dryRun ?? false,
          source: { kind: 'plan', planId: plan.planId },
          conversationId: plan.conversationId,
        },
      },
    );
    if (!accepted(started) && !rejectedAs(started, 'WorkflowAlreadyStarted')) {
      logger.error({ planId: plan.planId, reply: describeReply(started) }, 'could not start the workflow of a plan');
      throw new Error(`could not start workflow ${workflowId}: ${describeReply(started)}`);
    }
    const recorded = await this.send(
      { category: 'plan', id: plan.planId },
      { commandId: `compiled-${plan.planId}`, type: 'RecordPlanCompiled', actor: 'orchestrator', data: { workflowId } },
    );
    if (!accepted(recorded)) logger.warn({ planId: plan.planId, reply: describeReply(recorded) }, 'could not record the workflow on the plan');
    const remembered = await this.send(
      { category: 'conversation', id: plan.conversationId },
      { commandId: `context-${plan.planId}-lastWorkflowId`, type: 'SetContextVariable', actor: 'orchestrator', data: { name: 'lastWorkflowId', value: workflowId } },
    );
    if (!accepted(remembered)) logger.warn({ planId: plan.planId, reply: describeReply(remembered) }, 'could not remember the workflow on the conversation');
  }
}

/** Approved, or proposed without needing approval, and not yet a workflow. */
const runnable = (state: PlanState): state is ProposedPlan =>
  state.status === 'approved' || (state.status === 'proposed' && !state.approval.required);

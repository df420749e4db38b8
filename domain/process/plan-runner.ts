import { isLeft } from 'fp-ts/lib/Either.js';
import { match } from 'ts-pattern';
import { planDecider, type PlanEvent, type PlanState, type ProposedPlan } from '../plan/index.ts';
import { registerDefinition, workflowOfPlan, type DefinitionError, type GateRules, type Registry } from '../workflow/index.ts';
import { describeAnswer, type CommandAnswer, type CommandIntent, type Intent, type ManagerInput, type ProcessManager } from './process-manager.ts';

// The process manager from plans to workflows: a plan that needs no approval runs as soon as
// it is proposed, one that does once it is approved (or amended after approval). The plan is
// compiled into a step tree and started as the workflow with the plan's own id; once the
// workflow exists (started now, or already), the plan records which workflow it became and the
// conversation remembers it as its last workflow. Every command id is derived from the plan,
// and the Plan decider takes the same workflow twice as nothing new, so a replay after a crash
// starts nothing twice.
// The state of a plan is the fold of the plan's own events as the manager receives them (the
// Plan aggregate's evolve), one state per plan id. A plan first seen mid-stream (after a
// restart) is loaded from its aggregate host with the revision that state folds; a replayed
// event it already folds is decided on but not folded twice.

export interface PlanRunnerConfig {
  /** The deployment's task types, with the policy's gates; plans were validated against it when proposed. */
  readonly registry: Registry;
  readonly gates: GateRules;
  readonly maxExecutionMs: number;
  /** DRY_RUN: planned workflows record their side-effecting steps instead of running them. */
  readonly dryRun: boolean;
}

/** Something only a log can tell: the port reports it. */
export type PlanRunnerReport =
  | { readonly type: 'PlanNoLongerCompiles'; readonly planId: string; readonly errors: readonly DefinitionError[] }
  | { readonly type: 'WorkflowNotStarted'; readonly planId: string; readonly answer: string }
  | { readonly type: 'NotRecorded'; readonly planId: string; readonly command: string; readonly answer: string };

export interface PlanRunnerState {
  readonly plan: PlanState;
  /** The last revision of the plan's stream folded; -1 before any. */
  readonly revision: number;
}

/** A plan event with its revision in the plan's stream. */
export interface PlanRunnerEvent {
  readonly revision: number;
  readonly event: PlanEvent;
}

export type PlanRunnerInput = ManagerInput<PlanRunnerEvent, CommandAnswer, never, PlanRunnerReport>;

export const loadedPlanRunnerState = (plan: PlanState, revision: number): PlanRunnerState => ({ plan, revision });

const planAfter = (state: PlanRunnerState, { revision, event }: PlanRunnerEvent): PlanState =>
  revision <= state.revision ? state.plan : planDecider.evolve(state.plan, event);

/** The plan's events that can make it runnable. */
const RUN_ON: readonly PlanEvent['type'][] = ['PlanProposed', 'PlanApproved', 'PlanAmended'];

/** Approved, or proposed without needing approval, and not yet a workflow. */
export const runnable = (state: PlanState): state is ProposedPlan => state.status === 'approved' || (state.status === 'proposed' && !state.approval.required);

/** Compiled into a workflow or rejected: nothing more will happen to the plan here. */
export const planFinished = (state: PlanRunnerState): boolean => state.plan.status === 'compiled' || state.plan.status === 'rejected';

export const planRunner = (config: PlanRunnerConfig): ProcessManager<PlanRunnerInput, PlanRunnerState, PlanRunnerReport> => ({
  name: 'plan-runner',
  initialState: () => ({ plan: planDecider.initialState(), revision: -1 }),
  evolve: (state, input) =>
    input.kind === 'event' ? { plan: planAfter(state, input.event), revision: Math.max(state.revision, input.event.revision) } : state,
  decide: (input, state) =>
    match(input)
      .with({ kind: 'event' }, ({ event }) => onPlanEvent(config, event.event, planAfter(state, event)))
      .with({ kind: 'reply' }, ({ intent, reply }) => onAnswer(intent, reply, state.plan))
      .with({ kind: 'due' }, () => [])
      .exhaustive(),
});

function onPlanEvent(config: PlanRunnerConfig, event: PlanEvent, plan: PlanState): Intent<PlanRunnerReport>[] {
  if (!RUN_ON.includes(event.type) || !runnable(plan)) return [];
  const definition = workflowOfPlan(plan.plan, {
    name: plan.plan.summary.slice(0, 200),
    gates: config.gates,
    sideEffecting: config.registry.sideEffecting ?? [],
  });
  const compiled = registerDefinition(definition, config.registry);
  // Plans were validated against the registry when proposed; only a registry changed since gets here.
  if (isLeft(compiled)) return [report({ type: 'PlanNoLongerCompiles', planId: plan.planId, errors: compiled.left })];
  return [
    {
      kind: 'command',
      category: 'workflow',
      id: plan.planId,
      commandId: `start-${plan.planId}`,
      type: 'StartWorkflow',
      actor: plan.approved?.approver ?? plan.requestedBy,
      correlationId: plan.conversationId,
      causationId: `plan-${plan.planId}`,
      wantsReply: true,
      data: {
        definition: compiled.right,
        requestedBy: plan.requestedBy,
        maxExecutionMs: config.maxExecutionMs,
        dryRun: config.dryRun,
        source: { kind: 'plan', planId: plan.planId },
        conversationId: plan.conversationId,
      },
    },
  ];
}

function onAnswer(intent: Intent<PlanRunnerReport>, answer: CommandAnswer, plan: PlanState): Intent<PlanRunnerReport>[] {
  if (intent.kind !== 'command') return [];
  if (intent.type === 'StartWorkflow') {
    const planId = intent.id;
    const started = answer.status === 'accepted' || (answer.status === 'rejected' && answer.code === 'WorkflowAlreadyStarted');
    if (!started) return [report({ type: 'WorkflowNotStarted', planId, answer: describeAnswer(answer) })];
    const conversationId = plan.status === 'none' ? intent.data.conversationId : plan.conversationId;
    return [
      {
        kind: 'command',
        category: 'plan',
        id: planId,
        commandId: `compiled-${planId}`,
        type: 'RecordPlanCompiled',
        actor: 'orchestrator',
        wantsReply: true,
        data: { workflowId: planId },
      },
      ...(conversationId === undefined
        ? []
        : [
            {
              kind: 'command',
              category: 'conversation',
              id: conversationId,
              commandId: `context-${planId}-lastWorkflowId`,
              type: 'SetContextVariable',
              actor: 'orchestrator',
              wantsReply: true,
              data: { name: 'lastWorkflowId', value: planId },
            } satisfies CommandIntent,
          ]),
    ];
  }
  // What the plan and the conversation remember is worth a warning when it did not land, not a retry.
  if (answer.status === 'accepted') return [];
  const planId = intent.category === 'plan' ? intent.id : intent.commandId.replace(/^context-(.*)-lastWorkflowId$/, '$1');
  return [report({ type: 'NotRecorded', planId, command: intent.type, answer: describeAnswer(answer) })];
}

const report = (effect: PlanRunnerReport): Intent<PlanRunnerReport> => ({ kind: 'effect', key: `${effect.type}-${effect.planId}`, effect });

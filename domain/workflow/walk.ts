import { isRight } from 'fp-ts/lib/Either.js';
import type { ApprovalNode, EndNode, ParallelNode, TaskNode, Transition } from './compiled.ts';
import { evaluateCondition } from './condition-eval.ts';
import { parseCondition } from './condition-parser.ts';
import { apply } from './evolve.ts';
import { workflowEventOf, type WorkflowEvent, type WorkflowEventData, type WorkflowFailureCause } from './events.ts';
import { indexMachine, type MachineIndex } from './machine-index.ts';
import { addMilliseconds } from './retry.ts';
import { activeTaskIds, conditionContext, isActive, taskIdFor, type Workflow } from './state.ts';
import type { StepParams } from './step-fields.ts';
import { resolveParams } from './step-params.ts';

// Moving a workflow through its machine after something finished: a step completed, a gate was
// approved, the workflow started. A walk collects events and applies each to a working copy of
// the state at once, so every later choice (a condition, "is this parallel node done?") sees
// everything decided before it in the same command. It stops where the workflow has to wait
// (a task queued, an approval requested) or when the workflow ends.

export interface Walk {
  state: Workflow;
  readonly events: WorkflowEvent[];
  readonly at: string;
  readonly index: MachineIndex;
  /** Parallel nodes whose branches are being entered: not done yet even if no step is active. */
  readonly entering: Set<string>;
}

export const startWalk = (state: Workflow, at: string): Walk => ({ state, events: [], at, index: indexMachine(state.definition.machine), entering: new Set() });

export function emit(walk: Walk, event: WorkflowEvent): void {
  walk.events.push(event);
  walk.state = apply(walk.state, event);
}

const running = (walk: Walk): boolean => walk.state.status === 'running';

/** Leaves a node that has finished: takes the first transition that applies and enters its target. */
export function leave(walk: Walk, nodeId: string): void {
  const node = walk.index.node(nodeId)?.node;
  if (!running(walk) || !node || node.kind === 'end') return;
  const choice = choose(walk, node.next);
  if (!choice) {
    failWorkflow(walk, { cause: 'NoTransitionMatched', reason: `none of the transitions from "${nodeId}" applies` });
    return;
  }
  const { transition, number } = choice;
  const { workflowId } = walk.state;
  if (node.next.some((t) => t.when !== undefined)) {
    emit(
      walk,
      workflowEventOf('BranchTaken', {
        workflowId,
        nodeId,
        to: transition.to,
        transition: number,
        ...(transition.when !== undefined && { condition: transition.when }),
        at: walk.at,
      }),
    );
  }
  for (const stepId of transition.skips ?? []) emit(walk, workflowEventOf('StepSkipped', { workflowId, stepId, reason: 'branchNotTaken', at: walk.at }));
  enter(walk, transition.to);
}

function choose(walk: Walk, transitions: readonly Transition[]): { transition: Transition; number: number } | undefined {
  const context = conditionContext(walk.state);
  const number = transitions.findIndex((t) => {
    if (t.when === undefined) return true;
    const condition = parseCondition(t.when);
    return isRight(condition) && evaluateCondition(condition.right, context);
  });
  return number < 0 ? undefined : { transition: transitions[number]!, number };
}

export function enter(walk: Walk, nodeId: string): void {
  const placed = walk.index.node(nodeId);
  if (!running(walk)) return;
  if (!placed) {
    failWorkflow(walk, { cause: 'NoTransitionMatched', reason: `the workflow has no state "${nodeId}"` });
    return;
  }
  const { node, parent } = placed;
  switch (node.kind) {
    case 'task':
      return scheduleTask(walk, node);
    case 'approval':
      return requestApproval(walk, node);
    case 'choice':
      return leave(walk, node.id);
    case 'parallel':
      return enterParallel(walk, node);
    case 'end':
      return parent === undefined || node.outcome === 'failed' ? reachEnd(walk, node) : settle(walk, parent);
  }
}

function scheduleTask(walk: Walk, node: TaskNode): void {
  const { workflowId, dryRun } = walk.state;
  const previous = walk.state.steps[node.id];
  const attempt = (previous?.attempt ?? 0) + 1;
  emit(
    walk,
    workflowEventOf('StepScheduled', {
      workflowId,
      stepId: node.id,
      attempt,
      taskId: taskIdFor(workflowId, node.id, attempt),
      ...taskToRun(node, resolveParams(node.params, conditionContext(walk.state)), dryRun),
      visit: (previous?.visit ?? 0) + 1,
      at: walk.at,
    }),
  );
}

/** A dry run reports what would run; it does not wait for people to approve what will not happen. */
function requestApproval(walk: Walk, node: ApprovalNode): void {
  const { workflowId, requestedBy, dryRun } = walk.state;
  if (dryRun) {
    emit(walk, workflowEventOf('StepSkipped', { workflowId, stepId: node.id, reason: 'dryRun', at: walk.at }));
    leave(walk, node.id);
    return;
  }
  const dueAt = addMilliseconds(walk.at, node.timeoutMs);
  emit(
    walk,
    workflowEventOf('ApprovalRequested', {
      workflowId,
      stepId: node.id,
      visit: (walk.state.steps[node.id]?.visit ?? 0) + 1,
      ...(node.title !== undefined && { title: node.title }),
      approvers: [...node.approvers],
      quorum: node.quorum,
      requesterMayApprove: node.requesterMayApprove,
      requestedBy,
      dueAt,
      ...(node.reminderBeforeMs !== undefined && { remindAt: addMilliseconds(dueAt, -node.reminderBeforeMs) }),
      at: walk.at,
    }),
  );
}

function enterParallel(walk: Walk, node: ParallelNode): void {
  walk.entering.add(node.id);
  for (const branch of node.branches) enter(walk, branch.start);
  walk.entering.delete(node.id);
  settle(walk, node.id);
}

/** A parallel node is done once no step inside it is active: every branch has reached its end. */
export function settle(walk: Walk, parallelId: string): void {
  if (!running(walk) || walk.entering.has(parallelId)) return;
  const stillActive = walk.index.stepsWithin(parallelId).some((stepId) => isActive(walk.state.steps[stepId]));
  if (!stillActive) leave(walk, parallelId);
}

function reachEnd(walk: Walk, node: EndNode): void {
  if (node.outcome === 'failed') {
    failWorkflow(walk, { cause: 'EndedInFailure', reason: node.reason ?? `the workflow reached the failing end state "${node.id}"` });
    return;
  }
  emit(walk, workflowEventOf('WorkflowCompleted', { workflowId: walk.state.workflowId, endState: node.id, at: walk.at }));
}

type Failure = Pick<WorkflowEventData<'WorkflowFailed'>, 'reason' | 'stepId' | 'error'> & { readonly cause: WorkflowFailureCause };

export function failWorkflow(walk: Walk, { cause, reason, stepId, error }: Failure): void {
  emit(
    walk,
    workflowEventOf('WorkflowFailed', {
      workflowId: walk.state.workflowId,
      cause,
      reason,
      ...(stepId !== undefined && { stepId }),
      ...(error !== undefined && { error }),
      tasksToCancel: activeTaskIds(walk.state, stepId),
      at: walk.at,
    }),
  );
}

/** What every event that schedules a step's task carries about the task to run. */
export const taskToRun = (node: TaskNode, params: StepParams, dryRun: boolean) => ({
  taskType: node.taskType,
  ...(node.title !== undefined && { title: node.title }),
  ...(node.pool !== undefined && { pool: node.pool }),
  params,
  ...(node.timeoutMs !== undefined && { timeoutMs: node.timeoutMs }),
  dryRun: dryRun && node.sideEffects,
  sideEffects: node.sideEffects,
});

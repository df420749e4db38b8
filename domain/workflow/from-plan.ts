import { match } from 'ts-pattern';
import type { Plan, PlanStep } from '../plan/plan-schema.ts';
import type { StepNode, WorkflowDefinition } from './definition-schema.ts';

// A plan becomes a step tree (OR1 → WF1): phases and the steps inside them run in order, a
// parallel step's branches at once, a conditional's `then` or `else`. Step ids and conditions
// carry over unchanged, so `steps.tests.output…` in the plan reads the same step in the
// workflow. Gates take their approvers and policy from the deployment's rules, never from the
// model's output: who may approve is not the planner's to decide. A plan that proposes no gate
// before a side-effecting step gets one when it is compiled with the policy's requirements.

export interface GateRules {
  readonly approvers?: readonly string[];
  /** Distinct approvers a gate needs; 1 unless set. */
  readonly quorum?: number;
  readonly requesterMayApprove: boolean;
  readonly timeoutMs?: number;
  readonly reminderBeforeMs?: number;
}

export interface PlanToWorkflow {
  readonly name: string;
  readonly gates: GateRules;
  /** Task types whose executors change something outside: their steps are recorded, not run, in a dry run. */
  readonly sideEffecting: readonly string[];
}

export function workflowOfPlan(plan: Plan, options: PlanToWorkflow): WorkflowDefinition {
  const phases = plan.phases.map((phase): StepNode => sequence(phase.steps.map((step) => stepNode(step, options))));
  return { form: 'stepTree', name: options.name, description: plan.summary, root: sequence(phases) };
}

const sequence = (steps: readonly StepNode[]): StepNode => (steps.length === 1 ? steps[0]! : { type: 'sequence', steps });

function stepNode(step: PlanStep, options: PlanToWorkflow): StepNode {
  const nodes = (steps: readonly PlanStep[]): StepNode => sequence(steps.map((s) => stepNode(s, options)));
  return match(step)
    .with({ kind: 'task' }, (s): StepNode => ({
      type: 'task',
      id: s.id,
      title: clip(s.why),
      taskType: s.taskType,
      // Validated against the executor's schema before the plan was proposed; JSON by construction.
      params: s.params as Record<string, never>,
      sideEffects: options.sideEffecting.includes(s.taskType),
    }))
    .with({ kind: 'parallel' }, (s): StepNode => ({ type: 'parallel', id: s.id, branches: s.branches.map(nodes) }))
    .with({ kind: 'conditional' }, (s): StepNode => ({
      type: 'conditional',
      id: s.id,
      condition: s.condition,
      then: nodes(s.then),
      ...(s.else && s.else.length > 0 ? { else: nodes(s.else) } : {}),
    }))
    .with({ kind: 'approval' }, (s): StepNode => ({
      type: 'approval',
      id: s.id,
      title: clip(s.reason),
      requesterMayApprove: options.gates.requesterMayApprove,
      ...(options.gates.quorum !== undefined && options.gates.quorum > 1 ? { quorum: options.gates.quorum } : {}),
      ...(options.gates.approvers && options.gates.approvers.length > 0 ? { approvers: [...options.gates.approvers] } : {}),
      ...(options.gates.timeoutMs !== undefined ? { timeoutMs: options.gates.timeoutMs } : {}),
      ...(options.gates.reminderBeforeMs !== undefined ? { reminderBeforeMs: options.gates.reminderBeforeMs } : {}),
    }))
    .exhaustive();
}

/** Titles are at most 200 characters in a definition; a plan's reasons may be longer. */
const clip = (text: string): string => (text.length <= 200 ? text : `${text.slice(0, 199)}…`);

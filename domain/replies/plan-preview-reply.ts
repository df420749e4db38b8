import { match } from 'ts-pattern';
import { formatUsd } from '../cost/usd.ts';
import type { PlanStep, ProposedPlan } from '../plan/index.ts';
import { excerpt, formatDuration } from './format.ts';
import type { ReplyAction, ReplyDocument } from './reply-document.ts';

// The plan preview in the thread (OR2): what will run, phase by phase, how long and how much
// it should take, and which steps wait for a person. While the plan waits for "Run this plan"
// it carries the buttons; once decided, the same message is redrawn without them (IF3), so a
// decided plan cannot be run twice from an old preview.

export const RUN_PLAN_ACTION = 'run_plan';
export const REJECT_PLAN_ACTION = 'reject_plan';

export function planPreviewReply(state: ProposedPlan): ReplyDocument {
  const { plan, approval } = state;
  const waiting = state.status === 'proposed' && approval.required;
  const actions: ReplyAction[] = waiting
    ? [
        { actionId: RUN_PLAN_ACTION, label: 'Run this plan', value: state.planId, style: 'primary' },
        { actionId: REJECT_PLAN_ACTION, label: 'Reject', value: state.planId, style: 'danger' },
      ]
    : [];
  return {
    title: `Plan: ${excerpt(plan.summary, 140)}`,
    tone: match(state.status)
      .with('rejected', () => 'failure' as const)
      .with('approved', 'compiled', () => 'success' as const)
      .otherwise(() => (waiting ? 'warning' : 'info')),
    summary: decision(state),
    fields: [
      { label: 'Estimated time', value: formatDuration(plan.estimate.estimatedMs) },
      { label: 'Estimated cost', value: formatUsd(plan.estimate.estimatedCostUsd) },
      { label: 'Planned by', value: `${state.model} (${formatUsd(state.totalCostUsd)})` },
      { label: 'Steps needing approval', value: gates(plan.phases.flatMap((p) => p.steps)).join(', ') || 'none' },
    ],
    sections: [
      ...plan.phases.map((phase, i) => ({ heading: `${i + 1}. ${phase.name}`, lines: phase.steps.flatMap((step) => stepLines(step, '')) })),
      ...(approval.reasons.length > 0 ? [{ heading: 'Why it waits for approval', lines: approval.reasons }] : []),
    ],
    ...(actions.length > 0 ? { actions } : {}),
    footer: `plan ${state.planId} · revision ${state.revision}`,
  };
}

function decision(state: ProposedPlan): string {
  return match(state.status)
    .with('proposed', () =>
      state.approval.required ? 'Press "Run this plan", or type APPROVE in this thread, to run it.' : 'Nothing in it needs approval: running it now.',
    )
    .with('approved', () => `Approved by ${state.approved?.approver ?? 'someone'}: running it.`)
    .with('compiled', () =>
      state.approved
        ? `Approved by ${state.approved.approver}: running as workflow ${state.compiled?.workflowId ?? state.planId}.`
        : `Running as workflow ${state.compiled?.workflowId ?? state.planId}.`,
    )
    .with('rejected', () => `Rejected by ${state.rejected?.rejectedBy ?? 'someone'}: ${state.rejected?.reason ?? ''}. Nothing ran.`)
    .exhaustive();
}

function stepLines(step: PlanStep, indent: string): string[] {
  return match(step)
    .with({ kind: 'task' }, (s) => [`${indent}• ${s.id}: ${s.taskType} — ${excerpt(s.why, 100)}`])
    .with({ kind: 'approval' }, (s) => [`${indent}• ${s.id}: waits for approval — ${excerpt(s.reason, 100)}`])
    .with({ kind: 'parallel' }, (s) => [
      `${indent}• ${s.id}: at the same time:`,
      ...s.branches.flatMap((branch, i) => [`${indent}   branch ${i + 1}:`, ...branch.flatMap((b) => stepLines(b, `${indent}      `))]),
    ])
    .with({ kind: 'conditional' }, (s) => [
      `${indent}• ${s.id}: if ${s.condition}:`,
      ...s.then.flatMap((b) => stepLines(b, `${indent}   `)),
      ...(s.else && s.else.length > 0 ? [`${indent}  otherwise:`, ...s.else.flatMap((b) => stepLines(b, `${indent}   `))] : []),
    ])
    .exhaustive();
}

const gates = (steps: readonly PlanStep[]): string[] =>
  steps.flatMap((step) =>
    match(step)
      .with({ kind: 'approval' }, (s) => [s.id])
      .with({ kind: 'parallel' }, (s) => s.branches.flatMap(gates))
      .with({ kind: 'conditional' }, (s) => [...gates(s.then), ...gates(s.else ?? [])])
      .otherwise(() => []),
  );

import { match } from 'ts-pattern';
import { stepNodes } from '../workflow/machine-index.ts';
import { describeStepStatus, describeWorkflowStatus, type StepStatus, type Workflow } from '../workflow/index.ts';
import { count, excerpt, formatDuration } from './format.ts';
import type { ReplyDocument, ReplyTone } from './reply-document.ts';
import { formatUsd } from '../cost/usd.ts';

// What a workflow says in its thread: one status message redrawn as steps move, one message
// per approval gate that carries Approve / Reject while the gate is open and is redrawn with
// the decision once it is not (IF3), and a closing reply when the workflow ends.

export const APPROVE_GATE_ACTION = 'approve_gate';
export const REJECT_GATE_ACTION = 'reject_gate';
export const CANCEL_WORKFLOW_ACTION = 'cancel_workflow';

/** What a gate's buttons carry: which workflow, gate and visit the click answers. */
export const gateActionValue = (workflowId: string, stepId: string, visit: number): string => `${workflowId} ${stepId} ${visit}`;

export function parseGateActionValue(value: string): { workflowId: string; stepId: string; visit: number } | undefined {
  const [workflowId, stepId, visit, ...rest] = value.split(' ');
  const n = Number(visit);
  return workflowId && stepId && Number.isInteger(n) && n >= 1 && rest.length === 0 ? { workflowId, stepId, visit: n } : undefined;
}

const ICON: Readonly<Record<StepStatus | 'pending', string>> = {
  pending: '○',
  scheduled: '◔',
  running: '▶',
  retryScheduled: '↻',
  outcomeUnknown: '?',
  completed: '✔',
  failed: '✖',
  awaitingApproval: '⏸',
  approved: '✔',
  rejected: '✖',
  timedOut: '⌛',
  skipped: '–',
};

const toneOf = (workflow: Workflow): ReplyTone =>
  match(workflow.status)
    .with('running', () => 'progress' as const)
    .with('completed', () => 'success' as const)
    .with('cancelled', () => 'warning' as const)
    .otherwise(() => 'failure' as const);

const ended = (workflow: Workflow): string => describeWorkflowStatus(workflow.status);

export function workflowStatusReply(workflow: Workflow): ReplyDocument {
  const nodes = stepNodes(workflow.definition.machine);
  const done = nodes.filter((n) => ['completed', 'approved', 'skipped'].includes(workflow.steps[n.id]?.status ?? '')).length;
  return {
    title: `Workflow: ${excerpt(workflow.definition.name, 140)}`,
    tone: toneOf(workflow),
    summary: `${ended(workflow)}${workflow.dryRun ? ' (dry run: side effects recorded, not made)' : ''} · ${done} of ${count(nodes.length, 'step')} done`,
    sections: [
      {
        lines: nodes.map((node) => {
          const run = workflow.steps[node.id];
          const status = run?.status ?? 'pending';
          const retry = run && run.attempt > run.firstAttempt ? ` (attempt ${run.attempt - run.firstAttempt + 1})` : '';
          const recorded = (run?.output as { dryRun?: boolean } | undefined)?.dryRun === true ? ' (dry run: recorded, not run)' : '';
          return `${ICON[status]} ${node.title ?? node.id} — ${describeStepStatus(status)}${retry}${recorded}`;
        }),
      },
    ],
    // While it runs it can be stopped; once ended the button goes, so it cannot be pressed twice.
    ...(workflow.status === 'running'
      ? { actions: [{ actionId: CANCEL_WORKFLOW_ACTION, label: 'Cancel workflow', value: workflow.workflowId, style: 'danger' as const }] }
      : {}),
    footer: `workflow ${workflow.workflowId} · started by ${workflow.requestedBy}`,
  };
}

export function approvalGateReply(workflow: Workflow, stepId: string): ReplyDocument {
  const node = stepNodes(workflow.definition.machine).find((n) => n.id === stepId);
  const run = workflow.steps[stepId];
  const gate = run?.approval;
  // A cost gate (AG5) sits on a task step: what it asks is the spend, not the step.
  const cost = gate?.cost;
  const title = cost ? `spend ${formatUsd(cost.amountUsd)} over the budget cap on "${node?.title ?? stepId}"` : (node?.title ?? stepId);
  const open = run?.status === 'awaitingApproval' && workflow.status === 'running';
  const approved = run?.status === 'approved' || (cost !== undefined && !open && gate!.grantedBy.length >= gate!.quorum);
  const who = gate && gate.approvers.length > 0 ? gate.approvers.join(', ') : 'anyone in this workspace';
  const rules = [
    ...(cost ? [`Why: ${cost.reason}`] : []),
    `Approvers: ${who}${gate && gate.quorum > 1 ? ` (${gate.quorum} distinct approvals needed)` : ''}`,
    ...(gate && !gate.requesterMayApprove ? [`${workflow.requestedBy} asked for this workflow and cannot approve it alone.`] : []),
    ...(gate && gate.grantedBy.length > 0 ? [`Approved so far by: ${gate.grantedBy.join(', ')}`] : []),
  ];
  const value = gateActionValue(workflow.workflowId, stepId, run?.visit ?? 1);
  return {
    title: `Approval needed: ${excerpt(title, 120)}`,
    tone: open ? 'warning' : approved ? 'success' : 'failure',
    summary: approved && cost ? `Approved by ${gate!.grantedBy.join(', ')}.` : gateDecision(workflow, stepId),
    sections: [{ lines: rules }],
    ...(open
      ? {
          actions: [
            { actionId: APPROVE_GATE_ACTION, label: 'Approve', value, style: 'primary' as const },
            { actionId: REJECT_GATE_ACTION, label: 'Reject', value, style: 'danger' as const },
          ],
        }
      : {}),
    footer: `workflow ${workflow.workflowId} · step ${stepId}${gate ? ` · times out at ${gate.dueAt}` : ''}`,
  };
}

function gateDecision(workflow: Workflow, stepId: string): string {
  const run = workflow.steps[stepId];
  const gate = run?.approval;
  return match(run?.status)
    .with('awaitingApproval', () =>
      workflow.status === 'running'
        ? `Press Approve or Reject, or type APPROVE in this thread. It times out at ${gate?.dueAt ?? '?'}.`
        : `Not decided: the workflow ${ended(workflow)}.`,
    )
    .with('approved', () => `Approved by ${gate?.grantedBy.join(', ') || 'someone'}.`)
    .with('rejected', () => `Rejected by ${gate?.rejectedBy ?? 'someone'}.`)
    .with('timedOut', () => `Nobody decided by ${gate?.dueAt ?? 'the due time'}: timed out.`)
    .otherwise(() => `This gate is ${run?.status ?? 'not reached yet'}.`);
}

export function workflowEndReply(workflow: Workflow): ReplyDocument {
  const took = workflow.finishedAt ? Date.parse(workflow.finishedAt) - Date.parse(workflow.startedAt) : undefined;
  const reason = workflow.failure
    ? `${workflow.failure.reason}${workflow.failure.stepId ? ` (step ${workflow.failure.stepId})` : ''}`
    : workflow.cancellation
      ? `cancelled by ${workflow.cancellation.requestedBy}: ${workflow.cancellation.reason}`
      : undefined;
  return {
    title: `Workflow ${ended(workflow)}: ${excerpt(workflow.definition.name, 120)}`,
    tone: toneOf(workflow),
    summary: reason ?? `Every step that was to run ran${workflow.dryRun ? ' (dry run)' : ''}.`,
    fields: [
      ...(took !== undefined && Number.isFinite(took) ? [{ label: 'Took', value: formatDuration(took) }] : []),
      {
        label: 'Steps',
        value: stepNodes(workflow.definition.machine)
          .map((n) => `${n.id} ${describeStepStatus(workflow.steps[n.id]?.status ?? 'pending')}`)
          .join(', '),
      },
    ],
    footer: `workflow ${workflow.workflowId} · replay it with: orch replay workflow-${workflow.workflowId}`,
  };
}

/** Sent once, a while before an undecided gate times out: the approvers, by name. */
export function approvalReminderReply(workflow: Workflow, reminder: { stepId: string; approvers: readonly string[]; dueAt: string }): ReplyDocument {
  const node = stepNodes(workflow.definition.machine).find((n) => n.id === reminder.stepId);
  return {
    title: `Reminder: approval needed for ${excerpt(node?.title ?? reminder.stepId, 120)}`,
    tone: 'warning',
    summary: `Nobody has decided yet. Without a decision the workflow fails at ${reminder.dueAt}. The buttons are on the approval message above.`,
    ...(reminder.approvers.length > 0 ? { mentions: reminder.approvers } : {}),
    footer: `workflow ${workflow.workflowId} · step ${reminder.stepId}`,
  };
}

import { stepNodes } from '../domain/workflow/machine-index.ts';
import {
  describeStepStatus,
  describeWorkflowStatus,
  isActive,
  type Registry,
  type StepNode,
  type StepRun,
  type Workflow,
  type WorkflowDefinitionInput,
  type WorkflowTemplate,
} from '../domain/workflow/index.ts';

// What `/workflow list` and `/workflow status` say, as plain text every front end can show:
// Slack renders it as it is, the console prints it.

/** Plain text has no buttons: say where an unknown outcome is decided. */
const WHERE_TO_DECIDE = ' (Re-run, Mark as done or Fail in its thread)';

/** The task types a template's steps run, each once, in the order they first appear. */
export function templateTaskTypes(definition: WorkflowDefinitionInput): string[] {
  const inTree = (node: StepNode): string[] => {
    switch (node.type) {
      case 'task':
        return [node.taskType];
      case 'sequence':
        return node.steps.flatMap(inTree);
      case 'parallel':
        return node.branches.flatMap(inTree);
      case 'conditional':
        return [...inTree(node.then), ...(node.else ? inTree(node.else) : [])];
      default:
        return [];
    }
  };
  const all = definition.form === 'stepTree' ? inTree(definition.root) : definition.states.flatMap((state) => (state.type === 'task' ? [state.taskType] : []));
  return [...new Set(all)];
}

const describeDefault = (value: string | readonly string[]): string =>
  typeof value === 'string' ? `default "${value}"` : value.length === 0 ? 'default none' : `default ${value.join(',')}`;

export function describeTemplates(templates: readonly WorkflowTemplate[], registry: Registry): string {
  const lines = ['Workflow templates (start one with /workflow start <template> key=value ...):'];
  for (const template of templates) {
    lines.push(`• ${template.id} — ${template.title}: ${template.description}`);
    for (const [name, parameter] of Object.entries(template.parameters)) {
      const kind = [parameter.list ? 'list, comma-separated' : undefined, parameter.default === undefined ? 'required' : describeDefault(parameter.default)]
        .filter(Boolean)
        .join('; ');
      lines.push(`    ${name} (${kind}): ${parameter.description}`);
    }
    const missing = templateTaskTypes(template.definition).filter((taskType) => !registry.taskTypes.includes(taskType));
    lines.push(
      missing.length === 0
        ? '    Runs here.'
        : `    Cannot run here yet: needs task type${missing.length === 1 ? '' : 's'} ${missing.join(', ')} which no worker runs yet.`,
    );
  }
  return lines.join('\n');
}

function describeStep(id: string, title: string | undefined, run: StepRun | undefined, workflowRunning: boolean): string {
  const name = title ? `${id} (${title})` : id;
  if (!run) return `• ${name}: ${describeStepStatus('pending')}`;
  // A workflow that ends early leaves its waiting steps as they were; say they were left.
  const left = !workflowRunning && isActive(run) ? ' when the workflow ended' : '';
  const details = [
    run.attempt > 0 ? `attempt ${run.attempt}` : undefined,
    run.visit > 1 ? `visit ${run.visit}` : undefined,
    run.status === 'retryScheduled' && run.retryDueAt ? `due at ${run.retryDueAt}` : undefined,
    run.status === 'outcomeUnknown' && run.taskId ? `task ${run.taskId}` : undefined,
    run.status === 'failed' && run.error ? `${run.error.code}: ${run.error.message}` : undefined,
    wouldRun(run.output),
  ].filter(Boolean);
  return `• ${name}: ${describeStepStatus(run.status)}${run.status === 'outcomeUnknown' ? WHERE_TO_DECIDE : ''}${left}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}

/** A dry run's report of a side-effecting step it recorded instead of running. */
function wouldRun(output: unknown): string | undefined {
  const recorded = output as { dryRun?: boolean; wouldRun?: { taskType?: string; params?: unknown } } | undefined;
  if (recorded?.dryRun !== true || !recorded.wouldRun) return undefined;
  const params = JSON.stringify(recorded.wouldRun.params ?? {});
  return `dry run: would have run ${recorded.wouldRun.taskType ?? '?'} with ${params.length > 300 ? `${params.slice(0, 299)}…` : params}`;
}

function describeApproval(run: StepRun, title: string | undefined): string | undefined {
  const approval = run.approval;
  if (run.status !== 'awaitingApproval' || !approval) return undefined;
  const granted = approval.grantedBy.length > 0 ? ` (by ${approval.grantedBy.join(', ')})` : '';
  const who = approval.approvers.length > 0 ? approval.approvers.join(', ') : 'anyone';
  const notAlone = approval.requesterMayApprove ? '' : ', not the requester alone';
  return `• ${run.stepId}${title ? ` (${title})` : ''}: ${approval.grantedBy.length} of ${approval.quorum} granted${granted}; approvers: ${who}${notAlone}; due at ${approval.dueAt}`;
}

export function describeWorkflow(workflow: Workflow): string {
  const steps = stepNodes(workflow.definition.machine);
  const running = workflow.status === 'running';
  const approvals = steps.flatMap((node) => {
    const run = workflow.steps[node.id];
    const line = running && run && describeApproval(run, node.title);
    return line ? [line] : [];
  });
  return [
    `Workflow ${workflow.workflowId} — ${workflow.definition.name}: ${describeWorkflowStatus(workflow.status)}${workflow.dryRun ? ' (dry run)' : ''}`,
    `Started by ${workflow.requestedBy} at ${workflow.startedAt}; ${running ? `times out at ${workflow.timesOutAt}` : `finished at ${workflow.finishedAt ?? 'an unrecorded time'}`}.`,
    ...(workflow.failure ? [`Failed (${workflow.failure.cause}): ${workflow.failure.reason}`] : []),
    ...(workflow.cancellation ? [`Cancelled by ${workflow.cancellation.requestedBy}: ${workflow.cancellation.reason}`] : []),
    'Steps:',
    ...steps.map((node) => describeStep(node.id, node.title, workflow.steps[node.id], running)),
    approvals.length > 0 ? 'Pending approvals:' : 'Pending approvals: none.',
    ...approvals,
  ].join('\n');
}

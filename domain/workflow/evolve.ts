import { match } from 'ts-pattern';
import type { WorkflowEvent, WorkflowEventData } from './events.ts';
import type { StepRun, Workflow, WorkflowState } from './state.ts';

export const evolve = (state: WorkflowState, event: WorkflowEvent): WorkflowState =>
  event.type === 'WorkflowStarted' ? startedWorkflow(event.data) : state.status === 'none' ? state : apply(state, event);

/** Events other than WorkflowStarted change a workflow that exists; the decider's walk uses this directly. */
export const apply = (workflow: Workflow, event: WorkflowEvent): Workflow =>
  match(event)
    .with({ type: 'WorkflowStarted' }, () => workflow)
    .with({ type: 'StepScheduled' }, ({ data }) =>
      setStep(workflow, data.stepId, (run) => ({
        ...base(run, data.stepId),
        status: 'scheduled',
        visit: data.visit,
        attempt: data.attempt,
        firstAttempt: data.attempt,
        taskId: data.taskId,
        params: data.params,
        output: undefined,
        error: undefined,
        timesOutAt: undefined,
        retryDueAt: undefined,
      })),
    )
    .with({ type: 'StepStarted' }, ({ data }) =>
      setStep(workflow, data.stepId, (run) => ({ ...base(run, data.stepId), status: 'running', timesOutAt: data.timesOutAt, retryDueAt: undefined })),
    )
    .with({ type: 'StepCompleted' }, ({ data }) =>
      setStep(workflow, data.stepId, (run) => ({
        ...ended(run, data.stepId, data.attempt, 'completed'),
        status: 'completed',
        output: data.output,
        timesOutAt: undefined,
      })),
    )
    .with({ type: 'StepFailed' }, ({ data }) =>
      setStep(workflow, data.stepId, (run) => ({
        ...ended(run, data.stepId, data.attempt, 'failed'),
        ...(data.final && { status: 'failed' as const }),
        error: data.error,
        timesOutAt: undefined,
      })),
    )
    .with({ type: 'StepOutcomeUnknown' }, ({ data }) =>
      setStep(workflow, data.stepId, (run) => ({ ...base(run, data.stepId), status: 'outcomeUnknown', timesOutAt: undefined })),
    )
    .with({ type: 'StepRetryScheduled' }, ({ data }) =>
      setStep(workflow, data.stepId, (run) => ({
        ...base(run, data.stepId),
        status: 'retryScheduled',
        attempt: data.attempt,
        taskId: data.taskId,
        retryDueAt: data.dueAt,
      })),
    )
    .with({ type: 'StepCostApproved' }, ({ data }) => setStep(workflow, data.stepId, (run) => ({ ...base(run, data.stepId), status: 'scheduled' })))
    .with({ type: 'StepSkipped' }, ({ data }) => setStep(workflow, data.stepId, (run) => ({ ...base(run, data.stepId), status: 'skipped' })))
    .with({ type: 'BranchTaken' }, () => workflow)
    .with({ type: 'ApprovalRequested' }, ({ data }) =>
      setStep(workflow, data.stepId, (run) => ({
        ...base(run, data.stepId),
        status: 'awaitingApproval',
        visit: data.visit,
        approval: {
          approvers: data.approvers,
          quorum: data.quorum,
          requesterMayApprove: data.requesterMayApprove,
          dueAt: data.dueAt,
          ...(data.remindAt !== undefined && { remindAt: data.remindAt }),
          grantedBy: [],
          ...(data.cost !== undefined && { cost: data.cost }),
        },
      })),
    )
    .with({ type: 'ApprovalGranted' }, ({ data }) =>
      onApproval(workflow, data.stepId, (run, approval) => ({
        ...run,
        ...(data.approved && { status: 'approved' as const }),
        approval: { ...approval, grantedBy: data.grantedBy },
      })),
    )
    .with({ type: 'ApprovalRejected' }, ({ data }) =>
      onApproval(workflow, data.stepId, (run, approval) => ({ ...run, status: 'rejected', approval: { ...approval, rejectedBy: data.approver } })),
    )
    .with({ type: 'ApprovalTimedOut' }, ({ data }) => onApproval(workflow, data.stepId, (run) => ({ ...run, status: 'timedOut' })))
    .with({ type: 'ApprovalReminderDue' }, ({ data }) =>
      onApproval(workflow, data.stepId, (run) => (run.approval ? { ...run, approval: { ...run.approval, reminded: true } } : run)),
    )
    .with({ type: 'WorkflowCompleted' }, ({ data }): Workflow => ({ ...workflow, status: 'completed', finishedAt: data.at }))
    .with({ type: 'WorkflowFailed' }, ({ data }): Workflow => ({
      ...workflow,
      status: 'failed',
      finishedAt: data.at,
      failure: { cause: data.cause, reason: data.reason, ...(data.stepId !== undefined && { stepId: data.stepId }) },
    }))
    .with({ type: 'WorkflowCancelled' }, ({ data }): Workflow => ({
      ...workflow,
      status: 'cancelled',
      finishedAt: data.at,
      cancellation: { reason: data.reason, requestedBy: data.requestedBy },
    }))
    .with({ type: 'WorkflowTimedOut' }, ({ data }): Workflow => ({ ...workflow, status: 'timedOut', finishedAt: data.at }))
    .exhaustive();

export const startedWorkflow = ({
  at,
  definition,
  inputs,
  requestedBy,
  dryRun,
  maxExecutionMs,
  timesOutAt,
  conversationId,
  workflowId,
}: WorkflowEventData<'WorkflowStarted'>): Workflow => ({
  status: 'running',
  workflowId,
  definition,
  inputs,
  requestedBy,
  dryRun,
  maxExecutionMs,
  startedAt: at,
  timesOutAt,
  ...(conversationId !== undefined && { conversationId }),
  steps: {},
});

/** A step seen for the first time starts from nothing; later visits keep its attempt count and history. */
const base = (run: StepRun | undefined, stepId: string): StepRun => run ?? { stepId, status: 'skipped', visit: 0, attempt: 0, firstAttempt: 0, outcomes: [] };

const ended = (run: StepRun | undefined, stepId: string, attempt: number, outcome: 'completed' | 'failed'): StepRun => {
  const current = base(run, stepId);
  return { ...current, outcomes: [...current.outcomes, { attempt, outcome }] };
};

const setStep = (workflow: Workflow, stepId: string, change: (run: StepRun | undefined) => StepRun): Workflow => ({
  ...workflow,
  steps: { ...workflow.steps, [stepId]: change(workflow.steps[stepId]) },
});

const onApproval = (workflow: Workflow, stepId: string, change: (run: StepRun, approval: NonNullable<StepRun['approval']>) => StepRun): Workflow => {
  const run = workflow.steps[stepId];
  return run?.approval ? setStep(workflow, stepId, () => change(run, run.approval!)) : workflow;
};

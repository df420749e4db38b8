import type { CommandCategory, CommandDataOf, CommandTypeOf } from '../domain/commands/catalog.ts';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { isLeft, type Either } from 'fp-ts/lib/Either.js';
import {
  gateApprovers,
  gateKindOf,
  mayApprove,
  mayCancel,
  mayStart,
  planWorkSteps,
  strictestGateKind,
  type ClassifyTask,
  type Policy,
  type PolicyDecision,
  type PolicyRefusal,
} from '../domain/policy/index.ts';
import { alreadyDecidedAnswer, type OutcomeResolution } from '../domain/replies/unknown-outcome-reply.ts';
import type { AggregateStateClient } from './runtime/aggregate-state-client.ts';
import type { CommandClient } from './runtime/command-client.ts';
import { accepted, describeReply } from './runtime/command-replies.ts';
import { mayResolveOutcome, type OutcomeDeciders } from './unknown-outcome-rules.ts';
import { unknownOutcomeOf } from './unknown-outcomes.ts';

// People deciding (IF3): "Run this plan" / Reject on a plan preview, Approve / Reject on a
// workflow's gate, or APPROVE / REJECT typed in the thread, which decides whatever in that
// thread is waiting. The deciders enforce who may decide (named approvers, quorum, the
// requester not approving alone); this desk turns their refusals into an answer for the one
// who clicked, and leaves redrawing the message to the thread notifier. Unknown outcomes of
// side-effecting tasks (Re-run / Mark as done / Fail, or RERUN / DONE / FAIL typed in the
// console) are checked here against the gates' rule before the task is told.

export type Decision = 'approve' | 'reject';
/** What can be typed alone in a thread: CANCEL rejects a waiting plan or stops the running workflow. */
export type TypedDecision = Decision | 'cancel';

/** APPROVE, REJECT or CANCEL typed alone in a thread (any case, optional "!" or "."). */
export function typedDecision(text: string): TypedDecision | undefined {
  const word = text
    .trim()
    .replace(/[.!]+$/, '')
    .toUpperCase();
  return word === 'APPROVE' ? 'approve' : word === 'REJECT' ? 'reject' : word === 'CANCEL' ? 'cancel' : undefined;
}

export interface DecisionDeskOptions {
  readonly commands: CommandClient;
  /** The current state of the plan, workflow or conversation a decision is about, from its aggregate host. */
  readonly states: AggregateStateClient;
  readonly logger: Logger;
  /** Who may decide an unknown outcome; anyone when not given. */
  readonly outcomeDeciders?: OutcomeDeciders;
  /** Who may approve which kind of gate and cancel what; the deciders' own rules apply besides. */
  readonly policy?: { readonly rules: Policy; readonly classify: ClassifyTask };
}

const notAuthorized = (refused: PolicyRefusal): string => `You may not do that: ${refused.message}.`;

/** What the policy said: refused, or allowed under a rule (none when no policy applies). */
type Verdict = { readonly refused: PolicyRefusal } | { readonly rule?: string };
const verdictOf = (may: Either<PolicyRefusal, PolicyDecision> | undefined): Verdict =>
  may === undefined ? {} : isLeft(may) ? { refused: may.left } : { rule: may.right.rule };

export class DecisionDesk {
  constructor(private readonly options: DecisionDeskOptions) {}

  async decidePlan(planId: string, user: string, decision: Decision, via: 'button' | 'typed'): Promise<string> {
    const verdict = decision === 'approve' ? await this.planVerdict(planId, user) : {};
    if ('refused' in verdict) return notAuthorized(verdict.refused);
    const reply =
      decision === 'approve'
        ? await this.send('plan', planId, user, 'ApprovePlan', { via }, verdict.rule)
        : await this.send('plan', planId, user, 'RejectPlan', { reason: `rejected by ${user}` });
    if (accepted(reply)) {
      if (reply.events === 0) return 'You already decided on this plan.';
      return decision === 'approve' ? 'Running the plan.' : 'The plan is set aside; nothing ran.';
    }
    if (reply.status === 'rejected' && reply.code === 'RequesterCannotApprove')
      return `You asked for this plan, so someone else has to run it: ${reply.message}.`;
    return `That did not work: ${describeReply(reply)}`;
  }

  async decideGate(workflowId: string, stepId: string, visit: number, user: string, decision: Decision): Promise<string> {
    const verdict = await this.gateVerdict(workflowId, stepId, user);
    if ('refused' in verdict) return notAuthorized(verdict.refused);
    const reply =
      decision === 'approve'
        ? await this.send('workflow', workflowId, user, 'GrantApproval', { stepId, visit }, verdict.rule)
        : await this.send('workflow', workflowId, user, 'RejectApproval', { stepId, visit, reason: `rejected by ${user}` }, verdict.rule);
    if (accepted(reply)) {
      if (reply.events === 0) return 'Your decision was already recorded.';
      return decision === 'approve' ? `Approved "${stepId}".` : `Rejected "${stepId}"; the workflow stops there.`;
    }
    if (reply.status === 'rejected' && reply.code === 'RequesterCannotApprove')
      return `You asked for this workflow, so you cannot approve it alone: ${reply.message}.`;
    if (reply.status === 'rejected' && reply.code === 'NotAnApprover') return `You are not one of this gate's approvers: ${reply.message}.`;
    if (reply.status === 'rejected' && reply.code === 'ApprovalAlreadyDecided') return `This gate was already decided: ${reply.message}.`;
    return `That did not work: ${describeReply(reply)}`;
  }

  /** The Cancel button on a workflow's status message, or CANCEL typed in its thread. */
  async cancelWorkflow(workflowId: string, user: string): Promise<string> {
    const policy = this.options.policy;
    let verdict: Verdict = {};
    if (policy) {
      const workflow = await this.options.states.read('workflow', workflowId);
      verdict = verdictOf(
        workflow.status === 'none'
          ? undefined
          : mayCancel(policy.rules, user, { requestedBy: workflow.requestedBy, approvers: gateApprovers(workflow.definition) }),
      );
      if ('refused' in verdict) return notAuthorized(verdict.refused);
    }
    const reply = await this.send('workflow', workflowId, user, 'CancelWorkflow', { reason: `cancelled by ${user}` }, verdict.rule);
    if (accepted(reply)) return reply.events === 0 ? 'The workflow was already cancelled.' : 'Cancelling the workflow; running steps are stopped.';
    if (reply.status === 'rejected' && reply.code === 'WorkflowAlreadyFinished') return `Nothing to cancel: ${reply.message}.`;
    return `That did not work: ${describeReply(reply)}`;
  }

  /** Re-run / Mark as done / Fail on an unknown outcome's message: `attempt` is the one the message is about. */
  async resolveOutcome(taskId: string, attempt: number, user: string, resolution: OutcomeResolution): Promise<string> {
    const { states } = this.options;
    const task = await states.read('task', taskId);
    const shown = task.status === 'none' ? undefined : unknownOutcomeOf(task, attempt);
    if (task.status === 'none' || !shown) return `Task ${taskId} has no unknown outcome at attempt ${attempt} to decide.`;
    if (!shown.open) return shown.decision ? alreadyDecidedAnswer(shown.decision) : `Not decided: ${shown.endedUndecided ?? 'it is no longer waiting'}.`;
    const refusal = mayResolveOutcome(this.options.outcomeDeciders ?? { requesterMayApprove: true }, { user, requestedBy: task.requestedBy, resolution });
    if (refusal?.code === 'NotAnApprover') return `You are not one of the approvers: ${refusal.message}.`;
    if (refusal) return `You cannot decide this alone: ${refusal.message}.`;
    const reply = await this.send('task', taskId, user, 'ResolveTaskOutcome', { resolution, via: 'person' });
    if (accepted(reply) && reply.events > 0) {
      if (resolution === 'rerun') return `Running ${task.taskType} again (attempt ${attempt + 1}).`;
      return resolution === 'completed' ? `Marked as done: task ${taskId} is completed.` : `Marked as failed: task ${taskId} has failed.`;
    }
    // Someone else decided first (the same way: nothing recorded; or another way: refused).
    if (accepted(reply) || (reply.status === 'rejected' && reply.code === 'OutcomeAlreadyKnown')) {
      const now = await states.read('task', taskId);
      const decided = now.status === 'none' ? undefined : unknownOutcomeOf(now, attempt);
      return alreadyDecidedAnswer(decided && !decided.open ? decided.decision : undefined);
    }
    return `That did not work: ${describeReply(reply)}`;
  }

  /**
   * APPROVE / REJECT / CANCEL typed in a thread: the thread's plan while it waits for "Run this
   * plan" (CANCEL rejects it), else its running workflow: the one gate it waits at, or, for
   * CANCEL, the workflow itself. Undefined when nothing there waits for a decision.
   */
  async decideTyped(conversationId: string, user: string, typed: TypedDecision): Promise<string | undefined> {
    const decision: Decision = typed === 'approve' ? 'approve' : 'reject';
    const { states } = this.options;
    const conversation = await states.read('conversation', conversationId);
    if (conversation.status === 'none') return undefined;
    const { lastPlanId, lastWorkflowId } = conversation.context;
    if (typeof lastPlanId === 'string') {
      const plan = await states.read('plan', lastPlanId);
      if (plan.status === 'proposed' && plan.approval.required) return this.decidePlan(lastPlanId, user, decision, 'typed');
    }
    if (typeof lastWorkflowId === 'string') {
      const workflow = await states.read('workflow', lastWorkflowId);
      if (workflow.status !== 'running') return undefined;
      if (typed === 'cancel') return this.cancelWorkflow(lastWorkflowId, user);
      const open = Object.values(workflow.steps).filter((run) => run.status === 'awaitingApproval');
      if (open.length > 1) return `Several gates are waiting (${open.map((r) => r.stepId).join(', ')}); use the buttons on the one you mean.`;
      const [gate] = open;
      if (gate) return this.decideGate(lastWorkflowId, gate.stepId, gate.visit, user, decision);
    }
    return undefined;
  }

  /** "Run this plan": the policy's approvers for the kind of work it does, and the requester's right to start it. */
  private async planVerdict(planId: string, user: string): Promise<Verdict> {
    const policy = this.options.policy;
    if (!policy) return {};
    const plan = await this.options.states.read('plan', planId);
    if (plan.status === 'none') return {};
    const steps = planWorkSteps(plan.plan, policy.classify);
    const started = mayStart(policy.rules, { actor: plan.requestedBy, steps });
    if (isLeft(started)) return { refused: started.left };
    const kind = strictestGateKind(steps.map((s) => s.sideEffect));
    return kind === undefined ? { rule: started.right.rule } : verdictOf(mayApprove(policy.rules, user, kind));
  }

  /** A gate's decision: the policy's approvers for the kind of work the gate guards. */
  private async gateVerdict(workflowId: string, stepId: string, user: string): Promise<Verdict> {
    const policy = this.options.policy;
    if (!policy) return {};
    const workflow = await this.options.states.read('workflow', workflowId);
    if (workflow.status === 'none') return {};
    // A task step waiting for spend over a cap (AG5) is a cost gate, whatever the step does.
    const kind = workflow.steps[stepId]?.approval?.cost ? 'cost' : gateKindOf(workflow.definition, stepId, policy.classify);
    return verdictOf(kind === undefined ? undefined : mayApprove(policy.rules, user, kind));
  }

  /**
   * One id per click, retried under it while no host answers (a restart, a broker outage), for as
   * long as the person can be expected to wait for an answer.
   */
  private send<C extends CommandCategory, T extends CommandTypeOf<C>>(
    category: C,
    id: string,
    user: string,
    type: T,
    data: CommandDataOf<C, T>,
    authorization?: string,
  ) {
    return this.options.commands.sendUntilAnswered(
      { category, id },
      { commandId: randomUUID(), type, actor: user, data, ...(authorization !== undefined && { authorization }) },
      { signal: AbortSignal.timeout(30_000) },
    );
  }
}

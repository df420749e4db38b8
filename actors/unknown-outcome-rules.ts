import type { OutcomeResolution } from '../domain/replies/unknown-outcome-reply.ts';

// Who may decide an unknown outcome: the same rule as approval gates (WORKFLOW_APPROVERS,
// WORKFLOW_REQUESTER_MAY_APPROVE), since saying "it ran" or "run it again" lets a side effect
// stand or happen again. Named approvers only, when there are any; and where the requester
// may not approve alone, they may not mark their own task as done or run it again either
// (failing it is always allowed: it changes nothing outside). The requester is not held back
// when nobody else could decide at all.

export interface OutcomeDeciders {
  /** Chat user ids; anyone in the thread when absent or empty. */
  readonly approvers?: readonly string[];
  readonly requesterMayApprove: boolean;
}

export type OutcomeRefusal = { readonly code: 'NotAnApprover' | 'RequesterCannotDecide'; readonly message: string };

export function mayResolveOutcome(
  rules: OutcomeDeciders,
  request: { readonly user: string; readonly requestedBy: string; readonly resolution: OutcomeResolution },
): OutcomeRefusal | undefined {
  const approvers = rules.approvers ?? [];
  if (approvers.length > 0 && !approvers.includes(request.user)) {
    return { code: 'NotAnApprover', message: `only ${approvers.join(', ')} may decide this` };
  }
  const someoneElse = approvers.length === 0 || approvers.some((a) => a !== request.requestedBy);
  if (request.resolution !== 'failed' && request.user === request.requestedBy && !rules.requesterMayApprove && someoneElse) {
    return { code: 'RequesterCannotDecide', message: 'you asked for this task, so someone else has to say that it ran or that it runs again' };
  }
  return undefined;
}

import { describe, expect, it } from 'vitest';
import { mayResolveOutcome } from '../../actors/unknown-outcome-rules.ts';

// Who may decide an unknown outcome: the approval gates' rule (WORKFLOW_APPROVERS,
// WORKFLOW_REQUESTER_MAY_APPROVE) applied to one person deciding.

describe('mayResolveOutcome', () => {
  const requestedBy = 'U0ALICE';

  it('lets anyone decide when no approvers are named and the requester may approve', () => {
    expect(mayResolveOutcome({ requesterMayApprove: true }, { user: requestedBy, requestedBy, resolution: 'completed' })).toBeUndefined();
    expect(mayResolveOutcome({ requesterMayApprove: true }, { user: 'U0CAROL', requestedBy, resolution: 'rerun' })).toBeUndefined();
  });

  it('refuses someone who is not a named approver, whatever they decide', () => {
    for (const resolution of ['rerun', 'completed', 'failed'] as const) {
      expect(mayResolveOutcome({ approvers: ['U0BOB'], requesterMayApprove: true }, { user: 'U0CAROL', requestedBy, resolution })?.code).toBe('NotAnApprover');
    }
    expect(mayResolveOutcome({ approvers: ['U0BOB'], requesterMayApprove: true }, { user: 'U0BOB', requestedBy, resolution: 'completed' })).toBeUndefined();
  });

  it('does not let the requester alone say it ran or run it again, when the rule says so; failing it is allowed', () => {
    const rules = { approvers: [requestedBy, 'U0BOB'], requesterMayApprove: false };
    expect(mayResolveOutcome(rules, { user: requestedBy, requestedBy, resolution: 'completed' })?.code).toBe('RequesterCannotDecide');
    expect(mayResolveOutcome(rules, { user: requestedBy, requestedBy, resolution: 'rerun' })?.code).toBe('RequesterCannotDecide');
    expect(mayResolveOutcome(rules, { user: requestedBy, requestedBy, resolution: 'failed' })).toBeUndefined();
    expect(mayResolveOutcome(rules, { user: 'U0BOB', requestedBy, resolution: 'completed' })).toBeUndefined();
    expect(mayResolveOutcome({ requesterMayApprove: false }, { user: requestedBy, requestedBy, resolution: 'completed' })?.code).toBe('RequesterCannotDecide');
  });

  it('lets the requester decide when they are the only approver: nobody else could', () => {
    expect(
      mayResolveOutcome({ approvers: [requestedBy], requesterMayApprove: false }, { user: requestedBy, requestedBy, resolution: 'completed' }),
    ).toBeUndefined();
  });
});

import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import {
  parsePlanCommand,
  planDecider,
  type ApprovalPolicy,
  type PlanCommand,
  type PlanCommandOf,
  type PlanEvent,
  type PlanEventData,
  type PlanEventOf,
} from '../../domain/plan/index.ts';
import { specFor } from '../support/decider-spec.ts';
import { statusPlan, testsThenDeploy } from '../support/plan-fixtures.ts';

const { given } = specFor(planDecider);

// ── fixtures ────────────────────────────────────────────────────────────────
const planId = 'P1';
const at = '2026-11-21T10:00:00.000Z';
const requester = 'U_REQ';
const lead = 'U_LEAD';

const event = <K extends PlanEvent['type']>(type: K, data: Omit<PlanEventData<K>, 'planId' | 'at'>): PlanEventOf<K> =>
  ({ type, data: { planId, ...data, at } }) as PlanEventOf<K>;
const command = <K extends PlanCommand['type']>(type: K, fields: Omit<PlanCommandOf<K>, 'type' | 'planId' | 'at'>): PlanCommandOf<K> =>
  ({ type, planId, at, ...fields }) as PlanCommandOf<K>;

const needsApproval: ApprovalPolicy = {
  required: true,
  reasons: ['step deploy runs sf-deploy, which changes things outside (side effects)'],
  requesterMayApprove: true,
};
const noApproval: ApprovalPolicy = { required: false, reasons: [], requesterMayApprove: true };
const someoneElse: ApprovalPolicy = { ...needsApproval, requesterMayApprove: false };
const namedApprovers: ApprovalPolicy = { ...needsApproval, approvers: [lead] };

const spend = { model: 'claude-opus-4-5', usage: { inputTokens: 1_200, outputTokens: 800 }, costUsd: 0.026 };
const proposal = (approval: ApprovalPolicy = needsApproval) => ({
  conversationId: 'C1-1732183200_000100',
  requestedBy: requester,
  request: 'deploy my changes, test everything first',
  plan: testsThenDeploy(),
  ...spend,
  approval,
});
const amendment = { plan: testsThenDeploy('acme/api'), reason: 'only the api package', amendedBy: requester, ...spend, approval: needsApproval };

const proposed = (approval?: ApprovalPolicy) => event('PlanProposed', { ...proposal(approval), revision: 1 });
const amended = (revision = 2) => event('PlanAmended', { ...amendment, revision });
const approved = (approver = requester, revision = 1, via: 'button' | 'typed' = 'button') => event('PlanApproved', { revision, approver, via });
const rejected = (rejectedBy = requester, revision = 1) => event('PlanRejected', { revision, rejectedBy, reason: 'not today' });
const compiled = (workflowId = 'W1', revision = 1) => event('PlanCompiled', { revision, workflowId });

const proposePlan = (approval?: ApprovalPolicy) => command('ProposePlan', proposal(approval));
const amendPlan = () => command('AmendPlan', amendment);
const approvePlan = (approver = requester, revision?: number, via: 'button' | 'typed' = 'button') =>
  command('ApprovePlan', { approver, via, ...(revision !== undefined && { revision }) });
const rejectPlan = (rejectedBy = requester, revision?: number) =>
  command('RejectPlan', { rejectedBy, reason: 'not today', ...(revision !== undefined && { revision }) });
const recordCompiled = (workflowId = 'W1') => command('RecordPlanCompiled', { workflowId });

// ── rules ───────────────────────────────────────────────────────────────────
describe('ProposePlan', () => {
  it('records the request, the plan, the model and its cost as revision 1', () => given().when(proposePlan()).then(proposed()));
  it('refuses a plan id that was already proposed', () => given(proposed()).when(proposePlan()).thenRejects('PlanAlreadyProposed'));
});

describe('AmendPlan', () => {
  it('records a new revision while the plan waits', () => given(proposed()).when(amendPlan()).then(amended(2)));
  it('counts revisions on', () => given(proposed(), amended(2)).when(amendPlan()).then(amended(3)));
  it('refuses an unknown plan', () => given().when(amendPlan()).thenRejects('PlanNotFound'));
  it('refuses once approved', () => given(proposed(), approved()).when(amendPlan()).thenRejects('PlanAlreadyApproved'));
  it('refuses once rejected', () => given(proposed(), rejected()).when(amendPlan()).thenRejects('PlanAlreadyRejected'));
  it('refuses once compiled', () => given(proposed(noApproval), compiled()).when(amendPlan()).thenRejects('PlanAlreadyCompiled'));
});

describe('ApprovePlan', () => {
  it('the requester may approve with the button', () => given(proposed()).when(approvePlan()).then(approved()));
  it('or by typing APPROVE', () =>
    given(proposed())
      .when(approvePlan(requester, undefined, 'typed'))
      .then(approved(requester, 1, 'typed')));
  it('approves the current revision', () => given(proposed(), amended(2)).when(approvePlan(requester, 2)).then(approved(requester, 2)));
  it('refuses a decision made on an older revision', () => given(proposed(), amended(2)).when(approvePlan(requester, 1)).thenRejects('StalePlanRevision'));
  it('the same approver pressing again changes nothing', () => given(proposed(), approved()).when(approvePlan()).thenNothing());
  it('a second approver is told it is already approved', () => given(proposed(), approved()).when(approvePlan(lead)).thenRejects('PlanAlreadyApproved'));
  it('refuses the requester when policy wants someone else', () =>
    given(proposed(someoneElse)).when(approvePlan(requester)).thenRejects('RequesterCannotApprove'));
  it('lets someone else approve then', () => given(proposed(someoneElse)).when(approvePlan(lead)).then(approved(lead)));
  it('refuses a user who is not a named approver', () => given(proposed(namedApprovers)).when(approvePlan('U_OTHER')).thenRejects('NotAnApprover'));
  it('lets a named approver approve', () => given(proposed(namedApprovers)).when(approvePlan(lead)).then(approved(lead)));
  it('refuses after a rejection', () => given(proposed(), rejected()).when(approvePlan()).thenRejects('PlanAlreadyRejected'));
  it('refuses after compilation', () => given(proposed(noApproval), compiled()).when(approvePlan()).thenRejects('PlanAlreadyCompiled'));
  it('refuses an unknown plan', () => given().when(approvePlan()).thenRejects('PlanNotFound'));
});

describe('RejectPlan', () => {
  it('records who rejected it and why', () => given(proposed()).when(rejectPlan(lead)).then(rejected(lead)));
  it('the requester may withdraw their plan even when others must approve it', () =>
    given(proposed({ ...namedApprovers, requesterMayApprove: false }))
      .when(rejectPlan(requester))
      .then(rejected(requester)));
  it('refuses a user who is neither the requester nor a named approver', () =>
    given(proposed(namedApprovers)).when(rejectPlan('U_OTHER')).thenRejects('NotAnApprover'));
  it('the same rejection again changes nothing', () => given(proposed(), rejected()).when(rejectPlan()).thenNothing());
  it('refuses once approved', () => given(proposed(), approved()).when(rejectPlan()).thenRejects('PlanAlreadyApproved'));
  it('refuses a rejection made on an older revision', () => given(proposed(), amended(2)).when(rejectPlan(requester, 1)).thenRejects('StalePlanRevision'));
});

describe('RecordPlanCompiled', () => {
  it('records the workflow of an approved plan', () => given(proposed(), approved()).when(recordCompiled()).then(compiled()));
  it('compiles a plan that needs no approval straight away', () => given(proposed(noApproval)).when(recordCompiled()).then(compiled()));
  it('names the approved revision', () => given(proposed(), amended(2), approved(requester, 2)).when(recordCompiled()).then(compiled('W1', 2)));
  it('refuses a plan that waits for approval', () => given(proposed()).when(recordCompiled()).thenRejects('PlanNotApproved'));
  it('refuses a rejected plan', () => given(proposed(), rejected()).when(recordCompiled()).thenRejects('PlanAlreadyRejected'));
  it('the same workflow again changes nothing', () => given(proposed(), approved(), compiled()).when(recordCompiled()).thenNothing());
  it('refuses a second workflow', () => given(proposed(), approved(), compiled()).when(recordCompiled('W2')).thenRejects('PlanAlreadyCompiled'));
});

describe('state', () => {
  it('keeps the current revision and the cost of every revision', () => {
    const state = fold(planDecider, [proposed(), amended(2), approved(requester, 2), compiled('W1', 2)]);
    expect(state).toMatchObject({
      status: 'compiled',
      revision: 2,
      plan: amendment.plan,
      totalUsage: { inputTokens: 2_400, outputTokens: 1_600 },
      totalCostUsd: 0.052,
      approved: { approver: requester, revision: 2 },
      compiled: { workflowId: 'W1' },
    });
  });
});

describe('parsePlanCommand', () => {
  it('accepts a well-formed proposal', () => {
    expect(isRight(parsePlanCommand({ type: 'ProposePlan', planId, at, ...proposal() }))).toBe(true);
  });

  it('holds the plan inside a command to the plan schema', () => {
    const result = parsePlanCommand({ type: 'ProposePlan', planId, at, ...proposal(), plan: { ...statusPlan(), phases: [] } });
    if (!isLeft(result)) expect.fail('expected InvalidCommand');
    expect(result.left.issues).toEqual([expect.stringMatching(/^plan\.phases: /)]);
  });

  it('refuses an unknown approval channel', () => {
    expect(isLeft(parsePlanCommand({ type: 'ApprovePlan', planId, at, approver: requester, via: 'email' }))).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import { workflowDecider, type WorkflowEventData } from '../../domain/workflow/index.ts';
import { specFor } from '../support/decider-spec.ts';
import {
  command,
  compiled,
  event,
  fixturesFor,
  grant,
  minute,
  recordCompleted,
  reject,
  requester,
  stepCompleted,
  task,
  tree,
  workflowFailed,
} from './workflow-fixtures.ts';

// WF3: approval gates with a timeout (ten minutes unless set), named approvers, a quorum of
// distinct approvers, a requester who cannot approve alone where policy says so, a reminder
// before the timeout; a decided gate takes no further clicks.

const { given } = specFor(workflowDecider);

const gate = {
  type: 'approval',
  id: 'approve-deploy',
  title: 'Deploy to prod?',
  approvers: ['U1', 'U2', 'U3', requester],
  quorum: 2,
  requesterMayApprove: false,
  reminderBeforeMs: 120_000,
};
const deploy = tree(task('test'), gate, task('deploy', 'sf-deploy', { sideEffects: true }));
const d = fixturesFor(deploy);

type Requested = Partial<Omit<WorkflowEventData<'ApprovalRequested'>, 'workflowId' | 'at'>>;
const requested = (overrides: Requested = {}) =>
  event('ApprovalRequested', {
    stepId: 'approve-deploy',
    visit: 1,
    title: 'Deploy to prod?',
    approvers: ['U1', 'U2', 'U3', requester],
    quorum: 2,
    requesterMayApprove: false,
    requestedBy: requester,
    dueAt: minute(10),
    remindAt: minute(8),
    ...overrides,
  });
const granted = (approver: string, grantedBy: string[], approved: boolean, stepId = 'approve-deploy', quorum = 2) =>
  event('ApprovalGranted', { stepId, visit: 1, approver, grantedBy, quorum, approved });
const rejected = (approver: string, reason?: string) =>
  event('ApprovalRejected', { stepId: 'approve-deploy', visit: 1, approver, ...(reason !== undefined && { reason }) });
const timeOutApproval = (when: string, visit?: number) => command('TimeOutApproval', { stepId: 'approve-deploy', ...(visit !== undefined && { visit }) }, when);

const waiting = [d.started(), d.scheduled('test'), stepCompleted('test'), requested()];

describe('requesting an approval', () => {
  it('asks the named approvers once the step before completes, with its timeout and reminder due', () =>
    given(d.started(), d.scheduled('test')).when(recordCompleted('test')).then(stepCompleted('test'), requested()));

  it('times out after ten minutes unless the gate says otherwise, and lets anyone decide when no one is named', () => {
    const plain = fixturesFor(tree(task('test'), { type: 'approval', id: 'ok' }, task('deploy', 'sf-deploy')));
    given(plain.started(), plain.scheduled('test'))
      .when(recordCompleted('test'))
      .then(
        stepCompleted('test'),
        event('ApprovalRequested', { stepId: 'ok', visit: 1, approvers: [], quorum: 1, requesterMayApprove: true, requestedBy: requester, dueAt: minute(10) }),
      );
  });
});

describe('GrantApproval', () => {
  it('counts a grant below the quorum and waits for more', () =>
    given(...waiting)
      .when(grant('approve-deploy', 'U1'))
      .then(granted('U1', ['U1'], false)));
  it('goes on once distinct approvers reach the quorum', () =>
    given(...waiting, granted('U1', ['U1'], false))
      .when(grant('approve-deploy', 'U2'))
      .then(granted('U2', ['U1', 'U2'], true), d.scheduled('deploy')));
  it('counts the same approver once', () =>
    given(...waiting, granted('U1', ['U1'], false))
      .when(grant('approve-deploy', 'U1'))
      .thenNothing());
  it('refuses someone who is not a named approver', () =>
    given(...waiting)
      .when(grant('approve-deploy', 'U9'))
      .thenRejects('NotAnApprover'));
  it('lets the requester add a grant where the quorum needs someone else too', () =>
    given(...waiting)
      .when(grant('approve-deploy', requester))
      .then(granted(requester, [requester], false)));
  it('lets the requester complete a quorum someone else has started', () =>
    given(...waiting, granted('U1', ['U1'], false))
      .when(grant('approve-deploy', requester))
      .then(granted(requester, ['U1', requester], true), d.scheduled('deploy')));

  describe('with a quorum of one', () => {
    const single = (requesterMayApprove: boolean) =>
      fixturesFor(tree(task('test'), { type: 'approval', id: 'ok', requesterMayApprove }, task('deploy', 'sf-deploy')));
    const asked = (requesterMayApprove: boolean) => [
      single(requesterMayApprove).started(),
      event('ApprovalRequested', { stepId: 'ok', visit: 1, approvers: [], quorum: 1, requesterMayApprove, requestedBy: requester, dueAt: minute(10) }),
    ];

    it('refuses the requester approving alone where policy says so', () =>
      given(...asked(false))
        .when(grant('ok', requester))
        .thenRejects('RequesterCannotApprove'));
    it('lets someone else approve', () =>
      given(...asked(false))
        .when(grant('ok', 'U2'))
        .then(granted('U2', ['U2'], true, 'ok', 1), single(false).scheduled('deploy')));
    it('lets the requester approve where policy allows', () =>
      given(...asked(true))
        .when(grant('ok', requester))
        .then(granted(requester, [requester], true, 'ok', 1), single(true).scheduled('deploy')));
  });

  it('refuses a click on a gate already approved', () =>
    given(...waiting, granted('U1', ['U1'], false), granted('U2', ['U1', 'U2'], true), d.scheduled('deploy'))
      .when(grant('approve-deploy', 'U3'))
      .thenRejects('ApprovalAlreadyDecided'));
  it('refuses a click on a gate already rejected', () =>
    given(...waiting, rejected('U1'), workflowFailed({ cause: 'ApprovalRejected', stepId: 'approve-deploy', reason: 'U1 rejected "Deploy to prod?"' }))
      .when(grant('approve-deploy', 'U2'))
      .thenRejects('ApprovalAlreadyDecided'));
  it('refuses a gate not requested yet', () => given(d.started(), d.scheduled('test')).when(grant('approve-deploy', 'U1')).thenRejects('ApprovalNotRequested'));
  it('refuses a step that is not a gate', () =>
    given(...waiting)
      .when(grant('test', 'U1'))
      .thenRejects('NotAnApprovalStep'));
  it('refuses a gate the definition does not have', () =>
    given(...waiting)
      .when(grant('approve-prod', 'U1'))
      .thenRejects('UnknownStep'));
  it('refuses a workflow never started', () => given().when(grant('approve-deploy', 'U1')).thenRejects('WorkflowNotFound'));
});

describe('RejectApproval', () => {
  it('fails the workflow: what the gate guards does not happen', () =>
    given(...waiting, granted('U1', ['U1'], false))
      .when(reject('approve-deploy', 'U2', 'not during the freeze'))
      .then(
        rejected('U2', 'not during the freeze'),
        workflowFailed({ cause: 'ApprovalRejected', stepId: 'approve-deploy', reason: 'U2 rejected "Deploy to prod?": not during the freeze' }),
      ));
  it('lets the requester withdraw by rejecting', () =>
    given(...waiting)
      .when(reject('approve-deploy', requester))
      .then(rejected(requester), workflowFailed({ cause: 'ApprovalRejected', stepId: 'approve-deploy', reason: `${requester} rejected "Deploy to prod?"` })));
  it('refuses someone who is not a named approver', () =>
    given(...waiting)
      .when(reject('approve-deploy', 'U9'))
      .thenRejects('NotAnApprover'));
  it('refuses a gate already approved', () =>
    given(...waiting, granted('U1', ['U1'], false), granted('U2', ['U1', 'U2'], true), d.scheduled('deploy'))
      .when(reject('approve-deploy', 'U3'))
      .thenRejects('ApprovalAlreadyDecided'));
});

describe('TimeOutApproval', () => {
  it('fails the workflow when nobody decided in time', () =>
    given(...waiting, granted('U1', ['U1'], false))
      .when(timeOutApproval(minute(10)))
      .then(
        event('ApprovalTimedOut', { stepId: 'approve-deploy', visit: 1, dueAt: minute(10) }, minute(10)),
        workflowFailed({ cause: 'ApprovalTimedOut', stepId: 'approve-deploy', reason: 'no decision on "Deploy to prod?" within 600000 ms' }, minute(10)),
      ));
  it('refuses a timer fired early', () =>
    given(...waiting)
      .when(timeOutApproval(minute(9)))
      .thenRejects('TimerNotDue'));
  it('refuses timing out a decided gate', () =>
    given(...waiting, granted('U1', ['U1'], false), granted('U2', ['U1', 'U2'], true), d.scheduled('deploy'))
      .when(timeOutApproval(minute(10)))
      .thenRejects('ApprovalAlreadyDecided'));
});

describe('RemindApprovers', () => {
  const remind = (when: string) => command('RemindApprovers', { stepId: 'approve-deploy', visit: 1 }, when);
  const reminded = event('ApprovalReminderDue', { stepId: 'approve-deploy', visit: 1, approvers: ['U1', 'U2', 'U3', requester], dueAt: minute(10) }, minute(8));
  it('reminds the approvers at the reminder time, naming them and the timeout', () =>
    given(...waiting)
      .when(remind(minute(8)))
      .then(reminded));
  it('reminds once per request', () =>
    given(...waiting, reminded)
      .when(remind(minute(9)))
      .thenNothing());
  it('refuses a reminder fired early', () =>
    given(...waiting)
      .when(remind(minute(7)))
      .thenRejects('TimerNotDue'));
  it('does not remind about a decided gate', () =>
    given(...waiting, granted('U1', ['U1'], false), granted('U2', ['U1', 'U2'], true), d.scheduled('deploy'))
      .when(remind(minute(8)))
      .thenRejects('ApprovalAlreadyDecided'));
  it('leaves the timeout standing: a reminded gate still times out', () =>
    given(...waiting, reminded)
      .when(timeOutApproval(minute(10)))
      .then(
        event('ApprovalTimedOut', { stepId: 'approve-deploy', visit: 1, dueAt: minute(10) }, minute(10)),
        workflowFailed({ cause: 'ApprovalTimedOut', stepId: 'approve-deploy', reason: 'no decision on "Deploy to prod?" within 600000 ms' }, minute(10)),
      ));
  it('records the reminder on the gate', () => {
    const state = fold(workflowDecider, [...waiting, reminded]);
    expect(state.status === 'running' && state.steps['approve-deploy']!.approval!.reminded).toBe(true);
  });
});

describe('a gate visited again in a loop', () => {
  const loop = compiled({
    form: 'stateMachine',
    name: 'release train',
    start: 'build',
    states: [
      { type: 'task', id: 'build', taskType: 'run-tests', transitions: [{ to: 'ship' }] },
      { type: 'approval', id: 'ship', transitions: [{ to: 'deploy' }] },
      { type: 'task', id: 'deploy', taskType: 'sf-deploy', transitions: [{ to: 'done', when: 'steps.deploy.output.last' }, { to: 'build' }] },
      { type: 'end', id: 'done' },
    ],
  });
  const l = fixturesFor(loop);
  const ask = (visit: number) =>
    event('ApprovalRequested', { stepId: 'ship', visit, approvers: [], quorum: 1, requesterMayApprove: true, requestedBy: requester, dueAt: minute(10) });
  const secondRequest = [
    l.started(),
    l.scheduled('build'),
    stepCompleted('build'),
    ask(1),
    event('ApprovalGranted', { stepId: 'ship', visit: 1, approver: 'U1', grantedBy: ['U1'], quorum: 1, approved: true }),
    l.scheduled('deploy'),
    stepCompleted('deploy', { last: false }),
    l.scheduled('build', { attempt: 2, visit: 2 }),
    stepCompleted('build', {}, 2),
    ask(2),
  ];

  it('asks again, starting the count afresh', () => {
    expect(fold(workflowDecider, secondRequest)).toMatchObject({ steps: { ship: { status: 'awaitingApproval', visit: 2, approval: { grantedBy: [] } } } });
  });
  it('refuses a click meant for the earlier request', () =>
    given(...secondRequest)
      .when(grant('ship', 'U2', 1))
      .thenRejects('ApprovalAlreadyDecided'));
  it('refuses a click for a request not made yet', () =>
    given(...secondRequest)
      .when(grant('ship', 'U2', 3))
      .thenRejects('ApprovalNotRequested'));
  it('takes a click for the current request', () =>
    given(...secondRequest)
      .when(grant('ship', 'U2', 2))
      .then(
        event('ApprovalGranted', { stepId: 'ship', visit: 2, approver: 'U2', grantedBy: ['U2'], quorum: 1, approved: true }),
        l.scheduled('deploy', { attempt: 2, visit: 2 }),
      ));
});

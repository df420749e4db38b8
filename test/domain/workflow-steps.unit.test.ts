import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import { workflowDecider, type CompiledWorkflow, type WorkflowEvent } from '../../domain/workflow/index.ts';
import { specFor } from '../support/decider-spec.ts';
import {
  branchTaken,
  cancel,
  command,
  compiled,
  event,
  fixturesFor,
  minute,
  recordCompleted,
  recordStarted,
  requester,
  stepCompleted,
  stepSkipped,
  stepStarted,
  task,
  tree,
  workflowCompleted,
  workflowFailed,
} from './workflow-fixtures.ts';

// AG3: starting a workflow and moving it on as its steps complete, through sequences,
// parallel branches, conditions and state-machine loops.

const { given } = specFor(workflowDecider);

const sequential = tree(task('analyze', 'analyze-codebase'), task('test'));
const seq = fixturesFor(sequential);

describe('StartWorkflow', () => {
  it('records the definition and schedules the first step, with a deterministic task id', () =>
    given().when(seq.startWorkflow()).then(seq.started(), seq.scheduled('analyze')));

  it('keeps the inputs, source and conversation, and sets the maximum execution time', () =>
    given()
      .when(
        seq.startWorkflow({
          inputs: { repository: 'acme' },
          maxExecutionMs: 600_000,
          source: { kind: 'template', templateId: 'code-review' },
          conversationId: 'C1',
        }),
      )
      .then(
        seq.started({
          inputs: { repository: 'acme' },
          maxExecutionMs: 600_000,
          timesOutAt: minute(10),
          source: { kind: 'template', templateId: 'code-review' },
          conversationId: 'C1',
        }),
        seq.scheduled('analyze'),
      ));

  it('refuses starting it twice', () => given(seq.started()).when(seq.startWorkflow()).thenRejects('WorkflowAlreadyStarted'));

  it('refuses a definition that does not hold together', () => {
    const broken: CompiledWorkflow = { ...sequential, machine: { ...sequential.machine, start: 'nowhere' } };
    given()
      .when(seq.startWorkflow({ definition: broken }))
      .thenRejects('InvalidDefinition');
  });
});

describe('RecordStepStarted', () => {
  const timed = tree(task('test', 'run-tests', { timeoutMs: 60_000 }));
  const t = fixturesFor(timed);

  it('marks the step running, with the due time of its timeout', () =>
    given(t.started(), t.scheduled('test'))
      .when(recordStarted('test', 1, 'worker-1'))
      .then(stepStarted('test', 1, { workerId: 'worker-1', timesOutAt: minute(1) })));
  it('ignores the same start repeated', () =>
    given(seq.started(), seq.scheduled('analyze'), stepStarted('analyze')).when(recordStarted('analyze')).thenNothing());
  it('refuses an attempt not scheduled yet', () =>
    given(seq.started(), seq.scheduled('analyze')).when(recordStarted('analyze', 2)).thenRejects('StepNotScheduled'));
  it('refuses a step the workflow has not reached', () =>
    given(seq.started(), seq.scheduled('analyze')).when(recordStarted('test')).thenRejects('StepNotScheduled'));
  it('refuses a step the definition does not have', () => given(seq.started()).when(recordStarted('deploy')).thenRejects('UnknownStep'));
  it('refuses a workflow never started', () => given().when(recordStarted('analyze')).thenRejects('WorkflowNotFound'));
});

describe('RecordStepCompleted in a sequence', () => {
  it('schedules the next step', () =>
    given(seq.started(), seq.scheduled('analyze'), stepStarted('analyze'))
      .when(recordCompleted('analyze', { files: 3 }))
      .then(stepCompleted('analyze', { files: 3 }), seq.scheduled('test')));
  it('completes the workflow after the last step', () =>
    given(seq.started(), seq.scheduled('analyze'), stepCompleted('analyze'), seq.scheduled('test'))
      .when(recordCompleted('test'))
      .then(stepCompleted('test'), workflowCompleted()));
  it('accepts a completion without a start seen first', () =>
    given(seq.started(), seq.scheduled('analyze')).when(recordCompleted('analyze')).then(stepCompleted('analyze'), seq.scheduled('test')));
  it('never runs a completed step again: the same completion changes nothing', () =>
    given(seq.started(), seq.scheduled('analyze'), stepCompleted('analyze'), seq.scheduled('test')).when(recordCompleted('analyze')).thenNothing());
  it('changes nothing when a completion is repeated after the workflow ended', () =>
    given(seq.started(), seq.scheduled('analyze'), stepCompleted('analyze'), seq.scheduled('test'), stepCompleted('test'), workflowCompleted())
      .when(recordCompleted('test'))
      .thenNothing());
  it('refuses a completion after the workflow was cancelled', () =>
    given(seq.started(), seq.scheduled('analyze'), event('WorkflowCancelled', { reason: 'x', requestedBy: requester, tasksToCancel: ['W1_analyze_1'] }))
      .when(recordCompleted('analyze'))
      .thenRejects('WorkflowAlreadyFinished'));

  it('hands earlier outputs to a step that asks for them, null where there is nothing', () => {
    const reading = tree(
      task('analyze', 'analyze-codebase'),
      task('fix', 'claude-code', { params: { issues: { $from: 'steps.analyze.output.todo' }, extra: [{ $from: 'steps.analyze.output.none' }] } }),
    );
    const r = fixturesFor(reading);
    given(r.started(), r.scheduled('analyze'))
      .when(recordCompleted('analyze', { todo: ['a.ts:3'] }))
      .then(stepCompleted('analyze', { todo: ['a.ts:3'] }), r.scheduled('fix', { params: { issues: ['a.ts:3'], extra: [null] } }));
  });
});

describe('parallel branches', () => {
  const reviews = tree(
    {
      type: 'parallel',
      id: 'reviews',
      branches: [task('security', 'claude-code'), { type: 'sequence', steps: [task('lint', 'lint'), task('quality', 'claude-code')] }],
    },
    task('combine', 'report'),
  );
  const p = fixturesFor(reviews);
  const bothRunning = [p.started(), p.scheduled('security'), p.scheduled('lint')];

  it('schedules every branch at once', () =>
    given()
      .when(p.startWorkflow())
      .then(...bothRunning));
  it('moves a branch on by itself', () =>
    given(...bothRunning)
      .when(recordCompleted('lint'))
      .then(stepCompleted('lint'), p.scheduled('quality')));
  it('waits while another branch is still running', () =>
    given(...bothRunning)
      .when(recordCompleted('security'))
      .then(stepCompleted('security')));
  it('goes on once every branch has completed', () =>
    given(...bothRunning, stepCompleted('security'), stepCompleted('lint'), p.scheduled('quality'))
      .when(recordCompleted('quality'))
      .then(stepCompleted('quality'), p.scheduled('combine')));
  it('counts a repeated completion once', () =>
    given(...bothRunning, stepCompleted('security'))
      .when(recordCompleted('security'))
      .thenNothing());
});

describe('conditional branches', () => {
  const conditional = tree(
    task('analyze', 'analyze-codebase'),
    { type: 'conditional', id: 'many-todos', condition: 'steps.analyze.output.todoCount > 10', then: task('fix', 'claude-code'), else: task('lint', 'lint') },
    task('report', 'report'),
  );
  const c = fixturesFor(conditional);
  const analyzing = [c.started(), c.scheduled('analyze')];
  const condition = 'steps.analyze.output.todoCount > 10';

  it('takes the branch the condition picks, and skips the other', () =>
    given(...analyzing)
      .when(recordCompleted('analyze', { todoCount: 12 }))
      .then(stepCompleted('analyze', { todoCount: 12 }), branchTaken('many-todos', 'fix', 0, condition), stepSkipped('lint'), c.scheduled('fix')));
  it('takes the else branch when the condition does not hold', () =>
    given(...analyzing)
      .when(recordCompleted('analyze', { todoCount: 3 }))
      .then(stepCompleted('analyze', { todoCount: 3 }), branchTaken('many-todos', 'lint', 1), stepSkipped('fix'), c.scheduled('lint')));
  it('reads a missing output as not meeting the condition', () =>
    given(...analyzing)
      .when(recordCompleted('analyze', {}))
      .then(stepCompleted('analyze', {}), branchTaken('many-todos', 'lint', 1), stepSkipped('fix'), c.scheduled('lint')));
  it('joins the branches again afterwards', () =>
    given(...analyzing, stepCompleted('analyze', { todoCount: 3 }), branchTaken('many-todos', 'lint', 1), stepSkipped('fix'), c.scheduled('lint'))
      .when(recordCompleted('lint'))
      .then(stepCompleted('lint'), c.scheduled('report')));

  it('goes straight on when a conditional without else does not apply', () => {
    const optional = tree(
      task('test'),
      { type: 'conditional', id: 'failing', condition: 'steps.test.output.failed > 0', then: task('fix', 'claude-code') },
      task('report', 'report'),
    );
    const o = fixturesFor(optional);
    given(o.started(), o.scheduled('test'))
      .when(recordCompleted('test', { failed: 0 }))
      .then(stepCompleted('test', { failed: 0 }), branchTaken('failing', 'report', 1), stepSkipped('fix'), o.scheduled('report'));
  });

  it('fails the workflow at a fail node', () => {
    const guarded = tree(task('test'), {
      type: 'conditional',
      id: 'passed',
      condition: 'steps.test.output.success',
      then: task('deploy', 'sf-deploy'),
      else: { type: 'fail', reason: 'tests failed' },
    });
    const g = fixturesFor(guarded);
    given(g.started(), g.scheduled('test'))
      .when(recordCompleted('test', { success: false }))
      .then(
        stepCompleted('test', { success: false }),
        branchTaken('passed', '#fail-2.else', 1),
        stepSkipped('deploy'),
        workflowFailed({ cause: 'EndedInFailure', reason: 'tests failed' }),
      );
  });
});

describe('state machines', () => {
  const loop = compiled({
    form: 'stateMachine',
    name: 'fix until green',
    start: 'fix',
    states: [
      { type: 'task', id: 'fix', taskType: 'claude-code', transitions: [{ to: 'verify' }] },
      {
        type: 'task',
        id: 'verify',
        taskType: 'run-tests',
        transitions: [{ to: 'done', when: 'steps.verify.output.failed == 0' }, { to: 'gave-up', when: 'steps.fix.visit >= 3' }, { to: 'fix' }],
      },
      { type: 'end', id: 'done' },
      { type: 'end', id: 'gave-up', outcome: 'failed', reason: 'still red after three fixes' },
    ],
  });
  const l = fixturesFor(loop);
  const firstRound = [l.started(), l.scheduled('fix'), stepCompleted('fix'), l.scheduled('verify')];

  it('goes round the loop again: a new visit, with a new attempt and task id', () =>
    given(...firstRound)
      .when(recordCompleted('verify', { failed: 2 }))
      .then(stepCompleted('verify', { failed: 2 }), branchTaken('verify', 'fix', 2), l.scheduled('fix', { attempt: 2, visit: 2 })));
  it('leaves the loop when the exit condition holds', () =>
    given(...firstRound)
      .when(recordCompleted('verify', { failed: 0 }))
      .then(stepCompleted('verify', { failed: 0 }), branchTaken('verify', 'done', 0, 'steps.verify.output.failed == 0'), workflowCompleted('done')));
  it('ends in a failing end state', () =>
    given(
      ...firstRound,
      stepCompleted('verify', { failed: 1 }),
      l.scheduled('fix', { attempt: 2, visit: 2 }),
      stepCompleted('fix', {}, 2),
      l.scheduled('verify', { attempt: 2, visit: 2 }),
      stepCompleted('verify', { failed: 1 }, 2),
      l.scheduled('fix', { attempt: 3, visit: 3 }),
      stepCompleted('fix', {}, 3),
      l.scheduled('verify', { attempt: 3, visit: 3 }),
    )
      .when(recordCompleted('verify', { failed: 1 }, 3))
      .then(
        stepCompleted('verify', { failed: 1 }, 3),
        branchTaken('verify', 'gave-up', 1, 'steps.fix.visit >= 3'),
        workflowFailed({ cause: 'EndedInFailure', reason: 'still red after three fixes' }),
      ));
  it('ignores a completion from an earlier visit repeated', () =>
    given(...firstRound, stepCompleted('verify', { failed: 2 }), l.scheduled('fix', { attempt: 2, visit: 2 }))
      .when(recordCompleted('fix', {}, 1))
      .thenNothing());
  it('refuses an outcome from an earlier visit', () =>
    given(...firstRound, stepCompleted('verify', { failed: 2 }), l.scheduled('fix', { attempt: 2, visit: 2 }))
      .when(command('RecordStepFailed', { stepId: 'fix', attempt: 1, error: { code: 'X', message: 'late' }, retryable: true }))
      .thenRejects('StaleAttempt'));

  it('fails the workflow when no transition applies', () => {
    const strict = compiled({
      form: 'stateMachine',
      name: 'strict',
      start: 'test',
      states: [
        { type: 'task', id: 'test', taskType: 'run-tests', transitions: [{ to: 'done', when: 'steps.test.output.success' }] },
        { type: 'end', id: 'done' },
      ],
    });
    const s = fixturesFor(strict);
    given(s.started(), s.scheduled('test'))
      .when(recordCompleted('test', { success: false }))
      .then(stepCompleted('test', { success: false }), workflowFailed({ cause: 'NoTransitionMatched', reason: 'none of the transitions from "test" applies' }));
  });
});

describe('dry run', () => {
  const deploy = tree(task('test'), { type: 'approval', id: 'approve' }, task('deploy', 'sf-deploy', { sideEffects: true }), task('smoke'));
  const d = fixturesFor(deploy);

  it('runs steps without side effects as they are', () =>
    given()
      .when(d.startWorkflow({ dryRun: true }))
      .then(d.started({ dryRun: true }), d.scheduled('test')));
  it('skips approvals and marks side-effecting steps for a recorder', () =>
    given(d.started({ dryRun: true }), d.scheduled('test'))
      .when(recordCompleted('test'))
      .then(stepCompleted('test'), stepSkipped('approve', 'dryRun'), d.scheduled('deploy', { dryRun: true })));
  it('passes straight through parallel branches that have nothing to wait for', () => {
    const signOff = tree(
      task('test'),
      {
        type: 'parallel',
        id: 'sign-off',
        branches: [
          { type: 'approval', id: 'qa' },
          { type: 'parallel', branches: [{ type: 'approval', id: 'security' }] },
        ],
      },
      task('deploy', 'sf-deploy', { sideEffects: true }),
    );
    const s = fixturesFor(signOff);
    given(s.started({ dryRun: true }), s.scheduled('test'))
      .when(recordCompleted('test'))
      .then(stepCompleted('test'), stepSkipped('qa', 'dryRun'), stepSkipped('security', 'dryRun'), s.scheduled('deploy', { dryRun: true }));
  });
  it('does not mark anything outside a dry run', () =>
    given(
      d.started(),
      d.scheduled('test'),
      stepCompleted('test'),
      event('ApprovalRequested', {
        stepId: 'approve',
        visit: 1,
        approvers: [],
        quorum: 1,
        requesterMayApprove: true,
        requestedBy: requester,
        dueAt: minute(10),
      }),
    )
      .when(command('GrantApproval', { stepId: 'approve', approver: 'U2' }))
      .then(event('ApprovalGranted', { stepId: 'approve', visit: 1, approver: 'U2', grantedBy: ['U2'], quorum: 1, approved: true }), d.scheduled('deploy')));
});

describe('workflow state', () => {
  const state = (...events: WorkflowEvent[]) => fold(workflowDecider, events);

  it('folds steps, outputs and the end', () => {
    expect(state(seq.started(), seq.scheduled('analyze'), stepCompleted('analyze', { files: 3 }), seq.scheduled('test'), stepStarted('test'))).toMatchObject({
      status: 'running',
      requestedBy: requester,
      timesOutAt: minute(60),
      steps: {
        analyze: { status: 'completed', attempt: 1, visit: 1, output: { files: 3 }, outcomes: [{ attempt: 1, outcome: 'completed' }] },
        test: { status: 'running', attempt: 1, taskId: 'W1_test_1' },
      },
    });
    expect(
      state(seq.started(), seq.scheduled('analyze'), stepCompleted('analyze'), seq.scheduled('test'), stepCompleted('test'), workflowCompleted()),
    ).toMatchObject({ status: 'completed', finishedAt: minute(0) });
  });

  it('knows which tasks to cancel', () =>
    given(seq.started(), seq.scheduled('analyze'))
      .when(cancel())
      .then(event('WorkflowCancelled', { reason: 'not needed any more', requestedBy: requester, tasksToCancel: ['W1_analyze_1'] })));
});

import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { checkCompiled, registerDefinition, type CompiledWorkflow, type DefinitionError } from '../../domain/workflow/index.ts';
import { registry, task } from './workflow-fixtures.ts';

// WF1: both definition forms are validated on registration, and every refusal names its culprit.

const errorsOf = (definition: unknown, withRegistry = registry): readonly DefinitionError[] => {
  const result = registerDefinition(definition, withRegistry);
  if (isRight(result)) expect.fail('expected the definition to be refused');
  return result.left;
};
const accepted = (definition: unknown, withRegistry: typeof registry & { sideEffecting?: string[] } = registry): CompiledWorkflow => {
  const result = registerDefinition(definition, withRegistry);
  if (isLeft(result)) expect.fail(result.left.map((e) => e.message).join('; '));
  return result.right;
};
const codes = (errors: readonly DefinitionError[]) => errors.map((e) => [e.code, e.culprit]);

const stepTree = (root: object) => ({ form: 'stepTree', name: 'tree', root });
const machine = (start: string, states: object[]) => ({ form: 'stateMachine', name: 'machine', start, states });
const taskState = (id: string, transitions: object[] = [], taskType = 'run-tests') => ({ type: 'task', id, taskType, transitions });
const end = (id = 'done', extra: object = {}) => ({ type: 'end', id, ...extra });
const to = (target: string, when?: string) => ({ to: target, ...(when !== undefined && { when }) });

describe('compiling a step tree', () => {
  it('chains a sequence and ends it', () => {
    expect(accepted(stepTree({ type: 'sequence', steps: [task('a'), task('b')] })).machine).toMatchObject({
      start: 'a',
      nodes: [
        { kind: 'task', id: 'a', next: [{ to: 'b' }] },
        { kind: 'task', id: 'b', next: [{ to: '#end' }] },
        { kind: 'end', id: '#end', outcome: 'completed' },
      ],
    });
  });

  it('turns a conditional into a choice that names the steps each branch leaves behind', () => {
    const compiled = accepted(
      stepTree({
        type: 'sequence',
        steps: [
          task('a'),
          { type: 'conditional', condition: 'steps.a.output.n > 1', then: task('b'), else: { type: 'sequence', steps: [task('c'), task('d')] } },
          task('e'),
        ],
      }),
    );
    expect(compiled.machine.nodes).toEqual([
      expect.objectContaining({ id: 'a', next: [{ to: '#if-2' }] }),
      {
        kind: 'choice',
        id: '#if-2',
        next: [
          { to: 'b', when: 'steps.a.output.n > 1', skips: ['c', 'd'] },
          { to: 'c', skips: ['b'] },
        ],
      },
      expect.objectContaining({ id: 'b', next: [{ to: 'e' }] }),
      expect.objectContaining({ id: 'c', next: [{ to: 'd' }] }),
      expect.objectContaining({ id: 'd', next: [{ to: 'e' }] }),
      expect.objectContaining({ id: 'e', next: [{ to: '#end' }] }),
      { kind: 'end', id: '#end', outcome: 'completed' },
    ]);
  });

  it('gives each parallel branch its own machine and end', () => {
    const compiled = accepted(
      stepTree({
        type: 'sequence',
        steps: [{ type: 'parallel', id: 'checks', branches: [task('a'), { type: 'sequence', steps: [task('b'), task('c')] }] }, task('d')],
      }),
    );
    expect(compiled.machine.nodes[0]).toMatchObject({
      kind: 'parallel',
      id: 'checks',
      next: [{ to: 'd' }],
      branches: [
        {
          start: 'a',
          nodes: [
            { id: 'a', next: [{ to: '#end-1.1' }] },
            { kind: 'end', id: '#end-1.1' },
          ],
        },
        {
          start: 'b',
          nodes: [
            { id: 'b', next: [{ to: 'c' }] },
            { id: 'c', next: [{ to: '#end-1.2' }] },
            { kind: 'end', id: '#end-1.2' },
          ],
        },
      ],
    });
  });

  it('fills in defaults: retry policy, ten-minute approvals, side effects from the registry', () => {
    const compiled = accepted(stepTree({ type: 'sequence', steps: [{ type: 'approval', id: 'ok' }, task('deploy', 'sf-deploy'), task('test')] }), {
      ...registry,
      sideEffecting: ['sf-deploy'],
    });
    expect(compiled.machine.nodes).toEqual([
      { kind: 'approval', id: 'ok', approvers: [], quorum: 1, requesterMayApprove: true, timeoutMs: 600_000, next: [{ to: 'deploy' }] },
      expect.objectContaining({ id: 'deploy', sideEffects: true, retry: { attempts: 3, backoffMs: 1_000, maxBackoffMs: 60_000, nonRetryable: [] } }),
      expect.objectContaining({ id: 'test', sideEffects: false }),
      expect.anything(),
    ]);
  });

  it('ends the workflow as failed at a fail node', () => {
    const compiled = accepted(
      stepTree({
        type: 'sequence',
        steps: [task('a'), { type: 'conditional', condition: 'steps.a.output.ok', then: task('b'), else: { type: 'fail', reason: 'a was not ok' } }],
      }),
    );
    expect(compiled.machine.nodes).toContainEqual({ kind: 'end', id: '#fail-2.else', outcome: 'failed', reason: 'a was not ok' });
  });
});

describe('compiling a state machine', () => {
  it('keeps states and transitions as written, loops included', () => {
    const compiled = accepted(
      machine('fix', [taskState('fix', [to('verify')], 'claude-code'), taskState('verify', [to('done', 'steps.verify.output.failed == 0'), to('fix')]), end()]),
    );
    expect(compiled).toMatchObject({
      form: 'stateMachine',
      machine: {
        start: 'fix',
        nodes: [
          { kind: 'task', id: 'fix', next: [{ to: 'verify' }] },
          { kind: 'task', id: 'verify', next: [{ to: 'done', when: 'steps.verify.output.failed == 0' }, { to: 'fix' }] },
          { kind: 'end', id: 'done', outcome: 'completed' },
        ],
      },
    });
  });
});

describe('refusing definitions, naming the culprit', () => {
  it('UnknownState: a transition to a state that is not defined', () => {
    const errors = errorsOf(machine('a', [taskState('a', [to('b')]), end()]));
    expect(codes(errors)).toContainEqual(['UnknownState', 'b']);
    expect(errors.find((e) => e.code === 'UnknownState')!.message).toBe('state "a" has a transition to "b", which is not defined');
  });

  it('UnknownState: a start that is not defined', () => {
    expect(codes(errorsOf(machine('begin', [taskState('a', [to('done')]), end()])))).toContainEqual(['UnknownState', 'begin']);
  });

  it('UnreachableState', () => {
    const errors = errorsOf(machine('a', [taskState('a', [to('done')]), taskState('orphan', [to('done')]), end()]));
    expect(codes(errors)).toEqual([['UnreachableState', 'orphan']]);
    expect(errors[0]!.message).toBe('state "orphan" cannot be reached from the start of the workflow');
  });

  it('UnreachableState: steps after a fail node', () => {
    expect(codes(errorsOf(stepTree({ type: 'sequence', steps: [task('a'), { type: 'fail', reason: 'stop' }, task('never')] })))).toEqual([
      ['UnreachableState', 'never'],
      ['UnreachableState', '#end'],
    ]);
  });

  it('LoopWithoutExit: a cycle of states from which no end state is reachable', () => {
    const errors = errorsOf(
      machine('a', [taskState('a', [to('b', 'steps.a.output.ok'), to('done')]), taskState('b', [to('c')]), taskState('c', [to('b')]), end()]),
    );
    expect(errors).toEqual([expect.objectContaining({ code: 'LoopWithoutExit', culprit: 'b', loop: ['b', 'c'] })]);
    expect(errors[0]!.message).toBe('states b → c form a loop from which no end state can be reached');
  });

  it('LoopWithoutExit: a state that only returns to itself', () => {
    expect(errorsOf(machine('a', [taskState('a', [to('a')]), end()]))).toEqual([
      expect.objectContaining({ code: 'UnreachableState', culprit: 'done' }),
      expect.objectContaining({ code: 'LoopWithoutExit', loop: ['a'] }),
    ]);
  });

  it('accepts a loop with a way out', () => {
    expect(accepted(machine('a', [taskState('a', [to('a', 'steps.a.output.again'), to('done')]), end()])).machine.nodes).toHaveLength(2);
  });

  it('LoopWithoutTask: approvals going round with nothing that could change', () => {
    const gate = (id: string, transitions: object[]) => ({ type: 'approval', id, transitions });
    expect(codes(errorsOf(machine('a', [gate('a', [to('b')]), gate('b', [to('a', 'steps.b.status == "approved"'), to('done')]), end()])))).toEqual([
      ['LoopWithoutTask', 'a'],
    ]);
  });

  it('DeadEndState and NoEndState', () => {
    expect(codes(errorsOf(machine('a', [taskState('a', [to('b')]), taskState('b'), end()])))).toEqual([
      ['UnreachableState', 'done'],
      ['DeadEndState', 'b'],
    ]);
    expect(codes(errorsOf(machine('a', [taskState('a', [to('a')])])))).toEqual([
      ['NoEndState', 'the workflow'],
      ['LoopWithoutExit', 'a'],
    ]);
  });

  it('DuplicateStepId, across parallel branches too', () => {
    const errors = errorsOf(stepTree({ type: 'sequence', steps: [task('a'), { type: 'parallel', branches: [task('b'), task('a')] }] }));
    expect(codes(errors)).toEqual([['DuplicateStepId', 'a']]);
    expect(errors[0]!.message).toBe('step id "a" is used 2 times; ids must be unique in a workflow');
    expect(codes(errorsOf(machine('a', [taskState('a', [to('a')]), taskState('a', [to('done')]), end()])))).toContainEqual(['DuplicateStepId', 'a']);
  });

  it('UnknownTaskType, checked against the task types passed in', () => {
    const errors = errorsOf(stepTree({ type: 'sequence', steps: [task('a'), task('deploy', 'sf-deploy')] }), { taskTypes: ['run-tests'] });
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'UnknownTaskType',
        culprit: 'deploy',
        message: 'step "deploy" runs task type "sf-deploy", which is not registered (registered: run-tests)',
      }),
    ]);
  });

  it('InvalidCondition, with the position of the problem', () => {
    const errors = errorsOf(
      stepTree({ type: 'sequence', steps: [task('a'), { type: 'conditional', id: 'check', condition: 'steps.a.output.n >> 1', then: task('b') }] }),
    );
    expect(errors).toEqual([expect.objectContaining({ code: 'InvalidCondition', culprit: 'check', position: 18 })]);
    expect(errors[0]!.message).toMatch(/^the condition on "check" → "b": invalid condition .* at position 18$/);
  });

  it('UnknownStepReference: a condition or a parameter reading a step that does not exist', () => {
    const errors = errorsOf(
      stepTree({
        type: 'sequence',
        steps: [
          task('a', 'run-tests', { params: { findings: { $from: 'steps.analyse.output' }, note: { $from: 'steps..x' } } }),
          { type: 'conditional', id: 'check', condition: 'steps.tset.output.failed == 0', then: task('b') },
        ],
      }),
    );
    expect(codes(errors)).toEqual([
      ['UnknownStepReference', 'check'],
      ['UnknownStepReference', 'a'],
      ['InvalidCondition', 'a'],
    ]);
    expect(errors[0]!.message).toBe('the condition on "check" → "b" reads steps.tset, which is not a step of this workflow');
    expect(errors[1]!.message).toBe('parameter findings of step "a" reads steps.analyse, which is not a step of this workflow');
  });

  it('UnfilledPlaceholder: a template value never given', () => {
    expect(codes(errorsOf(stepTree(task('a', 'run-tests', { params: { repository: '{{repository}}' } }))))).toEqual([['UnfilledPlaceholder', 'a']]);
  });

  it('InvalidDefinition: the shape is wrong, with the path to each problem', () => {
    const errors = errorsOf(
      stepTree({
        type: 'sequence',
        steps: [
          task('run_tests'),
          { type: 'approval', id: 'ok', approvers: ['U1'], quorum: 2, reminderBeforeMs: 600_000 },
          task('x', 'run-tests', { retry: { attempts: 0, backoffMs: 10, maxBackoffMs: 5 } }),
        ],
      }),
    );
    expect(errors.map((e) => [e.code, e.culprit])).toEqual([
      ['InvalidDefinition', 'root.steps.0.id'],
      ['InvalidDefinition', 'root.steps.1.quorum'],
      ['InvalidDefinition', 'root.steps.1.reminderBeforeMs'],
      ['InvalidDefinition', 'root.steps.2.retry.attempts'],
      ['InvalidDefinition', 'root.steps.2.retry.maxBackoffMs'],
    ]);
    expect(errors[1]!.message).toBe('root.steps.1.quorum: needs 2 approvers but only 1 are named');
    expect(codes(errorsOf({ form: 'flowchart' }))).toEqual([['InvalidDefinition', 'form']]);
  });

  it('names every problem at once', () => {
    const errors = errorsOf(machine('a', [taskState('a', [to('b'), to('c', 'steps.zz.ok')], 'deploy-now'), taskState('lost', [to('done')]), end()]));
    expect(codes(errors)).toEqual([
      ['UnknownState', 'b'],
      ['UnknownState', 'c'],
      ['UnreachableState', 'lost'],
      ['UnreachableState', 'done'],
      ['UnknownStepReference', 'a'],
      ['UnknownTaskType', 'a'],
    ]);
  });
});

describe('checking a compiled workflow again', () => {
  it('finds what registration would, except task types it cannot know', () => {
    const compiled = accepted(stepTree(task('a')));
    expect(checkCompiled(compiled)).toEqual([]);
    const broken: CompiledWorkflow = { ...compiled, machine: { ...compiled.machine, start: 'nowhere' } };
    expect(codes(checkCompiled(broken))).toEqual([
      ['UnknownState', 'nowhere'],
      ['UnreachableState', 'a'],
      ['UnreachableState', '#end'],
    ]);
  });

  it('checks each parallel branch as a machine of its own', () => {
    const compiled = accepted(stepTree({ type: 'parallel', id: 'both', branches: [task('a'), task('b')] }));
    const parallel = compiled.machine.nodes[0]!;
    if (parallel.kind !== 'parallel') expect.fail('expected a parallel node');
    const broken: CompiledWorkflow = {
      ...compiled,
      machine: {
        ...compiled.machine,
        nodes: [
          { ...parallel, branches: [parallel.branches[0]!, { start: 'b', nodes: [parallel.branches[1]!.nodes[0]!] }] },
          ...compiled.machine.nodes.slice(1),
        ],
      },
    };
    expect(checkCompiled(broken)).toEqual([
      expect.objectContaining({ code: 'UnknownState', culprit: '#end-2', message: 'state "b" has a transition to "#end-2", which is not defined' }),
      expect.objectContaining({ code: 'NoEndState', culprit: 'branch 2 of "both"' }),
    ]);
  });
});

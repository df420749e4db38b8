import fc from 'fast-check';
import { isLeft, type Either } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { workflowAggregate } from '../../actors/aggregates/workflow.ts';
import { sideEffectingTaskTypes, taskTypes } from '../../adapters/executors/registry.ts';
import {
  initialState,
  registerDefinition,
  workflowDecider,
  type CompiledWorkflow,
  type DefinitionError,
  type DefinitionErrorCode,
  type Registry,
} from '../../domain/workflow/index.ts';
import { BIG_NASTY_JSON, nonObjectJson, randomObject, sample, SMALL_NASTY_JSON, WRONG_TYPES } from './generators.ts';
import { fail, pass, report, type Verdict } from './verdicts.ts';

// Bad workflow definitions, registered (`registerDefinition`: every problem named by a
// DefinitionError code, never a throw) and sent raw as `StartWorkflow` (the workflow
// aggregate's own parsing and decider, as the host runs them: refused as an invalid command or
// with a named rejection, never a throw and never started).

const REGISTRY: Registry = { taskTypes, sideEffecting: sideEffectingTaskTypes };
const NAMED = /^[A-Z][A-Za-z]+$/;

const task = (id: string, extra: Record<string, unknown> = {}) => ({ type: 'task', id, taskType: 'git-status', params: { repository: 'acme' }, ...extra });
const tree = (root: unknown) => ({ form: 'stepTree', name: 'bad input', root });
const machine = (start: string, states: readonly unknown[]) => ({ form: 'stateMachine', name: 'bad input', start, states });
const mTask = (id: string, transitions: readonly unknown[]) => ({ ...task(id), transitions });
const end = (id = 'done') => ({ type: 'end', id });

/** Valid definitions of both forms, every node kind among them. */
const goodTree = tree({
  type: 'sequence',
  steps: [
    task('status', { title: 'Status', retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 100, nonRetryable: ['X'] }, timeoutMs: 60_000 }),
    { type: 'parallel', id: 'both', branches: [task('lint', { taskType: 'lint' }), task('tests', { taskType: 'run-tests' })] },
    {
      type: 'conditional',
      id: 'green',
      condition: 'steps.tests.output.failed == 0',
      then: { type: 'approval', id: 'go', approvers: ['U1', 'U2'], quorum: 1, timeoutMs: 60_000 },
      else: { type: 'fail', id: 'red', reason: 'tests failed' },
    },
  ],
});
const goodMachine = machine('status', [
  mTask('status', [{ to: 'check', when: 'steps.status.status == "completed"' }, { to: 'failed' }]),
  { type: 'approval', id: 'check', transitions: [{ to: 'done' }] },
  end(),
  { type: 'end', id: 'failed', outcome: 'failed', reason: 'no' },
]);

function checkErrors(result: Either<readonly DefinitionError[], CompiledWorkflow>, code?: DefinitionErrorCode): string | undefined {
  if (!isLeft(result)) return 'registered';
  if (result.left.length === 0) return 'refused without errors';
  const unnamed = result.left.find((e) => !NAMED.test(e.code) || typeof e.message !== 'string' || e.message.length === 0 || typeof e.culprit !== 'string');
  if (unnamed) return `an error without a code, message or culprit: ${JSON.stringify(unnamed).slice(0, 80)}`;
  if (code !== undefined && !result.left.some((e) => e.code === code))
    return `expected ${code} among ${[...new Set(result.left.map((e) => e.code))].join(', ')}`;
  return undefined;
}

const jsonType = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** Every node of `value` replaced, one at a time, by a value of another JSON type (params left alone: they are free JSON). */
function mutations(value: unknown): { name: string; input: unknown }[] {
  const out: { name: string; input: unknown }[] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    if (path.at(-1) === 'params' || path.at(-1) === 'output') return;
    if (path.length > 0) {
      for (const wrong of WRONG_TYPES) {
        const replacement: unknown = JSON.parse(wrong.json);
        if (jsonType(replacement) === jsonType(node)) continue;
        const input = structuredClone(value) as Record<string | number, unknown>;
        let parent = input;
        for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
        parent[path.at(-1)!] = replacement;
        out.push({ name: `${path.join('.')} = ${wrong.name}`, input });
      }
    }
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, [...path, i]));
    else if (node !== null && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
  };
  walk(value, []);
  return out;
}

/** Definitions that break one rule each, with the code expected among the errors. */
function ruleBreakers(): { group: string; name: string; input: unknown; code: DefinitionErrorCode }[] {
  const out: { group: string; name: string; input: unknown; code: DefinitionErrorCode }[] = [];
  const add = (group: string, name: string, input: unknown, code: DefinitionErrorCode) => out.push({ group, name, input, code });
  add('definition: graph rules', 'start at an unknown state', machine('nowhere', [mTask('a', [{ to: 'done' }]), end()]), 'UnknownState');
  add('definition: graph rules', 'transition to an unknown state', machine('a', [mTask('a', [{ to: 'nowhere' }]), end()]), 'UnknownState');
  add(
    'definition: graph rules',
    'an unreachable state',
    machine('a', [mTask('a', [{ to: 'done' }]), mTask('island', [{ to: 'done' }]), end()]),
    'UnreachableState',
  );
  add('definition: graph rules', 'a loop without exit', machine('a', [mTask('a', [{ to: 'b' }]), mTask('b', [{ to: 'a' }]), end()]), 'LoopWithoutExit');
  add(
    'definition: graph rules',
    'a loop without a task',
    machine('a', [
      mTask('a', [{ to: 'g1' }]),
      { type: 'approval', id: 'g1', transitions: [{ to: 'g2', when: 'steps.a.status == "failed"' }, { to: 'done' }] },
      { type: 'approval', id: 'g2', transitions: [{ to: 'g1' }] },
      end(),
    ]),
    'LoopWithoutTask',
  );
  add(
    'definition: graph rules',
    'a dead end',
    machine('a', [mTask('a', [{ to: 'b', when: 'steps.a.status == "completed"' }, { to: 'done' }]), mTask('b', []), end()]),
    'DeadEndState',
  );
  add(
    'definition: graph rules',
    'no end state',
    machine('a', [mTask('a', [{ to: 'b' }]), mTask('b', [{ to: 'a', when: 'steps.b.status == "failed"' }])]),
    'NoEndState',
  );
  add('definition: graph rules', 'duplicate step ids', tree({ type: 'sequence', steps: [task('a'), task('a')] }), 'DuplicateStepId');
  for (const taskType of sample(
    fc.stringMatching(/^[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,6})?$/).filter((t) => !(taskTypes as readonly string[]).includes(t)),
    40,
    41,
  )) {
    add('definition: unknown task type', taskType, tree(task('a', { taskType })), 'UnknownTaskType');
  }
  for (const junk of sample(fc.string({ minLength: 1, maxLength: 40 }), 80, 42)) {
    add('definition: condition that does not parse', junk, tree({ type: 'conditional', condition: `(${junk}`, then: task('a') }), 'InvalidCondition');
  }
  for (const id of sample(
    fc.stringMatching(/^[a-z][a-z0-9]{0,12}$/).filter((id) => id !== 'a'),
    40,
    43,
  )) {
    add(
      'definition: condition reading an unknown step',
      id,
      tree({ type: 'sequence', steps: [task('a'), { type: 'conditional', condition: `steps.${id}.status == "completed"`, then: task('b') }] }),
      'UnknownStepReference',
    );
  }
  for (const name of sample(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9]{0,10}$/), 30, 44)) {
    add('definition: unfilled template placeholder', name, tree(task('a', { params: { repository: `{{${name}}}` } })), 'UnfilledPlaceholder');
  }
  for (const id of sample(
    fc.oneof(
      fc.constant(''),
      fc.string({ maxLength: 10 }).map((s) => `1${s}`),
      fc.string({ maxLength: 10 }).map((s) => `a_${s}`),
      fc.string({ maxLength: 10 }).map((s) => `a.${s}`),
      fc.constant('a'.repeat(65)),
      fc.constant('a--b'),
      fc.constant('🚀'),
    ),
    40,
    45,
  )) {
    add('definition: step id not letters, digits and single "-"', JSON.stringify(id), tree(task(id)), 'InvalidDefinition');
  }
  add(
    'definition: sizes',
    '201 steps in a sequence',
    tree({ type: 'sequence', steps: Array.from({ length: 201 }, (_, i) => task(`s${i}`)) }),
    'InvalidDefinition',
  );
  add(
    'definition: sizes',
    '21 parallel branches',
    tree({ type: 'parallel', branches: Array.from({ length: 21 }, (_, i) => task(`s${i}`)) }),
    'InvalidDefinition',
  );
  add('definition: sizes', 'name of 201 characters', { ...goodTree, name: 'n'.repeat(201) }, 'InvalidDefinition');
  add('definition: sizes', 'condition of 300 KB', tree({ type: 'conditional', condition: 'x'.repeat(300 * 1024), then: task('a') }), 'InvalidDefinition');
  add('definition: gate fields', 'quorum above the approvers', tree({ type: 'approval', id: 'g', approvers: ['U1'], quorum: 2 }), 'InvalidDefinition');
  add('definition: gate fields', 'an approver twice', tree({ type: 'approval', id: 'g', approvers: ['U1', 'U1'] }), 'InvalidDefinition');
  add(
    'definition: gate fields',
    'reminder after the timeout',
    tree({ type: 'approval', id: 'g', timeoutMs: 1_000, reminderBeforeMs: 2_000 }),
    'InvalidDefinition',
  );
  add(
    'definition: retry fields',
    'maxBackoffMs below backoffMs',
    tree(task('a', { retry: { attempts: 2, backoffMs: 100, maxBackoffMs: 10 } })),
    'InvalidDefinition',
  );
  add('definition: retry fields', '11 attempts', tree(task('a', { retry: { attempts: 11, backoffMs: 1, maxBackoffMs: 1 } })), 'InvalidDefinition');
  return out;
}

function registrationVerdicts(): Verdict[] {
  const verdicts: Verdict[] = [];
  const judge = (group: string, name: string, input: unknown, code?: DefinitionErrorCode) => {
    let failure: string | undefined;
    try {
      failure = checkErrors(registerDefinition(input, REGISTRY), code);
    } catch (error) {
      failure = `threw ${(error as Error).name}: ${(error as Error).message.slice(0, 80)}`;
    }
    verdicts.push(failure === undefined ? pass({ group, name }) : fail({ group, name }, failure));
  };
  for (const value of sample(nonObjectJson, 100, 46)) judge('definition: not an object', JSON.stringify(value).slice(0, 40), value);
  for (const value of sample(randomObject, 100, 47)) judge('definition: random object', JSON.stringify(value).slice(0, 40), value);
  for (const value of sample(
    fc.record({
      form: fc.constantFrom('stepTree', 'stateMachine'),
      name: fc.string({ minLength: 1, maxLength: 20 }),
      root: fc.jsonValue({ maxDepth: 3 }),
      start: fc.string({ maxLength: 10 }),
      states: fc.array(randomObject, { maxLength: 4 }),
    }),
    150,
    48,
  )) {
    judge('definition: a form with random contents', JSON.stringify(value).slice(0, 40), value);
  }
  for (const nasty of [...SMALL_NASTY_JSON, ...BIG_NASTY_JSON]) {
    const value: unknown = (() => {
      try {
        return JSON.parse(nasty.json);
      } catch {
        return nasty.json;
      }
    })();
    judge('definition: known-nasty values', nasty.name, value);
    judge('definition: known-nasty values as the root', nasty.name, tree(value));
    judge('definition: known-nasty values as a step', nasty.name, tree({ type: 'sequence', steps: [task('a'), value] }));
    judge('definition: known-nasty values as the states', nasty.name, machine('a', [value]));
  }
  for (const breaker of ruleBreakers()) judge(breaker.group, breaker.name, breaker.input, breaker.code);
  for (const m of mutations(goodTree)) judge('definition: a node of a valid step tree of another type', m.name, m.input);
  for (const m of mutations(goodMachine)) judge('definition: a node of a valid state machine of another type', m.name, m.input);
  return verdicts;
}

/** `StartWorkflow` as the aggregate host runs it: parse (with the subject's id and the host's time), then decide on a new stream. */
function startWorkflow(definition: unknown): string | undefined {
  const parsed = workflowAggregate.parseCommand({
    type: 'StartWorkflow',
    id: 'wf-bad',
    at: '2026-12-07T20:00:00.000Z',
    data: { definition, requestedBy: 'U-bad' },
    actor: 'U-bad',
  });
  if (isLeft(parsed)) return parsed.left.length > 0 && parsed.left.every((e) => typeof e === 'string' && e.length > 0) ? undefined : 'invalid without errors';
  const decided = workflowDecider.decide(parsed.right, initialState());
  if (!isLeft(decided)) return `started (${decided.right.map((e) => e.type).join(', ')})`;
  return NAMED.test(decided.left.code) && decided.left.message.length > 0
    ? undefined
    : `a rejection without a code: ${JSON.stringify(decided.left).slice(0, 80)}`;
}

function rawStartVerdicts(): Verdict[] {
  const verdicts: Verdict[] = [];
  const judge = (group: string, name: string, definition: unknown) => {
    let failure: string | undefined;
    try {
      failure = startWorkflow(definition);
    } catch (error) {
      failure = `threw ${(error as Error).name}: ${(error as Error).message.slice(0, 80)}`;
    }
    verdicts.push(failure === undefined ? pass({ group, name }) : fail({ group, name }, failure));
  };
  const compiled = registerDefinition(goodTree, REGISTRY);
  if (isLeft(compiled)) throw new Error(`the valid step tree does not register: ${compiled.left.map((e) => e.message).join('; ')}`);
  const good = compiled.right as unknown as Record<string, unknown>;
  for (const m of mutations(good)) judge('raw StartWorkflow: a node of a compiled workflow of another type', m.name, m.input);
  for (const value of sample(fc.jsonValue({ maxDepth: 3 }), 100, 49))
    judge('raw StartWorkflow: definition is random JSON', JSON.stringify(value).slice(0, 40), value);
  const gm = good.machine as { start: string; nodes: Record<string, unknown>[] };
  judge('raw StartWorkflow: compiled machine that does not hold together', 'start at an unknown node', { ...good, machine: { ...gm, start: 'nowhere' } });
  judge('raw StartWorkflow: compiled machine that does not hold together', 'no nodes', { ...good, machine: { ...gm, nodes: [] } });
  judge(
    'raw StartWorkflow: compiled machine that does not hold together',
    'every transition to an unknown node',
    JSON.parse(JSON.stringify(good).replace(/"to":"[^"]*"/g, '"to":"nowhere"')),
  );
  // Registration refuses it, so the raw command is built by hand: a deploy step that says it has
  // side effects and no gate before it. (One that hides its side effects is for the door, which
  // knows the registry: test/bad-input/nats-commands.e2e.test.ts.)
  const deploys = registerDefinition(tree(task('deploy', { taskType: 'sf-deploy' })), { taskTypes });
  if (isLeft(deploys)) throw new Error(deploys.left.map((e) => e.message).join('; '));
  const honest = JSON.parse(JSON.stringify(deploys.right).replace('"sideEffects":false', '"sideEffects":true')) as unknown;
  judge('raw StartWorkflow: deploys without a gate', 'sf-deploy with sideEffects, no approval', honest);
  return verdicts;
}

describe('bad workflow definitions', () => {
  it('registered: each is refused with named DefinitionErrors, never a throw', () => {
    const started = Date.now();
    const verdicts = registrationVerdicts();
    const failures = report('workflow definitions (registerDefinition)', verdicts, Date.now() - started);
    expect(verdicts.length).toBeGreaterThanOrEqual(800);
    expect(failures).toEqual([]);
  });

  it('sent raw as StartWorkflow: each is refused as invalid or with a named rejection, never started', () => {
    const started = Date.now();
    const verdicts = rawStartVerdicts();
    const failures = report('workflow definitions (raw StartWorkflow)', verdicts, Date.now() - started);
    expect(verdicts.length).toBeGreaterThanOrEqual(200);
    expect(failures).toEqual([]);
  });
});

import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { evaluateCondition, parseCondition, type InvalidCondition } from '../../domain/workflow/index.ts';

// WF6: conditions read earlier step outputs through a small expression form that is parsed
// and walked, never run as code.

const context = {
  steps: {
    test: { status: 'completed', output: { failed: 0, passed: 42, success: true, suites: ['unit', 'int'] } },
    analyze: { status: 'completed', output: { todo: { count: 12 }, todoCount: 12, languages: [{ language: 'TypeScript', files: 90 }], truncated: false } },
    lint: { status: 'failed', output: null },
    'run-tests': { status: 'completed', output: { 'exit-code': 0 } },
  },
  inputs: { environment: 'staging', threshold: 10 },
};

const holds = (source: string): boolean => {
  const parsed = parseCondition(source);
  if (isLeft(parsed)) expect.fail(parsed.left.message);
  return evaluateCondition(parsed.right, context);
};

const refusal = (source: string): InvalidCondition => {
  const parsed = parseCondition(source);
  if (isRight(parsed)) expect.fail(`expected ${JSON.stringify(source)} to be refused`);
  return parsed.left;
};

describe('evaluating conditions', () => {
  it('reads earlier step outputs', () => {
    expect(holds('steps.test.output.failed == 0 && steps.analyze.output.todoCount > 10')).toBe(true);
    expect(holds('steps.lint.status == "completed"')).toBe(false);
    expect(holds("steps.lint.status == 'failed'")).toBe(true);
    expect(holds('inputs.environment == "staging" && steps.analyze.output.todoCount >= inputs.threshold')).toBe(true);
  });

  it('negates, groups and gives && precedence over ||', () => {
    expect(holds('!(steps.test.output.failed > 0)')).toBe(true);
    expect(holds('true || false && false')).toBe(true);
    expect(holds('(true || false) && false')).toBe(false);
    expect(holds('!steps.analyze.output.truncated')).toBe(true);
    expect(holds('!!steps.test.output.success')).toBe(true);
  });

  it('compares numbers and strings, and nothing else, by order', () => {
    expect(holds('steps.test.output.passed >= 42 && steps.test.output.passed <= 42 && steps.test.output.passed < 43')).toBe(true);
    expect(holds('"abc" < "abd"')).toBe(true);
    expect(holds('-1.5e1 < 0')).toBe(true);
    expect(holds('"10" > 9')).toBe(false);
    expect(holds('true > false')).toBe(false);
  });

  it('tests equality by value, without coercion', () => {
    expect(holds('steps.test.output.failed == "0"')).toBe(false);
    expect(holds('steps.test.output.failed != "0"')).toBe(true);
    expect(holds('steps.lint.output == null')).toBe(true);
    expect(holds('steps.test.output.suites == ["unit", "int"]')).toBe(true);
  });

  it('tests membership in lists, strings and objects with `in`', () => {
    expect(holds('steps.lint.status in ["failed", "skipped"]')).toBe(true);
    expect(holds('"unit" in steps.test.output.suites')).toBe(true);
    expect(holds('"stag" in inputs.environment')).toBe(true);
    expect(holds('"todoCount" in steps.analyze.output')).toBe(true);
    expect(holds('"e2e" in steps.test.output.suites')).toBe(false);
    expect(holds('1 in 123')).toBe(false);
  });

  it('reads list items, lengths and names with "-" through brackets or dots', () => {
    expect(holds('steps.analyze.output.languages[0].language == "TypeScript"')).toBe(true);
    expect(holds('steps.analyze.output.languages.length == 1 && steps.test.output.suites.length > 1')).toBe(true);
    expect(holds('steps.run-tests.output["exit-code"] == 0')).toBe(true);
    expect(holds('steps["run-tests"].status == "completed"')).toBe(true);
  });

  it('treats a path that leads nowhere as undefined, and every comparison with it as false', () => {
    expect(holds('steps.deploy.output.url == "x"')).toBe(false);
    expect(holds('steps.deploy.output.url != "x"')).toBe(false);
    expect(holds('steps.deploy.output.count > 0 || steps.deploy.output.count <= 0')).toBe(false);
    expect(holds('steps.deploy.status in ["completed"]')).toBe(false);
    expect(holds('!steps.deploy.output')).toBe(true);
    expect(holds('steps.test.output.suites[5] == "x"')).toBe(false);
    expect(holds('steps.lint.output.anything == null')).toBe(false);
  });

  it('reads own data only, never prototypes', () => {
    expect(holds('steps.test.output.constructor == null')).toBe(false);
    expect(holds('"constructor" in steps.test.output')).toBe(false);
    expect(holds('steps.test.output["__proto__"] != null')).toBe(false);
    expect(holds('steps.test.output.toString')).toBe(false);
  });

  it('uses the truthiness of a bare value', () => {
    expect(holds('steps.test.output.success')).toBe(true);
    expect(holds('steps.test.output.failed')).toBe(false);
    expect(holds('""')).toBe(false);
    expect(holds('[]')).toBe(true);
  });
});

describe('refusing conditions that do not parse, saying where', () => {
  it.each([
    ['steps.test.output.failed = 0', 25, 'unexpected character "="'],
    ['steps.test.output.failed == ', 28, 'unexpected end of condition'],
    ['steps.lint.status == "completed', 21, 'string is not closed'],
    ['(steps.test.output.failed == 0', 30, 'expected ")"'],
    ['steps.test.output.failed == 0 steps.lint.status', 30, 'unexpected "steps"'],
    ['1 < 2 < 3', 6, 'comparisons cannot be chained'],
    ['process.exit(1)', 0, 'unknown name "process"'],
    ['steps.test.output.0 == 1', 18, 'use [n] for an index'],
    ['steps.test.output[-1] == 1', 18, 'non-negative integer'],
    ['"a\\q" == "a"', 2, 'unknown escape'],
    ['', 0, 'unexpected end of condition'],
  ])('%s', (source, position, problem) => {
    const error = refusal(source);
    expect(error.code).toBe('InvalidCondition');
    expect(error.position).toBe(position);
    expect(error.source).toBe(source);
    expect(error.message).toContain(problem);
    expect(error.message).toContain(`at position ${position}`);
  });

  it('refuses nesting deeper than it will follow', () => {
    expect(refusal(`${'('.repeat(40)}true${')'.repeat(40)}`).message).toContain('nested more than 32 levels deep');
    expect(refusal(`${'!'.repeat(40)}true`).message).toContain('nested more than 32 levels deep');
    expect(isRight(parseCondition(`${'('.repeat(20)}true${')'.repeat(20)}`))).toBe(true);
  });

  it('refuses a condition too long to be a condition', () => {
    expect(refusal(`steps.a.status == "${'x'.repeat(2_000)}"`).message).toContain('longer than 2000 characters');
  });

  it('never runs what it is given', () => {
    for (const attempt of ['constructor.constructor("return process")()', 'this.process', 'globalThis', '`${1}`', 'steps.a.output; 1', 'a => 1']) {
      expect(refusal(attempt).code).toBe('InvalidCondition');
    }
  });
});

import { describe, expect, it } from 'vitest';
import { executorFor, executors } from '../../../adapters/executors/registry.ts';
import type { Executor } from '../../../domain/ports/executor.ts';

// Whether a task may run again after an attempt whose outcome is unknown is each executor's
// own declaration, for the parameters it was given: read-only work may; a production deploy
// and code edits may not (the task then waits for a check or a person).

const safeToRunAgain = (taskType: string, params: Record<string, unknown>): boolean => {
  const executor = executorFor(taskType) as Executor;
  return executor.rerunSafe!(executor.parameters.parse(params));
};

describe('rerunSafe declarations', () => {
  it('every registered executor declares it', () => {
    for (const executor of executors) expect(typeof (executor as Executor).rerunSafe, executor.taskType).toBe('function');
  });

  it('read-only executors may always run again', () => {
    expect(safeToRunAgain('git-status', { repository: 'acme' })).toBe(true);
    expect(safeToRunAgain('analyze-codebase', { repository: 'acme' })).toBe(true);
    expect(safeToRunAgain('lint', { repository: 'acme' })).toBe(true);
    expect(safeToRunAgain('run-tests', { repository: 'acme' })).toBe(true);
    expect(safeToRunAgain('sf-run-apex-tests', { repository: 'acme', testLevel: 'RunLocalTests' })).toBe(true);
    const report = executorFor('report') as Executor;
    expect(report.rerunSafe!(undefined)).toBe(true);
  });

  it('sf-deploy only as a validation; claude-code only outside edit mode', () => {
    expect(safeToRunAgain('sf-deploy', { repository: 'acme', mode: 'validate' })).toBe(true);
    expect(safeToRunAgain('sf-deploy', { repository: 'acme', mode: 'deploy' })).toBe(false);
    expect(safeToRunAgain('sf-deploy', { repository: 'acme' })).toBe(false);
    for (const mode of ['review', 'plan', 'investigate']) expect(safeToRunAgain('claude-code', { repository: 'acme', prompt: 'x', mode })).toBe(true);
    expect(safeToRunAgain('claude-code', { repository: 'acme', prompt: 'x', mode: 'edit' })).toBe(false);
  });

  it('only sf-deploy can check how an earlier attempt ended', () => {
    expect(executors.filter((e) => typeof (e as Executor).checkOutcome === 'function').map((e) => e.taskType)).toEqual(['sf-deploy']);
  });
});

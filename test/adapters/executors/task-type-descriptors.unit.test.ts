import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { costCeilingUsdFor, executorFor, executors, taskTypeDescriptors } from '../../../adapters/executors/registry.ts';
import { offlinePlan } from '../../../adapters/offline-planner/offline-planner.ts';
import { capabilitiesOf, parseIntent } from '../../../domain/intent/index.ts';
import { taskSteps } from '../../../domain/plan/index.ts';
import { resultReply } from '../../../domain/replies/result-reply.ts';
import { estimatedMsFor } from '../../../domain/task-types/estimates.ts';
import { loadConfig } from '../../../infra/config/load-config.ts';
import { doorFacts } from '../../../infra/doors/door-facts.ts';
import { taskDoor } from '../../../infra/doors/task-door.ts';
import { POOLS, workerCount } from '../../../infra/pools.ts';

// One descriptor per task type: what the product knows about a type comes from the registry's
// list, nowhere else. count-lines was added as one file and one registration line; these show
// chat, the door, replies and plan estimates know it without any other change.

const config = (env: Record<string, string> = {}) => loadConfig(env, { envFile: false });

describe('every registered task type', () => {
  it.each(executors.map((e) => [e.taskType, e] as const))('%s is described: pool with workers, description, estimate', (_, executor) => {
    expect(POOLS).toContain(executor.pool);
    expect(executor.description.trim()).not.toBe('');
    expect(executor.estimatedMs).toBeGreaterThan(0);
  });

  it('a cost setting a descriptor names holds an amount in the configuration', () => {
    const cost = config().cost;
    for (const { taskType } of executors) expect(() => costCeilingUsdFor(taskType, cost)).not.toThrow();
    expect(costCeilingUsdFor('claude-code', config({ COST_CLAUDE_RUN_CEILING: '2.5' }).cost)).toBe(2.5);
    expect(costCeilingUsdFor('git-status', cost)).toBeUndefined();
    expect(costCeilingUsdFor('no-such-type', cost)).toBeUndefined();
    expect(() => costCeilingUsdFor('claude-code', {})).toThrow(/claudeRunCeilingUsd/);
  });

  it('chat phrasings compile, and each example asks for its own type', () => {
    for (const { taskType, example } of capabilitiesOf(executors)) {
      const parsed = parseIntent(example, {}, executors);
      expect(isRight(parsed) && parsed.right.taskType, example).toBe(taskType);
    }
  });
});

describe('pools read their worker count from the setting each names', () => {
  it('no ternary: each pool its own setting, an unknown pool none', () => {
    const settings = config({ LOCAL_WORKER_COUNT: '4', WORKER_COUNT: '5', CLAUDE_WORKER_COUNT: '6' });
    expect(POOLS.map((pool) => [pool, workerCount(settings, pool)])).toEqual([
      ['local-ops', 4],
      ['salesforce', 5],
      ['claude', 6],
    ]);
    expect(workerCount(settings, 'gpu')).toBe(0);
  });
});

describe('count-lines, known everywhere through its descriptor', () => {
  it.each([
    ['count lines in acme', {}, 'acme', 'request'],
    ['count the lines of code of `team/acme`', {}, 'team/acme', 'request'],
    ['<@U1> how many lines of code are there in acme?', {}, 'acme', 'request'],
    ['now count the lines', { currentRepo: 'acme' }, 'acme', 'context'],
  ] as const)('chat: %j is recognised by the offline intent parser', (text, context, repository, repositoryFrom) => {
    const parsed = parseIntent(text, context, executors);
    if (isLeft(parsed)) expect.fail(`${parsed.left.code}: ${parsed.left.message}`);
    expect(parsed.right).toMatchObject({ taskType: 'count-lines', params: { repository }, repositoryFrom, summary: `count the lines in ${repository}` });
    expect(executorFor('count-lines')?.parameters.safeParse(parsed.right.params).success).toBe(true);
  });

  it('chat: it is among what the parser offers when it does not understand', () => {
    const refused = parseIntent('make me a sandwich', {}, executors);
    if (isRight(refused)) expect.fail('understood a sandwich');
    expect(refused.left.capabilities.map((c) => c.taskType)).toContain('count-lines');
    expect(refused.left.message).toContain("count the lines of a repository's files");
    expect(refused.left.message).toContain('"count lines in my-service"');
  });

  it('chat: no repository anywhere asks for one, in its own words', () => {
    const refused = parseIntent('count lines', {}, executors);
    expect(isLeft(refused) && refused.left).toMatchObject({
      code: 'RepositoryNotGiven',
      taskType: 'count-lines',
      message: expect.stringContaining('"count the lines in my-service"'),
    });
  });

  it('chat: a registry without it does not understand it', () => {
    expect(
      isLeft(
        parseIntent(
          'count lines in acme',
          {},
          executors.filter((e) => e.taskType !== 'count-lines'),
        ),
      ),
    ).toBe(true);
  });

  it('the door admits a QueueTask of it to local-ops, and refuses what its schema or pool refuse', () => {
    const door = taskDoor(doorFacts(config()));
    const queue = (data: Record<string, unknown>) => ({
      type: 'QueueTask',
      id: 't-1',
      at: '2026-12-07T20:00:00.000Z',
      actor: 'api:ci',
      data: {
        taskId: 't-1',
        taskType: 'count-lines',
        pool: 'local-ops',
        payload: { repository: 'acme', extensions: ['.ts'] },
        timeoutMs: 60_000,
        requestedBy: 'api:ci',
        ...data,
      },
    });
    expect(door(queue({}))).toBeUndefined();
    expect(door(queue({ pool: 'claude' }))).toMatchObject({ code: 'UnknownPool', message: expect.stringContaining('(it runs in "local-ops")') });
    expect(door(queue({ payload: { repository: 'acme', extensions: ['ts'] } }))).toMatchObject({
      code: 'InvalidTaskParameters',
      message: expect.stringContaining('payload.extensions'),
    });
    expect(door(queue({ payload: { repository: '../../etc' } }))?.code).toBe('OutsideWorkspace');
  });

  it('its result reads in its own reply format; a result of another shape is shown as returned', () => {
    const result = {
      repository: 'acme',
      extensions: ['.ts'],
      files: 2,
      lines: 5,
      byExtension: [{ extension: '.ts', files: 2, lines: 5 }],
      largestFiles: [{ path: 'src/a.ts', lines: 3 }],
      skipped: { binary: 0, tooLarge: 0, unreadable: 0 },
      truncated: false,
    };
    const reply = resultReply({ taskId: 't-1', taskType: 'count-lines', outcome: 'completed', result }, taskTypeDescriptors);
    expect(reply).toMatchObject({ title: '5 lines in 2 files', tone: 'success', summary: 'Files ending in .ts.', footer: 'acme · task t-1' });
    expect(reply.sections).toEqual([
      { heading: 'By extension', lines: ['.ts: 5 lines in 2 files'] },
      { heading: 'Largest files', lines: ['src/a.ts: 3 lines'] },
    ]);
    const odd = resultReply({ taskId: 't-1', taskType: 'count-lines', outcome: 'completed', result: { lines: 'many' } }, taskTypeDescriptors);
    expect(odd).toMatchObject({ tone: 'warning', summary: expect.stringContaining('did not have the shape a count-lines result has') });
  });

  it('the offline planner plans it as one read-only step with its estimate', () => {
    const produced = offlinePlan('count lines in acme', { variables: {} }, executors);
    if (isLeft(produced)) expect.fail(`${produced.left.code}: ${produced.left.message}`);
    expect(taskSteps(produced.right.plan).map((s) => [s.taskType, s.params])).toEqual([['count-lines', { repository: 'acme' }]]);
    expect(produced.right.plan.estimate).toEqual({ estimatedMs: 10_000, estimatedCostUsd: 0 });
    expect(estimatedMsFor(executors, ['count-lines', 'git-status', 'no-such-type'])).toBe(10_000 + 2_000 + 60_000);
  });
});

describe('domain/task-types is pure', () => {
  const folder = path.resolve(import.meta.dirname, '../../../domain/task-types');
  it.each(readdirSync(folder).filter((f) => f.endsWith('.ts')))('%s imports only domain/', (file) => {
    const source = readFileSync(path.join(folder, file), 'utf8');
    for (const [, specifier] of source.matchAll(/from '([^']+)'/g)) {
      expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\.?\//);
      expect(path.resolve(folder, specifier!).startsWith(path.resolve(folder, '..'))).toBe(true);
    }
    expect(source).not.toMatch(/Date\.now|new Date\(|process\.|node:/);
  });
});

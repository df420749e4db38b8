import { isLeft } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import type { CommandInput } from '../../actors/runtime/aggregate-definition.ts';
import { sideEffectingTaskTypes, taskTypes } from '../../adapters/executors/registry.ts';
import { compileTemplate, type CompiledWorkflow } from '../../domain/workflow/index.ts';
import { loadConfig } from '../../infra/config/load-config.ts';
import { admissionsFor } from '../../infra/doors/admissions.ts';
import { doorFacts } from '../../infra/doors/door-facts.ts';
import { taskDoor } from '../../infra/doors/task-door.ts';
import { checkDefinition, workflowDoor } from '../../infra/doors/workflow-door.ts';

// The doors read this deployment's facts from its real configuration and executor registry.

const config = (env: Record<string, string> = {}) => loadConfig(env, { envFile: false });
const bare = doorFacts(config());
const full = doorFacts(config({ WEBHOOK_SIGNING_SECRET: 'whsec-1', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'sign-1' }));

const command = (type: string, data: Record<string, unknown>): CommandInput => ({ type, id: 't-1', at: '2026-12-07T20:00:00.000Z', data, actor: 'api:ci' });
const queueTask = (data: Record<string, unknown>) =>
  command('QueueTask', {
    taskId: 't-1',
    taskType: 'git-status',
    pool: 'local-ops',
    payload: { repository: 'acme' },
    timeoutMs: 60_000,
    requestedBy: 'api:ci',
    ...data,
  });

describe('task door (QueueTask)', () => {
  const door = taskDoor(bare);

  it('lets a task a worker here runs in', () => {
    expect(door(queueTask({}))).toBeUndefined();
    expect(door(queueTask({ replyTo: { kind: 'nats', subject: 'ci.results' } }))).toBeUndefined();
  });

  it('an unknown task type: UnknownTaskType', () => {
    expect(door(queueTask({ taskType: 'rm-rf' }))).toMatchObject({ code: 'UnknownTaskType', message: 'the task: no worker here runs "rm-rf" tasks' });
  });

  it('a pool that does not exist, or does not run the type: UnknownPool', () => {
    expect(door(queueTask({ pool: 'gpu' }))).toMatchObject({
      code: 'UnknownPool',
      message: expect.stringContaining('there is no pool "gpu"; pools: local-ops, salesforce, claude'),
    });
    expect(door(queueTask({ pool: 'salesforce' }))).toMatchObject({
      code: 'UnknownPool',
      message: expect.stringContaining('pool "salesforce" does not run "git-status" tasks (it runs in "local-ops")'),
    });
  });

  it("parameters the executor's schema refuses: InvalidTaskParameters with the issues", () => {
    const refusal = door(queueTask({ payload: { repo: 'acme' } }));
    expect(refusal?.code).toBe('InvalidTaskParameters');
    expect(refusal?.message).toContain('payload.repository');
    expect(door(queueTask({ payload: null }))?.code).toBe('InvalidTaskParameters');
    expect(door(queueTask({ taskType: 'run-tests', payload: { repository: 'acme', timeoutMs: 5 } }))?.message).toContain('payload.timeoutMs');
  });

  it.each([['../../etc'], ['/etc'], ['~/secrets'], ['file:///etc/passwd'], ['acme/../../x'], ['C:\\Windows']])(
    'repository %s: OutsideWorkspace',
    (repository) => {
      expect(door(queueTask({ payload: { repository } }))).toMatchObject({ code: 'OutsideWorkspace', message: expect.stringContaining('payload.repository') });
    },
  );

  it('a path deeper in the payload is found too', () => {
    expect(door(queueTask({ taskType: 'lint', payload: { repository: 'acme', paths: ['src', '../../etc'] } }))?.code).toBe('OutsideWorkspace');
  });

  it('a webhook reply target without WEBHOOK_SIGNING_SECRET, a Slack one without Slack: ReplyTargetNotServed', () => {
    expect(door(queueTask({ replyTo: { kind: 'webhook', url: 'https://ci.example.com/hook' } }))).toMatchObject({
      code: 'ReplyTargetNotServed',
      message: expect.stringContaining('WEBHOOK_SIGNING_SECRET'),
    });
    expect(door(queueTask({ replyTo: { kind: 'slack', channel: 'C1', threadTs: '1.2' } }))).toMatchObject({
      code: 'ReplyTargetNotServed',
      message: expect.stringContaining('SLACK_BOT_TOKEN'),
    });
  });

  it('with the secret and Slack set, both are served', () => {
    const served = taskDoor(full);
    expect(served(queueTask({ replyTo: { kind: 'webhook', url: 'https://ci.example.com/hook' } }))).toBeUndefined();
    expect(served(queueTask({ replyTo: { kind: 'slack', channel: 'C1', threadTs: '1.2' } }))).toBeUndefined();
  });

  it("the workflow engine's step tasks, `$from` values filled in, are checked like any other (the engine fails the step with the reason)", () => {
    const fromEngine = (data: Record<string, unknown>) => ({ ...queueTask(data), actor: 'workflow-engine' });
    expect(door(fromEngine({ payload: { repository: null } }))?.code).toBe('InvalidTaskParameters');
    expect(door(fromEngine({ payload: { repository: '../../etc' } }))?.code).toBe('OutsideWorkspace');
    expect(door(queueTask({ payload: { repository: null } }))?.code).toBe('InvalidTaskParameters');
    expect(door(fromEngine({ taskType: 'rm-rf' }))?.code).toBe('UnknownTaskType');
    expect(door(fromEngine({ pool: 'gpu' }))?.code).toBe('UnknownPool');
  });

  it('other task commands pass untouched', () => {
    expect(door(command('CancelTask', { taskId: 't-1', reason: 'x', requestedBy: 'U1' }))).toBeUndefined();
  });
});

const registry = { taskTypes, sideEffecting: sideEffectingTaskTypes };
const compiled = (templateId: string, values: Record<string, string>): CompiledWorkflow => {
  const result = compileTemplate(templateId, values, registry);
  if (isLeft(result)) throw new Error(JSON.stringify(result.left));
  return result.right;
};
const startWorkflow = (definition: unknown) => command('StartWorkflow', { workflowId: 'wf-1', definition, inputs: {}, requestedBy: 'U1' });

/** A hand-written compiled definition with one task step (what a raw StartWorkflow carries). */
const oneStep = (step: Record<string, unknown>): CompiledWorkflow =>
  ({
    name: 'raw',
    form: 'stateMachine',
    machine: {
      start: 's',
      nodes: [
        {
          kind: 'task',
          id: 's',
          taskType: 'git-status',
          params: { repository: 'acme' },
          retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0, nonRetryable: [] },
          sideEffects: false,
          next: [{ to: 'done' }],
          ...step,
        },
        { kind: 'end', id: 'done', outcome: 'completed' },
      ],
    },
  }) as CompiledWorkflow;

describe('workflow door (StartWorkflow)', () => {
  const door = workflowDoor(bare);

  it('lets every template in with a repository inside the workspace, `$from` references left for later', () => {
    for (const [id, values] of [
      ['code-review', { repository: 'acme' }],
      ['analyze-and-improve', { repository: 'acme' }],
      ['deployment', { repository: 'acme', targetOrg: 'my-sandbox' }],
    ] as const) {
      expect(door(startWorkflow(compiled(id, values))), id).toBeUndefined();
    }
  });

  it('a template started with repository=../../etc: OutsideWorkspace, naming the step', () => {
    const refusal = door(startWorkflow(compiled('code-review', { repository: '../../etc' })));
    expect(refusal?.code).toBe('OutsideWorkspace');
    expect(refusal?.message).toMatch(/^step "[a-z-]+": paths must stay inside the workspace: params.repository = "..\/..\/etc"/);
  });

  it('a raw definition with an unknown task type, a wrong pool, or bad literal parameters', () => {
    expect(door(startWorkflow(oneStep({ taskType: 'curl' })))).toMatchObject({
      code: 'UnknownTaskType',
      message: 'step "s": no worker here runs "curl" tasks',
    });
    expect(door(startWorkflow(oneStep({ pool: 'claude' })))?.code).toBe('UnknownPool');
    expect(door(startWorkflow(oneStep({ params: { repository: 7 } })))?.code).toBe('InvalidTaskParameters');
  });

  it('checks steps inside parallel branches', () => {
    const inner = oneStep({ taskType: 'curl' }).machine;
    const definition = {
      name: 'p',
      form: 'stateMachine',
      machine: {
        start: 'par',
        nodes: [
          { kind: 'parallel', id: 'par', branches: [inner], next: [{ to: 'end' }] },
          { kind: 'end', id: 'end', outcome: 'completed' },
        ],
      },
    };
    expect(checkDefinition(definition as CompiledWorkflow, bare)?.code).toBe('UnknownTaskType');
  });

  it('a parameter given as a reference or a placeholder is checked when the step runs, not now', () => {
    expect(checkDefinition(oneStep({ params: { repository: { $from: 'steps.a.output.repo' } } }), bare)).toBeUndefined();
    expect(checkDefinition(oneStep({ params: { repository: '{{later}}' } }), bare)).toBeUndefined();
  });

  it('a raw definition that calls a deploy free of side effects (so nothing gates it) is refused: SideEffectsUnderstated', () => {
    const deploy = { taskType: 'sf-deploy', pool: 'salesforce', params: { repository: 'acme', targetOrg: 'prod', mode: 'deploy' } };
    expect(door(startWorkflow(oneStep({ ...deploy, sideEffects: false })))).toMatchObject({
      code: 'SideEffectsUnderstated',
      message: expect.stringMatching(/^step "s": sf-deploy with these parameters deploys/),
    });
    // Declared, it passes the door (and the workflow decider then wants a gate in front of it).
    expect(door(startWorkflow(oneStep({ ...deploy, sideEffects: true })))).toBeUndefined();
    // A validation is read-only, and may say so.
    expect(door(startWorkflow(oneStep({ ...deploy, params: { ...deploy.params, mode: 'validate' }, sideEffects: false })))).toBeUndefined();
  });

  it('other workflow commands pass untouched', () => {
    expect(door(command('GrantApproval', { workflowId: 'wf-1', stepId: 'x', approver: 'U1' }))).toBeUndefined();
  });
});

describe('admissions for the aggregates role', () => {
  it('task and workflow have doors; other categories none', () => {
    const doorOf = admissionsFor(config());
    expect(doorOf('task')).toBeTypeOf('function');
    expect(doorOf('workflow')).toBeTypeOf('function');
    expect(doorOf('conversation')).toBeUndefined();
  });
});

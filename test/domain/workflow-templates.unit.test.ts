import { isLeft } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { executors } from '../../adapters/executors/registry.ts';
import {
  checkTemplate,
  compileTemplate,
  instantiateTemplate,
  templateById,
  workflowDecider,
  workflowEventSchemas,
  workflowTemplates,
  type CompiledWorkflow,
  type Machine,
  type WorkflowCommand,
  type WorkflowEvent,
  type WorkflowNode,
  type WorkflowTemplate,
} from '../../domain/workflow/index.ts';
import { fixturesFor, grant, recordCompleted, requester } from './workflow-fixtures.ts';

// WF2: the built-in templates are data; each validates once its parameters are filled in.

// The task types workers really run, and which of them change something outside.
const registry = {
  taskTypes: executors.map((e) => e.taskType),
  sideEffecting: executors.filter((e) => e.sideEffects).map((e) => e.taskType),
};
const values: Record<string, Record<string, string>> = {
  'analyze-and-improve': { repository: 'acme/api' },
  'bug-fix': { repository: 'acme/api', issue: 'login fails for names with accents' },
  deployment: { repository: 'acme/crm', targetOrg: 'prod' },
  'code-review': { repository: 'acme/api' },
};

const compileOrFail = (id: string, supplied: Record<string, string | string[]>): CompiledWorkflow => {
  const result = compileTemplate(id, supplied, registry);
  if (isLeft(result)) expect.fail(result.left.map((e) => e.message).join('; '));
  return result.right;
};

const allNodes = (machine: Machine): WorkflowNode[] =>
  machine.nodes.flatMap((node) => [node, ...(node.kind === 'parallel' ? node.branches.flatMap(allNodes) : [])]);
const stepIds = (workflow: CompiledWorkflow) =>
  allNodes(workflow.machine)
    .filter((n) => n.kind === 'task' || n.kind === 'approval')
    .map((n) => n.id);

describe.each(workflowTemplates.map((t) => [t.id, t] as const))('template %s', (id, template) => {
  it('declares every placeholder it uses and uses every parameter it declares', () => expect(checkTemplate(template)).toEqual([]));

  it('validates once its parameters are filled in, with nothing left unfilled', () => {
    const workflow = compileOrFail(id, values[id]!);
    expect(JSON.stringify(workflow)).not.toMatch(/\{\{\s*\w+\s*\}\}/);
    expect(JSON.stringify(workflow)).toContain(values[id]!.repository);
  });

  it('changes nothing outside without an approval first (OR3)', () => {
    const workflow = compileOrFail(id, values[id]!);
    const nodes = new Map(allNodes(workflow.machine).map((n) => [n.id, n]));
    // Everything reachable from the start without passing an approval gate.
    const seen = new Set<string>();
    const pending = [workflow.machine.start];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const node = nodes.get(next)!;
      if (seen.has(next) || node.kind === 'approval') continue;
      seen.add(next);
      if (node.kind === 'parallel') pending.push(...node.branches.map((b) => b.start));
      if (node.kind !== 'end') pending.push(...node.next.map((t) => t.to));
    }
    const unguarded = [...seen].filter((nodeId) => {
      const node = nodes.get(nodeId)!;
      return node.kind === 'task' && node.sideEffects;
    });
    expect(unguarded).toEqual([]);
  });

  it('runs only task types a worker runs', () => {
    const tasks = allNodes(compileOrFail(id, values[id]!).machine).filter((n) => n.kind === 'task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const task of tasks) expect(registry.taskTypes, task.id).toContain(task.taskType);
  });

  it('is refused, naming each step, when a task type it needs is not registered', () => {
    const tasks = allNodes(compileOrFail(id, values[id]!).machine).flatMap((n) => (n.kind === 'task' ? [n] : []));
    for (const taskType of new Set(tasks.map((t) => t.taskType))) {
      const result = compileTemplate(id, values[id]!, { ...registry, taskTypes: registry.taskTypes.filter((t) => t !== taskType) });
      expect(isLeft(result) && result.left.map((e) => [e.code, 'culprit' in e ? e.culprit : undefined]), taskType).toEqual(
        tasks.filter((t) => t.taskType === taskType).map((t) => ['UnknownTaskType', t.id]),
      );
    }
  });
});

describe('what each template does (WF2)', () => {
  it('full analysis & improvement: analyze, prioritize, fix the high-priority issues once approved, test, report', () => {
    const workflow = compileOrFail('analyze-and-improve', values['analyze-and-improve']!);
    expect(stepIds(workflow)).toEqual(['analyze', 'prioritize', 'approve-fixes', 'implement', 'test', 'report']);
    expect(allNodes(workflow.machine)).toContainEqual(expect.objectContaining({ kind: 'choice', id: 'fixes-needed' }));
  });
  it('bug fix: reproduce, root cause, fix, verify', () =>
    expect(stepIds(compileOrFail('bug-fix', values['bug-fix']!))).toEqual(['reproduce', 'root-cause', 'approve-fix', 'fix', 'verify']));
  it('deployment: validate, test, approval, deploy, smoke test', () => {
    const workflow = compileOrFail('deployment', values.deployment!);
    expect(stepIds(workflow)).toEqual(['validate', 'test', 'approve-deploy', 'deploy', 'smoke-test']);
    expect(allNodes(workflow.machine)).toContainEqual(
      expect.objectContaining({ id: 'approve-deploy', requesterMayApprove: false, timeoutMs: 600_000, reminderBeforeMs: 120_000 }),
    );
  });
  it('code review: three reviews in parallel, then combine and report', () => {
    const workflow = compileOrFail('code-review', values['code-review']!);
    expect(workflow.machine.nodes[0]).toMatchObject({
      kind: 'parallel',
      id: 'reviews',
      branches: [{ start: 'security-review' }, { start: 'performance-review' }, { start: 'quality-review' }],
    });
    expect(stepIds(workflow).slice(3)).toEqual(['combine', 'report']);
  });
});

describe('filling in parameters', () => {
  it('puts values into parameters, titles and text, and splices lists into approvers', () => {
    const workflow = compileOrFail('deployment', { ...values.deployment!, approvers: 'U1, U2,,' });
    const nodes = allNodes(workflow.machine);
    expect(nodes.find((n) => n.id === 'validate')).toMatchObject({ params: { repository: 'acme/crm', targetOrg: 'prod', mode: 'validate' } });
    expect(nodes.find((n) => n.id === 'approve-deploy')).toMatchObject({ title: 'Deploy to prod?', approvers: ['U1', 'U2'] });
  });
  it('takes a list as a list', () => {
    const workflow = compileOrFail('bug-fix', { ...values['bug-fix']!, approvers: ['U7'] });
    expect(allNodes(workflow.machine).find((n) => n.id === 'approve-fix')).toMatchObject({ approvers: ['U7'] });
  });
  it('uses defaults for what is not given', () => {
    const workflow = compileOrFail('code-review', values['code-review']!);
    expect(JSON.stringify(workflow)).toContain('Review the changes on the current branch against its base for security problems');
  });

  it('refuses missing, unknown and unsafe values, naming each', () => {
    const result = instantiateTemplate(templateById('deployment')!, { repository: 'x}}', environment: 'prod', approvers: 'U1' });
    expect(isLeft(result) && result.left.map((e) => [e.code, e.parameter])).toEqual([
      ['UnknownParameter', 'environment'],
      ['InvalidParameterValue', 'repository'],
      ['MissingParameter', 'targetOrg'],
    ]);
    const list = instantiateTemplate(templateById('code-review')!, { repository: ['a', 'b'] });
    expect(isLeft(list) && list.left.map((e) => e.message)).toEqual(['"repository" takes one value, not a list']);
  });

  it('refuses a template that does not exist, naming those that do', () => {
    const result = compileTemplate('deploy-everything', {}, registry);
    expect(isLeft(result) && result.left).toEqual([
      { code: 'UnknownTemplate', message: 'no template "deploy-everything"; templates: analyze-and-improve, bug-fix, deployment, code-review' },
    ]);
  });

  it('finds a template that uses a placeholder it does not declare, or declares one it does not use', () => {
    const broken: WorkflowTemplate = {
      id: 'broken',
      title: 'Broken',
      description: 'for the test',
      parameters: { repository: { description: 'x' }, unused: { description: 'y' } },
      definition: {
        form: 'stepTree',
        name: 'broken',
        root: { type: 'task', id: 'a', taskType: 'lint', params: { repository: '{{repository}}', branch: '{{branch}}' } },
      },
    };
    expect(checkTemplate(broken).map((e) => [e.code, e.parameter])).toEqual([
      ['UndeclaredPlaceholder', 'branch'],
      ['UnusedParameter', 'unused'],
    ]);
  });
});

describe('running a template through the workflow decider', () => {
  const run = (workflow: CompiledWorkflow, outcomes: WorkflowCommand[], { dryRun = false } = {}) => {
    let state = workflowDecider.initialState();
    const emitted: WorkflowEvent[] = [];
    for (const c of [fixturesFor(workflow).startWorkflow({ dryRun }), ...outcomes]) {
      const result = workflowDecider.decide(c, state);
      if (isLeft(result)) expect.fail(`${c.type} was rejected: ${result.left.message}`);
      emitted.push(...result.right);
      state = result.right.reduce(workflowDecider.evolve, state);
    }
    for (const e of emitted) expect(workflowEventSchemas[e.type].safeParse(e.data).success, e.type).toBe(true);
    return { state, types: emitted.map((e) => e.type), emitted };
  };

  it('deploys once checks pass and someone other than the requester approves', () => {
    const workflow = compileOrFail('deployment', values.deployment!);
    const { state, types } = run(workflow, [
      recordCompleted('validate', { success: true }),
      recordCompleted('test', { success: true, failed: 0 }),
      grant('approve-deploy', 'U-ops'),
      recordCompleted('deploy', { success: true }),
      recordCompleted('smoke-test', { success: true }),
    ]);
    expect(types).toEqual([
      'WorkflowStarted',
      'StepScheduled',
      'StepCompleted',
      'StepScheduled',
      'StepCompleted',
      'BranchTaken',
      'ApprovalRequested',
      'ApprovalGranted',
      'StepScheduled',
      'StepCompleted',
      'StepScheduled',
      'StepCompleted',
      'WorkflowCompleted',
    ]);
    expect(state.status).toBe('completed');
  });

  it('deploys nothing when the tests fail', () => {
    const { state, emitted } = run(compileOrFail('deployment', values.deployment!), [
      recordCompleted('validate', { success: true }),
      recordCompleted('test', { success: false, failed: 3 }),
    ]);
    expect(emitted.filter((e) => e.type === 'StepSkipped').map((e) => e.data)).toEqual([
      expect.objectContaining({ stepId: 'approve-deploy' }),
      expect.objectContaining({ stepId: 'deploy' }),
      expect.objectContaining({ stepId: 'smoke-test' }),
    ]);
    expect(state).toMatchObject({ status: 'failed', failure: { cause: 'EndedInFailure', reason: 'validation or tests failed; nothing was deployed' } });
  });

  it('walks the whole deployment in a dry run, recording instead of deploying', () => {
    const workflow = compileOrFail('deployment', values.deployment!);
    const { emitted } = run(workflow, [recordCompleted('validate', { success: true }), recordCompleted('test', { success: true })], { dryRun: true });
    expect(emitted.some((e) => e.type === 'ApprovalRequested')).toBe(false);
    expect(emitted.filter((e) => e.type === 'StepScheduled').map((e) => [e.data.stepId, e.data.dryRun])).toEqual([
      ['validate', false],
      ['test', false],
      ['deploy', true],
    ]);
  });

  it('hands the reviews to the step that combines them', () => {
    const workflow = compileOrFail('code-review', values['code-review']!);
    const { emitted } = run(workflow, [
      recordCompleted('security-review', { findings: ['sql injection'] }),
      recordCompleted('quality-review', { findings: [] }),
      recordCompleted('performance-review', { findings: ['n+1'] }),
    ]);
    const combine = emitted.find((e) => e.type === 'StepScheduled' && e.data.stepId === 'combine');
    expect(combine?.data).toMatchObject({
      params: { security: { findings: ['sql injection'] }, performance: { findings: ['n+1'] }, quality: { findings: [] } },
    });
  });

  it('asks for approval with the requester named', () => {
    const workflow = compileOrFail('bug-fix', values['bug-fix']!);
    const { emitted } = run(workflow, [recordCompleted('reproduce', { command: 'npm test' }), recordCompleted('root-cause', { cause: 'unicode' })]);
    expect(emitted.at(-1)).toMatchObject({ type: 'ApprovalRequested', data: { stepId: 'approve-fix', requestedBy: requester, approvers: [] } });
  });
});

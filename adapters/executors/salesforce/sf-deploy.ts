import { z } from 'zod';
import { ExecutionFailed, type ExecutionContext, type Executor } from '../../../domain/ports/executor.ts';
import { repoHas, resolveInWorkspace } from '../workspace.ts';
import { asArray, count, type Json, projectParameter, record, runSf, SF_STAGES, sfFailure, targetOrgArgs, orgName, targetOrgParameter, testNamesParameter, text, waitMinutesParameter } from './sf-cli.ts';

// `sf-deploy`: `sf project deploy start --json` from the project folder to the target org.
// `validate` is a dry run (`--dry-run`: the org checks and tests the deployment, nothing is
// saved). Components the org refused are a result (success false, with each error), not a
// failed execution; a missing authorisation, a missing CLI or a lost connection are failures.

const DEPLOY_TEST_LEVELS = ['NoTestRun', 'RunSpecifiedTests', 'RunLocalTests', 'RunAllTestsInOrg'] as const;

const parameters = z
  .object({
    repository: projectParameter,
    targetOrg: targetOrgParameter,
    mode: z.enum(['validate', 'deploy']).default('deploy'),
    testLevel: z.enum(DEPLOY_TEST_LEVELS).optional(),
    /** With RunSpecifiedTests: the Apex test classes or methods to run. */
    tests: testNamesParameter.optional(),
    waitMinutes: waitMinutesParameter,
  })
  .refine((p) => p.testLevel !== 'RunSpecifiedTests' || p.tests !== undefined, { message: 'RunSpecifiedTests needs tests', path: ['tests'] });
export type SfDeployParams = z.infer<typeof parameters>;

export interface ComponentError {
  /** `Type Name` as the org names it, e.g. `ApexClass AccountService`. */
  readonly component: string;
  readonly problem: string;
  readonly line?: number;
}

export interface SfDeployResult {
  readonly success: boolean;
  readonly deployId: string | null;
  readonly mode: 'validate' | 'deploy';
  /** The org's status: Succeeded, Failed, SucceededPartial, Canceled. */
  readonly status: string | null;
  readonly componentsDeployed: number;
  readonly componentsTotal: number;
  readonly componentErrors: ComponentError[];
  readonly testsRun: number;
  readonly testFailures: { name: string; message: string }[];
  readonly durationMs: number;
}

/** sf's argv for the parameters (no shell ever sees it). */
function deployArgs(params: SfDeployParams): string[] {
  return [
    'project', 'deploy', 'start', '--json',
    ...targetOrgArgs(params.targetOrg),
    ...(params.mode === 'validate' ? ['--dry-run'] : []),
    ...(params.testLevel ? ['--test-level', params.testLevel] : []),
    ...(params.tests ?? []).flatMap((name) => ['--tests', name]),
    '--wait', String(params.waitMinutes),
  ];
}

function componentErrors(result: Json): ComponentError[] {
  const failures = asArray(record(result.details).componentFailures).map(record);
  const fromDetails = failures.map((f) => ({
    component: [text(f.componentType), text(f.fullName)].filter(Boolean).join(' ') || 'unknown component',
    problem: text(f.problem) ?? 'no problem given',
    ...(count(f.lineNumber) > 0 ? { line: count(f.lineNumber) } : {}),
  }));
  if (fromDetails.length > 0) return fromDetails;
  // Some failures appear only among the files sf read locally.
  return asArray(result.files)
    .map(record)
    .filter((f) => f.state === 'Failed')
    .map((f) => ({ component: [text(f.type), text(f.fullName)].filter(Boolean).join(' ') || 'unknown component', problem: text(f.error) ?? 'no problem given' }));
}

function testFailures(result: Json): { name: string; message: string }[] {
  const run = record(record(result.details).runTestResult);
  return asArray(run.failures)
    .map(record)
    .map((f) => ({ name: [text(f.namespace), text(f.name), text(f.methodName)].filter(Boolean).join('.'), message: text(f.message) ?? '' }));
}

async function execute(params: SfDeployParams, context: ExecutionContext): Promise<SfDeployResult> {
  context.progress({ stage: 'prepare', fraction: 0 });
  const project = await resolveInWorkspace(context.workspaceRoot, params.repository);
  if (!(await repoHas(project, 'sfdx-project.json'))) {
    throw new ExecutionFailed('NotASalesforceProject', `${params.repository} has no sfdx-project.json: it is not a Salesforce DX project`, false);
  }
  const action = params.mode === 'validate' ? `validating against ${orgName(params.targetOrg)}` : `deploying to ${orgName(params.targetOrg)}`;
  context.progress({ stage: 'prepare', fraction: 1, details: action });

  context.progress({ stage: 'run', fraction: 0, details: action });
  const { run, envelope } = await runSf(deployArgs(params), project, context, params.waitMinutes);
  const result = envelope?.result;
  if (envelope === undefined || typeof result !== 'object' || result === null || !('id' in result)) {
    throw sfFailure(envelope, run, params.mode === 'validate' ? 'validation failed' : 'deploy failed');
  }
  const deploy = record(result);
  const status = text(deploy.status) ?? null;
  if (status === 'InProgress' || status === 'Pending' || status === 'Canceling' || deploy.done === false) {
    // A new attempt would queue a second deploy behind this one: say where it is instead.
    throw new ExecutionFailed('DeployStillRunning', `deploy ${String(deploy.id)} was still ${status ?? 'running'} in ${orgName(params.targetOrg)} after ${params.waitMinutes} min; follow it with \`sf project deploy report --job-id ${String(deploy.id)}\``, false);
  }
  context.progress({ stage: 'run', fraction: 1 });

  context.progress({ stage: 'report', fraction: 0 });
  const errors = componentErrors(deploy);
  const failedTests = testFailures(deploy);
  const outcome: SfDeployResult = {
    success: deploy.success === true && status !== 'SucceededPartial' && errors.length === 0 && failedTests.length === 0,
    deployId: text(deploy.id) ?? null,
    mode: params.mode,
    status,
    componentsDeployed: count(deploy.numberComponentsDeployed),
    componentsTotal: count(deploy.numberComponentsTotal),
    componentErrors: errors,
    testsRun: count(deploy.numberTestsTotal),
    testFailures: failedTests,
    durationMs: run.durationMs,
  };
  context.progress({
    stage: 'report',
    fraction: 1,
    counters: { componentsDeployed: outcome.componentsDeployed, componentsTotal: outcome.componentsTotal, componentErrors: errors.length, testFailures: failedTests.length },
  });
  return outcome;
}

export const sfDeploy = {
  taskType: 'sf-deploy' as const,
  pool: 'salesforce',
  parameters,
  stages: SF_STAGES,
  sideEffects: true,
  execute,
} satisfies Executor<SfDeployParams, SfDeployResult>;

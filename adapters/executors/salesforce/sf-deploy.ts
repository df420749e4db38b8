import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ExecutionFailed, type ExecutionContext, type OutcomeCheck } from '../../../domain/ports/executor.ts';
import { repoHas, resolveInWorkspace } from '../workspace.ts';
import type { RunResult } from '../process.ts';
import {
  asArray,
  count,
  type Json,
  projectParameter,
  record,
  runSf,
  SF_STAGES,
  sfFailure,
  targetOrgArgs,
  orgName,
  targetOrgParameter,
  testNamesParameter,
  text,
  waitMinutesParameter,
  type SfEnvelope,
} from './sf-cli.ts';
import type { TaskTypeExecutor } from '../task-type.ts';

// `sf-deploy`: `sf project deploy start --json` from the project folder to the target org.
// `validate` is a dry run (`--dry-run`: the org checks and tests the deployment, nothing is
// saved). Components the org refused are a result (success false, with each error), not a
// failed execution; a missing authorisation, a missing CLI or a lost connection are failures.
//
// A real deploy must happen at most once. It is started with `--async`, so the org's job id is
// known (and recorded on the task as evidence) before anything waits on it; then `deploy
// resume --job-id` follows it. Should the worker die meanwhile, the deploy goes on in the org
// and the task's outcome is unknown: `checkOutcome` asks the org (`deploy report --job-id`)
// how that job ended instead of deploying again.

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

/** sf's argv for the parameters (no shell ever sees it): a validation waits; a real deploy starts asynchronously. */
function deployArgs(params: SfDeployParams): string[] {
  return [
    'project',
    'deploy',
    'start',
    '--json',
    ...targetOrgArgs(params.targetOrg),
    ...(params.mode === 'validate' ? ['--dry-run'] : []),
    ...(params.testLevel ? ['--test-level', params.testLevel] : []),
    ...(params.tests ?? []).flatMap((name) => ['--tests', name]),
    ...(params.mode === 'validate' ? ['--wait', String(params.waitMinutes)] : ['--async']),
  ];
}

const resumeArgs = (params: SfDeployParams, jobId: string): string[] => [
  'project',
  'deploy',
  'resume',
  '--job-id',
  jobId,
  '--json',
  ...targetOrgArgs(params.targetOrg),
  '--wait',
  String(params.waitMinutes),
];
const reportArgs = (params: SfDeployParams, jobId: string): string[] => [
  'project',
  'deploy',
  'report',
  '--job-id',
  jobId,
  '--json',
  ...targetOrgArgs(params.targetOrg),
];

/** A Metadata API deploy id (`0Af…`, 15 or 18 characters); anything else is never passed to sf. */
const DEPLOY_JOB_ID = /^0Af[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/;
const REPORT_EVERY_MS = 2_000;
const IN_PROGRESS = new Set(['Queued', 'Pending', 'InProgress', 'Canceling']);

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
    .map((f) => ({
      component: [text(f.type), text(f.fullName)].filter(Boolean).join(' ') || 'unknown component',
      problem: text(f.error) ?? 'no problem given',
    }));
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
  const { deploy, durationMs } = params.mode === 'validate' ? await validate(params, project, context) : await deployOnce(params, project, context);
  const status = text(deploy.status) ?? null;
  if ((status !== null && IN_PROGRESS.has(status)) || deploy.done === false) {
    // A new attempt would queue a second deploy behind this one: say where it is instead.
    throw new ExecutionFailed(
      'DeployStillRunning',
      `deploy ${String(deploy.id)} was still ${status ?? 'running'} in ${orgName(params.targetOrg)} after ${params.waitMinutes} min; follow it with \`sf project deploy report --job-id ${String(deploy.id)}\``,
      false,
    );
  }
  context.progress({ stage: 'run', fraction: 1 });

  context.progress({ stage: 'report', fraction: 0 });
  const outcome = resultOf(deploy, params, durationMs);
  context.progress({
    stage: 'report',
    fraction: 1,
    counters: {
      componentsDeployed: outcome.componentsDeployed,
      componentsTotal: outcome.componentsTotal,
      componentErrors: outcome.componentErrors.length,
      testFailures: outcome.testFailures.length,
    },
  });
  return outcome;
}

interface Followed {
  readonly deploy: Json;
  readonly durationMs: number;
}

/** A dry run saves nothing: `start --wait`, run again freely. */
async function validate(params: SfDeployParams, project: string, context: ExecutionContext): Promise<Followed> {
  const { run, envelope } = await runSf(deployArgs(params), project, context, params.waitMinutes);
  return { deploy: deployIn(envelope, run, 'validation failed'), durationMs: run.durationMs };
}

/** Starts the deploy, records its job id on the task, then follows it to its end. */
async function deployOnce(params: SfDeployParams, project: string, context: ExecutionContext): Promise<Followed> {
  const started = await runSf(deployArgs(params), project, context, params.waitMinutes);
  const jobId = text(deployIn(started.envelope, started.run, 'deploy failed').id);
  if (jobId === undefined || !DEPLOY_JOB_ID.test(jobId))
    throw new ExecutionFailed('UnreadableSfOutput', `deploy failed: sf started a deploy without a readable job id (${String(jobId)})`, false);
  await context.recordEvidence?.({ deployJobId: jobId });
  const followed = await runSf(resumeArgs(params, jobId), project, context, params.waitMinutes);
  try {
    return {
      deploy: deployIn(followed.envelope, followed.run, `deploy ${jobId} could not be followed`),
      durationMs: started.run.durationMs + followed.run.durationMs,
    };
  } catch (error) {
    // The deploy is under way in the org: another attempt would deploy a second time.
    const why = error instanceof Error ? error.message : String(error);
    throw new ExecutionFailed('DeployOutcomeUnknown', `${why}; the deploy was started: see \`sf project deploy report --job-id ${jobId}\``, false);
  }
}

/** The deploy result in sf's envelope, or the failure sf reported. */
function deployIn(envelope: SfEnvelope | undefined, run: RunResult, what: string): Json {
  const result = envelope?.result;
  if (envelope === undefined || typeof result !== 'object' || result === null || !('id' in result)) throw sfFailure(envelope, run, what);
  return record(result);
}

function resultOf(deploy: Json, params: SfDeployParams, durationMs: number): SfDeployResult {
  const status = text(deploy.status) ?? null;
  const errors = componentErrors(deploy);
  const failedTests = testFailures(deploy);
  return {
    success: deploy.success === true && status !== 'SucceededPartial' && errors.length === 0 && failedTests.length === 0,
    deployId: text(deploy.id) ?? null,
    mode: params.mode,
    status,
    componentsDeployed: count(deploy.numberComponentsDeployed),
    componentsTotal: count(deploy.numberComponentsTotal),
    componentErrors: errors,
    testsRun: count(deploy.numberTestsTotal),
    testFailures: failedTests,
    durationMs,
  };
}

/**
 * How the deploy job an earlier attempt recorded ended, from the org (`deploy report --job-id`),
 * waiting while it still runs (up to `waitMinutes`). Anything sf cannot tell is `unknown`.
 */
async function checkOutcome(
  params: SfDeployParams,
  evidence: Readonly<Record<string, string>>,
  context: ExecutionContext,
): Promise<OutcomeCheck<SfDeployResult>> {
  const jobId = evidence.deployJobId;
  if (params.mode === 'validate') return { outcome: 'unknown', reason: 'a validation saves nothing; run it again' };
  if (jobId === undefined || !DEPLOY_JOB_ID.test(jobId)) return { outcome: 'unknown', reason: 'no deploy job id was recorded, so the org cannot be asked' };
  try {
    const project = await resolveInWorkspace(context.workspaceRoot, params.repository);
    const deadline = Date.now() + params.waitMinutes * 60_000;
    for (;;) {
      const { run, envelope } = await runSf(reportArgs(params, jobId), project, context, 1);
      const deploy = deployIn(envelope, run, `sf could not report deploy ${jobId}`);
      const status = text(deploy.status);
      if ((status === undefined || !IN_PROGRESS.has(status)) && deploy.done !== false)
        return { outcome: 'completed', result: resultOf(deploy, params, run.durationMs) };
      if (Date.now() > deadline) return { outcome: 'unknown', reason: `deploy ${jobId} was still ${status ?? 'running'} after ${params.waitMinutes} min` };
      await sleep(REPORT_EVERY_MS, undefined, { signal: context.signal });
    }
  } catch (error) {
    return { outcome: 'unknown', reason: error instanceof Error ? error.message : String(error) };
  }
}

export const sfDeploy = {
  taskType: 'sf-deploy' as const,
  pool: 'salesforce',
  description: 'deploy (or validate) Salesforce metadata from a repository to an org',
  estimatedMs: 10 * 60_000,
  outcomeCheck: { tool: 'sf', subject: 'the deploy' },
  parameters,
  stages: SF_STAGES,
  sideEffects: true,
  /** A validation saves nothing; a real deploy must not run twice. */
  rerunSafe: (params: SfDeployParams) => params.mode === 'validate',
  sideEffectClass: (params: SfDeployParams) => (params.mode === 'validate' ? 'read-only' : 'deploy'),
  checkOutcome,
  execute,
} satisfies TaskTypeExecutor<SfDeployParams, SfDeployResult>;

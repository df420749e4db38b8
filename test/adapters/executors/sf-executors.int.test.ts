import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { executorFor } from '../../../adapters/executors/registry.ts';
import { sfDeploy } from '../../../adapters/executors/salesforce/sf-deploy.ts';
import { sfRunApexTests } from '../../../adapters/executors/salesforce/sf-run-apex-tests.ts';
import { ExecutionFailed, overallPercent, type ExecutionContext, type Executor, type ProgressUpdate } from '../../../domain/ports/executor.ts';
import { loadConfig } from '../../../infra/config/load-config.ts';
import { POOLS, workerCount } from '../../../infra/pools.ts';
import { runningInGroup } from '../../support/processes.ts';

// The Salesforce executors against test/support/sf-standin.mjs, a stand-in `sf` that answers
// with the CLI's documented --json envelopes; SF_STANDIN_* variables steer it (see its header).

const STANDIN = fileURLToPath(new URL('../../support/sf-standin.mjs', import.meta.url));
const execFileAsync = promisify(execFile);

let root: string;
let log: string;
beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(tmpdir(), 'orch-sf-')));
  log = path.join(root, 'sf-calls.jsonl');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(() => {
  for (const name of ['SF_STANDIN_LOG', 'SF_STANDIN_FAIL', 'SF_STANDIN_DELAY_MS']) delete process.env[name];
});

/** Steers the stand-in for the next runs; the executors pass SF_* variables on to sf. */
function standin(settings: { fail?: string; delayMs?: number } = {}) {
  process.env.SF_STANDIN_LOG = log;
  if (settings.fail) process.env.SF_STANDIN_FAIL = settings.fail;
  if (settings.delayMs) process.env.SF_STANDIN_DELAY_MS = String(settings.delayMs);
}

interface Call {
  argv: string[];
  cwd: string;
  pid: number;
}
const calls = async (): Promise<Call[]> =>
  (await readFile(log, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Call);

/** A Salesforce DX project with one component per class (a .cls and its -meta.xml). */
async function project(name: string, classes: string[] = ['AccountService', 'InvoiceService', 'InvoiceServiceTest']): Promise<string> {
  const folder = path.join(root, name, 'force-app', 'main', 'default', 'classes');
  await mkdir(folder, { recursive: true });
  await writeFile(
    path.join(root, name, 'sfdx-project.json'),
    JSON.stringify({ packageDirectories: [{ path: 'force-app', default: true }], sourceApiVersion: '62.0' }),
  );
  for (const cls of classes) {
    await writeFile(path.join(folder, `${cls}.cls`), `public class ${cls} {}\n`);
    await writeFile(path.join(folder, `${cls}.cls-meta.xml`), '<ApexClass/>\n');
  }
  return path.join(root, name);
}

function contextFor(signal = new AbortController().signal, sf: string | undefined = STANDIN) {
  const updates: ProgressUpdate[] = [];
  const context: ExecutionContext = {
    taskId: 'task-sf',
    attempt: 1,
    workspaceRoot: root,
    signal,
    programs: sf === undefined ? undefined : { sf },
    progress: (u) => updates.push(u),
  };
  return { context, updates };
}

async function run<P, R>(executor: Executor<P, R>, params: Record<string, unknown>, options: { signal?: AbortSignal; sf?: string } = {}) {
  const { context, updates } = contextFor(options.signal, 'sf' in options ? options.sf : STANDIN);
  return { result: await executor.execute(executor.parameters.parse(params), context), updates };
}
/** The org's own record of the deploys started from a project (the stand-in's `deploys.jsonl`). */
const orgDeploys = async (folder: string): Promise<{ id: string; checkOnly: boolean; async: boolean }[]> =>
  (await readFile(path.join(folder, '.sf', 'standin-org', 'deploys.jsonl'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { id: string; checkOnly: boolean; async: boolean });

/** Starts a deploy with the stand-in directly, as a worker that then died would have: its job id. */
async function startedJob(folder: string, argv: string[]): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [STANDIN, ...argv], { cwd: folder, env: process.env });
  return (JSON.parse(stdout) as { result: { id: string } }).result.id;
}
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as ExecutionFailed,
  );

function expectProgress(executor: Executor, updates: readonly ProgressUpdate[]) {
  const percents = updates.map((u) => overallPercent(executor.stages, u.stage, u.fraction));
  percents.forEach((p, i) => expect(p).toBeGreaterThanOrEqual(percents[i - 1] ?? 0));
  expect(percents.at(-1)).toBe(100);
}

describe('sf-deploy', () => {
  it('validate: a dry run from the project folder, with the counts sf reports', async () => {
    const folder = await project('validate-ok');
    standin();
    const before = (await calls()).length;
    const { result, updates } = await run(sfDeploy as Executor, { repository: 'validate-ok', targetOrg: 'dev-sandbox', mode: 'validate' });
    expect(result).toMatchObject({
      success: true,
      mode: 'validate',
      status: 'Succeeded',
      componentsDeployed: 3,
      componentsTotal: 3,
      componentErrors: [],
      testsRun: 0,
    });
    expect((result as { deployId: string }).deployId).toMatch(/^0Af/);
    const made = (await calls()).slice(before);
    expect(made).toHaveLength(1);
    expect(made[0]!.cwd).toBe(folder);
    expect(made[0]!.argv).toEqual(['project', 'deploy', 'start', '--json', '--target-org', 'dev-sandbox', '--dry-run', '--wait', '30']);
    expectProgress(sfDeploy as Executor, updates);
    expect(updates.at(-1)?.counters).toMatchObject({ componentsDeployed: 3, componentsTotal: 3, componentErrors: 0 });
  });

  it('deploy (the default mode) with a test level: started --async, its job id recorded before it is followed, tests counted', async () => {
    const folder = await project('deploy-ok', ['A', 'B', 'C', 'D']);
    standin();
    const before = (await calls()).length;
    const { context } = contextFor();
    const recorded: { evidence: Readonly<Record<string, string>>; callsSoFar: number }[] = [];
    const withEvidence: ExecutionContext = {
      ...context,
      recordEvidence: async (evidence) => void recorded.push({ evidence, callsSoFar: (await calls()).length - before }),
    };
    const result = await sfDeploy.execute(
      sfDeploy.parameters.parse({ repository: 'deploy-ok', targetOrg: 'ops@example.com.uat', testLevel: 'RunLocalTests', waitMinutes: 10 }),
      withEvidence,
    );
    expect(result).toMatchObject({ success: true, mode: 'deploy', componentsDeployed: 4, componentsTotal: 4, testsRun: 4, testFailures: [] });
    const made = (await calls()).slice(before);
    expect(made.map((c) => c.argv)).toEqual([
      ['project', 'deploy', 'start', '--json', '--target-org', 'ops@example.com.uat', '--test-level', 'RunLocalTests', '--async'],
      ['project', 'deploy', 'resume', '--job-id', result.deployId, '--json', '--target-org', 'ops@example.com.uat', '--wait', '10'],
    ]);
    // Recorded after the start and before the resume: whoever finds this worker gone can ask the org.
    expect(recorded).toEqual([{ evidence: { deployJobId: result.deployId }, callsSoFar: 1 }]);
    expect(await orgDeploys(folder)).toEqual([expect.objectContaining({ id: result.deployId, checkOnly: false, async: true })]);
  });

  it('is safe to run again only as a validation', () => {
    expect(sfDeploy.rerunSafe(sfDeploy.parameters.parse({ repository: 'x', mode: 'validate' }))).toBe(true);
    expect(sfDeploy.rerunSafe(sfDeploy.parameters.parse({ repository: 'x' }))).toBe(false);
  });

  it('checkOutcome asks the org how a recorded deploy job ended, waiting while it runs, without deploying again', async () => {
    const folder = await project('check-ok', ['A', 'B']);
    standin();
    process.env.SF_STANDIN_DEPLOY_MS = '2500';
    try {
      const params = sfDeploy.parameters.parse({ repository: 'check-ok', targetOrg: 'prod', waitMinutes: 1 });
      const { context } = contextFor();
      // What a worker that died after starting the deploy left behind: the job, running in the org.
      const jobId = await startedJob(folder, ['project', 'deploy', 'start', '--json', '--target-org', 'prod', '--async']);
      const before = (await calls()).length;
      const checked = await sfDeploy.checkOutcome(params, { deployJobId: jobId }, context);
      expect(checked).toMatchObject({ outcome: 'completed', result: { success: true, deployId: jobId, status: 'Succeeded', componentsDeployed: 2 } });
      const made = (await calls()).slice(before);
      expect(made.length).toBeGreaterThanOrEqual(2); // InProgress first, then the end
      for (const call of made) expect(call.argv).toEqual(['project', 'deploy', 'report', '--job-id', jobId, '--json', '--target-org', 'prod']);
      expect(await orgDeploys(folder)).toHaveLength(1);
    } finally {
      delete process.env.SF_STANDIN_DEPLOY_MS;
    }
  });

  it('checkOutcome reports a deploy the org refused as its result, and what it cannot tell as unknown', async () => {
    const folder = await project('check-refused');
    standin({ fail: 'component' });
    const params = sfDeploy.parameters.parse({ repository: 'check-refused', targetOrg: 'prod' });
    const jobId = await startedJob(folder, ['project', 'deploy', 'start', '--json', '--target-org', 'prod', '--async']);
    const { context } = contextFor();
    expect(await sfDeploy.checkOutcome(params, { deployJobId: jobId }, context)).toMatchObject({
      outcome: 'completed',
      result: { success: false, status: 'Failed', componentErrors: [{}, {}] },
    });
    expect(await sfDeploy.checkOutcome(params, { deployJobId: '0AfUNKNOWNJOB00' }, context)).toMatchObject({
      outcome: 'unknown',
      reason: expect.stringContaining('InvalidIdFieldError'),
    });
    expect(await sfDeploy.checkOutcome(params, {}, context)).toMatchObject({ outcome: 'unknown' });
    expect(await sfDeploy.checkOutcome(params, { deployJobId: '--dry-run' }, context)).toMatchObject({ outcome: 'unknown' });
  });

  it('components the org refuses: a result with success false and each error, not a failed execution', async () => {
    await project('refused');
    standin({ fail: 'component' });
    const { result } = await run(sfDeploy as Executor, { repository: 'refused', targetOrg: 'dev' });
    expect(result).toMatchObject({
      success: false,
      status: 'Failed',
      componentsDeployed: 1,
      componentsTotal: 3,
      componentErrors: [
        { component: 'ApexClass AccountService', problem: 'Variable does not exist: missingField1', line: 3 },
        { component: 'ApexClass InvoiceService', problem: 'Variable does not exist: missingField2', line: 4 },
      ],
    });
  });

  it('a single refused component (the Metadata API sends one object, not a list) is read too', async () => {
    await project('one-refused', ['Lonely']);
    standin({ fail: 'component' });
    const { result } = await run(sfDeploy as Executor, { repository: 'one-refused', targetOrg: 'dev' });
    expect(result).toMatchObject({ success: false, componentErrors: [{ component: 'ApexClass Lonely', problem: 'Variable does not exist: missingField1' }] });
  });

  it('failing Apex tests during a deploy: success false with the failures', async () => {
    await project('deploy-tests-fail');
    standin({ fail: 'tests' });
    const { result } = await run(sfDeploy as Executor, { repository: 'deploy-tests-fail', targetOrg: 'dev', testLevel: 'RunLocalTests' });
    expect(result).toMatchObject({
      success: false,
      componentErrors: [],
      testsRun: 4,
      testFailures: [{ name: 'InvoiceServiceTest.testTotals', message: 'System.AssertException: Assertion Failed: Expected: 2, Actual: 1' }],
    });
  });

  it('an org that is not authorised: SalesforceAuthFailed, not retryable', async () => {
    await project('no-auth');
    standin({ fail: 'auth' });
    const error = await failure(run(sfDeploy as Executor, { repository: 'no-auth', targetOrg: 'prod' }));
    expect(error).toBeInstanceOf(ExecutionFailed);
    expect(error).toMatchObject({ code: 'SalesforceAuthFailed', retryable: false });
    expect(error?.message).toContain('No authorization information found for prod');
  });

  it('an expired session is an auth failure too', async () => {
    await project('expired');
    standin({ fail: 'expired' });
    expect(await failure(run(sfDeploy as Executor, { repository: 'expired', targetOrg: 'prod' }))).toMatchObject({
      code: 'SalesforceAuthFailed',
      retryable: false,
    });
  });

  it('a dropped connection: SalesforceUnreachable, retryable', async () => {
    await project('network');
    standin({ fail: 'network' });
    expect(await failure(run(sfDeploy as Executor, { repository: 'network', targetOrg: 'prod' }))).toMatchObject({
      code: 'SalesforceUnreachable',
      retryable: true,
    });
  });

  it('a deploy still running when --wait ran out: not retried (it would queue a second deploy), with the job id', async () => {
    await project('slow-org');
    standin({ fail: 'wait' });
    const error = await failure(run(sfDeploy as Executor, { repository: 'slow-org', targetOrg: 'prod', waitMinutes: 1 }));
    expect(error).toMatchObject({ code: 'DeployStillRunning', retryable: false });
    expect(error?.message).toMatch(/sf project deploy report --job-id 0Af/);
  });

  it('output that is not sf JSON: UnreadableSfOutput with the tail of what it printed', async () => {
    await project('garbage');
    standin({ fail: 'garbage' });
    const error = await failure(run(sfDeploy as Executor, { repository: 'garbage', targetOrg: 'prod' }));
    expect(error).toMatchObject({ code: 'UnreadableSfOutput', retryable: false });
    expect(error?.message).toContain('502 Bad Gateway');
  });

  it('sf missing: RunnerNotInstalled, naming SF_BIN', async () => {
    await project('no-cli');
    const error = await failure(run(sfDeploy as Executor, { repository: 'no-cli', targetOrg: 'dev' }, { sf: path.join(root, 'no-such-sf') }));
    expect(error).toMatchObject({ code: 'RunnerNotInstalled', retryable: false });
    expect(error?.message).toContain('SF_BIN');
    expect(error?.message).toContain('no-such-sf');
  });

  it('a folder without sfdx-project.json: NotASalesforceProject, and sf is never started', async () => {
    await mkdir(path.join(root, 'plain'), { recursive: true });
    standin();
    const before = (await calls()).length;
    expect(await failure(run(sfDeploy as Executor, { repository: 'plain', targetOrg: 'dev' }))).toMatchObject({
      code: 'NotASalesforceProject',
      retryable: false,
    });
    expect((await calls()).length).toBe(before);
  });

  it('a symlink leading out of the workspace: PathOutsideWorkspace', async () => {
    const outside = await mkdtemp(path.join(tmpdir(), 'orch-sf-outside-'));
    try {
      await writeFile(path.join(outside, 'sfdx-project.json'), '{}');
      await symlink(outside, path.join(root, 'escape'));
      expect(await failure(run(sfDeploy as Executor, { repository: 'escape', targetOrg: 'dev' }))).toMatchObject({ code: 'PathOutsideWorkspace' });
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('cancellation stops the sf process while it runs', async () => {
    await project('cancel');
    standin({ delayMs: 30_000 });
    const before = (await calls()).length;
    const controller = new AbortController();
    const running = failure(run(sfDeploy as Executor, { repository: 'cancel', targetOrg: 'dev' }, { signal: controller.signal }));
    let started: Call | undefined;
    for (let i = 0; i < 200 && !started; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      started = (await calls())[before];
    }
    expect(started).toBeDefined();
    expect(runningInGroup(started!.pid)).toEqual([started!.pid]); // the stand-in leads its own group

    const aborted = Date.now();
    controller.abort();
    const error = await running;
    expect(Date.now() - aborted).toBeLessThan(3_000);
    expect(error).toMatchObject({ code: 'Cancelled', retryable: false });
    expect(runningInGroup(started!.pid)).toEqual([]);
  });
});

describe('sf-deploy parameters', () => {
  const parse = (params: Record<string, unknown>) => sfDeploy.parameters.safeParse(params);

  it('refuses repositories that leave the workspace or are absolute', () => {
    for (const repository of ['../elsewhere', 'a/../../b', '..', '/etc', '', 'a\u0000b']) {
      expect(parse({ repository, targetOrg: 'dev' }).success, repository).toBe(false);
    }
  });

  it('refuses org names that are not an alias or a username', () => {
    for (const targetOrg of ['', 'my sandbox', 'dev; rm -rf /', '$(whoami)', '`id`', '-o', '--target-org=x', 'a|b', 'x'.repeat(81), 'dev\n']) {
      expect(parse({ repository: 'p', targetOrg }).success, targetOrg).toBe(false);
    }
    for (const targetOrg of ['dev', 'my_sandbox-1', 'ops@example.com.uat', 'first.last+ci@acme.io']) {
      expect(parse({ repository: 'p', targetOrg }).success, targetOrg).toBe(true);
    }
  });

  it('defaults to deploy; refuses unknown modes and test levels; RunSpecifiedTests needs tests', () => {
    expect(sfDeploy.parameters.parse({ repository: 'p', targetOrg: 'dev' })).toMatchObject({ mode: 'deploy', waitMinutes: 30 });
    expect(parse({ repository: 'p', targetOrg: 'dev', mode: 'quick' }).success).toBe(false);
    expect(parse({ repository: 'p', targetOrg: 'dev', testLevel: 'RunEverything' }).success).toBe(false);
    expect(parse({ repository: 'p', targetOrg: 'dev', testLevel: 'RunSpecifiedTests' }).success).toBe(false);
    expect(parse({ repository: 'p', targetOrg: 'dev', testLevel: 'RunSpecifiedTests', tests: ['InvoiceServiceTest'] }).success).toBe(true);
    expect(parse({ repository: 'p', targetOrg: 'dev', testLevel: 'RunSpecifiedTests', tests: ['--dry-run'] }).success).toBe(false);
  });
});

describe('sf-run-apex-tests', () => {
  it('passing tests: counts and outcome, with the documented arguments', async () => {
    const folder = await project('apex-pass');
    standin();
    const before = (await calls()).length;
    const { result, updates } = await run(sfRunApexTests as Executor, { repository: 'apex-pass', targetOrg: 'dev' });
    expect(result).toMatchObject({ success: true, outcome: 'Passed', passed: 4, failed: 0, skipped: 0, failures: [], testRunId: '707000000000001' });
    const made = (await calls()).slice(before);
    expect(made[0]!.cwd).toBe(folder);
    expect(made[0]!.argv).toEqual([
      'apex',
      'run',
      'test',
      '--json',
      '--target-org',
      'dev',
      '--test-level',
      'RunLocalTests',
      '--wait',
      '30',
      '--result-format',
      'json',
    ]);
    expectProgress(sfRunApexTests as Executor, updates);
    expect(updates.at(-1)?.counters).toEqual({ passed: 4, failed: 0, skipped: 0 });
  });

  it('failing tests (sf exits 100): a result with success false and each failure', async () => {
    await project('apex-fail');
    standin({ fail: 'tests' });
    const { result } = await run(sfRunApexTests as Executor, {
      repository: 'apex-fail',
      targetOrg: 'dev',
      testLevel: 'RunSpecifiedTests',
      tests: ['InvoiceServiceTest'],
    });
    expect(result).toMatchObject({
      success: false,
      outcome: 'Failed',
      passed: 2,
      failed: 2,
      failures: [
        { name: 'InvoiceServiceTest.testTotals', message: 'System.AssertException: Assertion Failed: testTotals expected 2 but was 1' },
        { name: 'InvoiceServiceTest.testTaxes', message: 'System.AssertException: Assertion Failed: testTaxes expected 2 but was 1' },
      ],
    });
  });

  it('an org that is not authorised: SalesforceAuthFailed, not retryable', async () => {
    await project('apex-auth');
    standin({ fail: 'auth' });
    expect(await failure(run(sfRunApexTests as Executor, { repository: 'apex-auth', targetOrg: 'prod' }))).toMatchObject({
      code: 'SalesforceAuthFailed',
      retryable: false,
    });
  });

  it('refuses NoTestRun (not a level of apex run test) and bad org names', () => {
    expect(sfRunApexTests.parameters.safeParse({ repository: 'p', targetOrg: 'dev', testLevel: 'NoTestRun' }).success).toBe(false);
    expect(sfRunApexTests.parameters.safeParse({ repository: 'p', targetOrg: 'a b' }).success).toBe(false);
    expect(sfRunApexTests.parameters.safeParse({ repository: '../p', targetOrg: 'dev' }).success).toBe(false);
  });
});

describe('registration', () => {
  it('both run on the salesforce pool, whose worker count is WORKER_COUNT; only the deploy changes things', () => {
    expect(executorFor('sf-deploy')).toMatchObject({ pool: 'salesforce', sideEffects: true });
    expect(executorFor('sf-run-apex-tests')).toMatchObject({ pool: 'salesforce', sideEffects: false });
    expect(POOLS).toContain('salesforce');
    expect(workerCount(loadConfig({ WORKER_COUNT: '2' }, { envFile: false }), 'salesforce')).toBe(2);
  });
});

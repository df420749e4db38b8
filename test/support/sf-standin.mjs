#!/usr/bin/env node
// A stand-in for the Salesforce CLI (`sf`), for tests: answers the two commands the executors
// run with the documented `--json` envelope and exit codes, without any org.
//
//   sf project deploy start --json --target-org <org> [--dry-run] [--test-level L] [--tests T]... --wait <min>
//     → {status, result: {id, status, success, done, checkOnly, numberComponentsDeployed,
//        numberComponentsTotal, numberComponentErrors, numberTestsTotal, numberTestsCompleted,
//        numberTestErrors, details: {componentFailures, runTestResult}, files}, warnings}
//   sf apex run test --json --target-org <org> --test-level L [--tests T]... --wait <min> --result-format json
//     → {status, result: {summary: {outcome, testsRan, passing, failing, skipped, testRunId, …}, tests: […]}, warnings}
//   errors → {status, name, message, exitCode, code, context, commandName, actions, stack, warnings}
//
// Exit codes as the real CLI: 0 success; 1 a failed deploy or an error; 100 failing Apex tests;
// 69 a deploy still running when --wait ran out; 127 an unknown command.
//
// Steered by environment variables:
//   SF_STANDIN_LOG       file to append one JSON line per invocation to, before anything else:
//                        {argv, cwd, pid, time} (so tests can count runs and find the process)
//   SF_STANDIN_FAIL      what goes wrong:
//                          auth       the org is not authorised (NamedOrgNotFoundError, exit 1)
//                          expired    the org's session expired (INVALID_SESSION_ID-style, exit 1)
//                          network    the connection drops (socket hang up / ECONNRESET, exit 1)
//                          component  the deploy fails: two components refused (exit 1)
//                          tests      Apex tests fail: in a deploy (exit 1) or `apex run test` (exit 100)
//                          wait       the deploy is still in progress when --wait runs out (exit 69)
//                          garbage    prints something that is not JSON (exit 1)
//   SF_STANDIN_DELAY_MS  milliseconds to sleep before answering (so a test can cancel mid-run)
//   SF_STANDIN_LEAK_TOKEN  an error also prints the org's access token, as sf has done in error
//                        output: in the message, in a `data.accessToken` field and as an
//                        `Authorization: Bearer` line on stderr. `1` prints LEAKED_ACCESS_TOKEN
//                        below; any other value is printed as the token itself.
//   SF_STANDIN_LEAK_FILE   an error's message and stderr also carry this file's text (whatever
//                        else a test wants an sf error to print: other tokens, keys, URLs)
//
// A deploy counts the components of the project in the working directory (one per
// `*-meta.xml` under force-app/) and needs sfdx-project.json there, as sf does.
//
// The org: every deploy started (with or without --async) is a job the org runs whatever
// happens to the process that started it, kept as `<id>.json` in SF_STANDIN_ORG_DIR (default
// `.sf/standin-org` in the project, where sf caches its deploy jobs) and appended as one line
// {id, checkOnly, async, pid, time} to `deploys.jsonl` there: the org's own record of what was
// deployed, so tests count real deploys. Async deploys and the commands that follow them:
//   sf project deploy start --async --json …            → {status: 0, result: {id, status: 'Queued', done: false, …}}
//   sf project deploy resume --job-id <id> --json [--wait <min>]
//                                                        → waits until the job is done, then answers as
//                                                          `start` does (exit 0, 1, or 69 when --wait ran out)
//   sf project deploy report --job-id <id> --json         → the job's current result without waiting:
//                                                          InProgress (exit 69) until it is done, then as `start`
// An unknown job id answers InvalidIdFieldError (exit 1).
//   SF_STANDIN_DEPLOY_MS  how long an async deploy takes in the org (default 0)
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const env = process.env;

if (env.SF_STANDIN_LOG) {
  appendFileSync(env.SF_STANDIN_LOG, `${JSON.stringify({ argv, cwd: process.cwd(), pid: process.pid, time: new Date().toISOString() })}\n`);
}

const delay = Number(env.SF_STANDIN_DELAY_MS ?? 0);
if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));

const fail = env.SF_STANDIN_FAIL ?? '';
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const flags = (name) => argv.flatMap((arg, i) => (arg === name && argv[i + 1] !== undefined ? [argv[i + 1]] : []));
const json = argv.includes('--json');
const command = argv
  .filter((arg) => !arg.startsWith('-'))
  .slice(0, 3)
  .join(' ');
const commandName =
  {
    'project deploy start': 'DeployMetadata',
    'project deploy resume': 'DeployMetadataResume',
    'project deploy report': 'DeployMetadataReport',
    'apex run test': 'Test',
  }[command] ?? 'sf';

function finish(exitCode, envelope, human) {
  process.stdout.write(json ? `${JSON.stringify(envelope, null, 2)}\n` : `${human}\n`);
  process.exitCode = exitCode;
}

/** A made-up Salesforce access token (org id, `!`, token) for SF_STANDIN_LEAK_TOKEN=1. */
export const LEAKED_ACCESS_TOKEN = '00D5g000004LEAKAB!AQ0AQPlantedAccessTokenFromTheSfStandIn.x9Yq2Zr7';
const leakedToken = env.SF_STANDIN_LEAK_TOKEN === '1' ? LEAKED_ACCESS_TOKEN : env.SF_STANDIN_LEAK_TOKEN;

function error(name, message, { exitCode = 1, actions = [] } = {}) {
  if (leakedToken) {
    message = `${message} (request with session ${leakedToken} refused)`;
    process.stderr.write(`DEBUG request headers: Authorization: Bearer ${leakedToken}\n`);
  }
  if (env.SF_STANDIN_LEAK_FILE) {
    const extra = readFileSync(env.SF_STANDIN_LEAK_FILE, 'utf8');
    message = `${message}\n${extra}`;
    process.stderr.write(extra);
  }
  finish(
    exitCode,
    {
      code: name,
      context: commandName,
      commandName,
      exitCode,
      message,
      name,
      status: exitCode,
      actions,
      ...(leakedToken ? { data: { accessToken: leakedToken, instanceUrl: 'https://standin.my.salesforce.com' } } : {}),
      stack: `${name}: ${message}\n    at sf-standin`,
      warnings: [],
    },
    `Error (${name}): ${message}`,
  );
}

const id = (prefix) => `${prefix}${Math.random().toString(36).slice(2, 14).padEnd(12, 'x').toUpperCase()}`.slice(0, 18);

function metaFiles(folder) {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return metaFiles(full);
    return entry.name.endsWith('-meta.xml') ? [full] : [];
  });
}

const TYPES = { cls: 'ApexClass', trigger: 'ApexTrigger', object: 'CustomObject', page: 'ApexPage', js: 'LightningComponentBundle' };
const componentOf = (file) => {
  const base = path.basename(file).replace(/-meta\.xml$/, '');
  const extension = base.split('.').pop() ?? '';
  return { fullName: base.replace(/\.[^.]+$/, ''), type: TYPES[extension] ?? 'Unknown', filePath: file };
};

/** Answers the failures every command shares; true when it did. */
function failedEarly() {
  const org = flag('--target-org');
  if (!org) error('NoDefaultEnvError', 'No default environment found. Use -o or --target-org to specify an environment.');
  else if (fail === 'garbage') {
    process.stdout.write('<html><body>502 Bad Gateway</body></html>\n');
    process.exitCode = 1;
  } else if (fail === 'auth')
    error('NamedOrgNotFoundError', `No authorization information found for ${org}.`, { actions: [`Run "sf org login web --alias ${org}" to authorise it.`] });
  else if (fail === 'expired') error('RefreshTokenAuthError', 'Error authenticating with the refresh token due to: expired access/refresh token');
  else if (fail === 'network') error('Error', 'socket hang up (ECONNRESET)');
  else return false;
  return true;
}

const orgDir = () => env.SF_STANDIN_ORG_DIR || path.join(process.cwd(), '.sf', 'standin-org');
const jobFile = (jobId) => path.join(orgDir(), `${jobId}.json`);

/** The org takes the deploy: it runs to its end whatever happens to this process. */
function recordDeploy(jobId, checkOnly, final, inProgress, readyAt) {
  mkdirSync(orgDir(), { recursive: true });
  writeFileSync(jobFile(jobId), JSON.stringify({ id: jobId, readyAt: Number.isFinite(readyAt) ? readyAt : null, final, inProgress }));
  appendFileSync(
    path.join(orgDir(), 'deploys.jsonl'),
    `${JSON.stringify({ id: jobId, checkOnly, async: argv.includes('--async'), pid: process.pid, time: new Date().toISOString() })}\n`,
  );
}

function stillRunning(result) {
  return finish(
    69,
    { status: 69, result, warnings: [`The deploy is still in progress. Check with: sf project deploy report --job-id ${result.id}`] },
    'Status: InProgress',
  );
}

function readJob() {
  const jobId = flag('--job-id') ?? flag('-i');
  if (!jobId || !/^[A-Za-z0-9]{15,18}$/.test(jobId) || !existsSync(jobFile(jobId))) {
    error('InvalidIdFieldError', `Invalid job ID: ${jobId ?? '(none)'}. No deploy with this ID is known to the org.`);
    return undefined;
  }
  return JSON.parse(readFileSync(jobFile(jobId), 'utf8'));
}

const isDone = (job) => job.readyAt !== null && Date.now() >= job.readyAt;
const answerDone = (job) => finish(job.final.exitCode, { status: job.final.exitCode, result: job.final.result, warnings: [] }, job.final.human);

/** `report`: where the job is now, without waiting. */
function report() {
  const job = readJob();
  if (!job) return;
  if (isDone(job)) answerDone(job);
  else stillRunning(job.inProgress);
}

/** `resume`: watches the job until it is done or --wait runs out. */
async function resume() {
  const job = readJob();
  if (!job) return;
  const waitMs = Number(flag('--wait') ?? 33) * 60_000;
  const until = Date.now() + waitMs;
  // A job that outlasts --wait answers "still in progress" at once, as a synchronous deploy does here.
  while (job.readyAt !== null && job.readyAt <= until && !isDone(job)) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(200, Math.max(1, job.readyAt - Date.now()))));
  }
  if (isDone(job)) answerDone(job);
  else stillRunning(job.inProgress);
}

function deploy() {
  if (!existsSync('sfdx-project.json')) {
    return error('InvalidProjectWorkspaceError', `${process.cwd()} does not contain a valid Salesforce DX project.`);
  }
  if (failedEarly()) return;
  const components = metaFiles('force-app').map(componentOf);
  const total = components.length;
  const checkOnly = argv.includes('--dry-run');
  const async = argv.includes('--async');
  const testLevel = flag('--test-level') ?? 'NoTestRun';
  const testsRan = testLevel === 'NoTestRun' ? 0 : 4;
  const now = new Date().toISOString();
  const base = {
    id: id('0Af'),
    checkOnly,
    completedDate: now,
    createdBy: '005000000000001',
    createdByName: 'Stand In',
    createdDate: now,
    ignoreWarnings: false,
    lastModifiedDate: now,
    rollbackOnError: true,
    runTestsEnabled: testsRan > 0,
    startDate: now,
    numberComponentsTotal: total,
    numberTestsTotal: testsRan,
  };

  const inProgress = {
    ...base,
    done: false,
    status: 'InProgress',
    success: false,
    numberComponentsDeployed: 0,
    numberComponentErrors: 0,
    numberTestsCompleted: 0,
    numberTestErrors: 0,
    details: {},
    files: [],
  };
  if (fail === 'wait' && !async) {
    recordDeploy(base.id, checkOnly, { exitCode: 69, result: inProgress, human: 'Status: InProgress' }, inProgress, Number.POSITIVE_INFINITY);
    return stillRunning(inProgress);
  }
  // The org's final answer: now for a synchronous deploy, after SF_STANDIN_DEPLOY_MS for an async one.
  const answer = (exitCode, result, human) => {
    if (!async) {
      recordDeploy(base.id, checkOnly, { exitCode, result, human }, inProgress, Date.now());
      return finish(exitCode, { status: exitCode, result, warnings: [] }, human);
    }
    const readyAt = fail === 'wait' ? Number.POSITIVE_INFINITY : Date.now() + Number(env.SF_STANDIN_DEPLOY_MS ?? 0);
    recordDeploy(base.id, checkOnly, { exitCode, result, human }, inProgress, readyAt);
    const queued = { id: base.id, checkOnly, done: false, status: 'Queued', success: false, numberComponentsTotal: total };
    return finish(0, { status: 0, result: queued, warnings: [] }, `Deploy ID: ${base.id}\nResume with: sf project deploy resume --job-id ${base.id}`);
  };

  if (fail === 'component') {
    const refused = components.slice(0, 2);
    const componentFailures = refused.map((c, i) => ({
      changed: false,
      componentType: c.type,
      created: false,
      createdDate: now,
      deleted: false,
      fileName: `classes/${c.fullName}.cls`,
      fullName: c.fullName,
      lineNumber: 3 + i,
      columnNumber: 5,
      problem: `Variable does not exist: missingField${i + 1}`,
      problemType: 'Error',
      success: false,
    }));
    const result = {
      ...base,
      done: true,
      status: 'Failed',
      success: false,
      numberComponentsDeployed: total - refused.length,
      numberComponentErrors: refused.length,
      numberTestsCompleted: 0,
      numberTestErrors: 0,
      // The Metadata API unwraps a single failure: one object, not an array.
      details: { componentFailures: componentFailures.length === 1 ? componentFailures[0] : componentFailures },
      files: components.map((c) => (refused.includes(c) ? { ...c, state: 'Failed', problemType: 'Error', error: 'refused' } : { ...c, state: 'Unchanged' })),
    };
    return answer(1, result, `Status: Failed\nComponent Failures [${refused.length}]`);
  }

  const testsFail = fail === 'tests' && testsRan > 0;
  const runTestResult =
    testsRan > 0
      ? {
          numFailures: testsFail ? '1' : '0',
          numTestsRun: String(testsRan),
          totalTime: '812.0',
          failures: testsFail
            ? {
                id: '01p000000000001',
                message: 'System.AssertException: Assertion Failed: Expected: 2, Actual: 1',
                methodName: 'testTotals',
                name: 'InvoiceServiceTest',
                namespace: '',
                stackTrace: 'Class.InvoiceServiceTest.testTotals: line 12, column 1',
                time: '41.0',
              }
            : [],
          successes: [],
          codeCoverage: [],
        }
      : undefined;
  const result = {
    ...base,
    done: true,
    status: testsFail ? 'Failed' : 'Succeeded',
    success: !testsFail,
    numberComponentsDeployed: total,
    numberComponentErrors: 0,
    numberTestsCompleted: testsRan - (testsFail ? 1 : 0),
    numberTestErrors: testsFail ? 1 : 0,
    details: {
      componentSuccesses: components.map((c) => ({ componentType: c.type, fullName: c.fullName, success: true })),
      ...(runTestResult ? { runTestResult } : {}),
    },
    files: components.map((c) => ({ ...c, state: checkOnly ? 'Unchanged' : 'Changed' })),
  };
  return answer(testsFail ? 1 : 0, result, `Status: ${result.status}\nDeploy ID: ${base.id}`);
}

function apexTests() {
  if (failedEarly()) return;
  const level = flag('--test-level') ?? 'RunLocalTests';
  if (level === 'RunSpecifiedTests' && flags('--tests').length === 0 && flags('--class-names').length === 0) {
    return error('Error', 'Specify which tests to run when using RunSpecifiedTests.');
  }
  const testsFail = fail === 'tests';
  const names = [
    ['InvoiceServiceTest', 'testTotals'],
    ['InvoiceServiceTest', 'testTaxes'],
    ['AccountServiceTest', 'testMerge'],
    ['AccountServiceTest', 'testRename'],
  ];
  const tests = names.map(([cls, method], i) => {
    const failing = testsFail && i < 2;
    return {
      Id: `07M00000000000${i}`,
      QueueItemId: '709000000000001',
      StackTrace: failing ? `Class.${cls}.${method}: line ${10 + i}, column 1` : null,
      Message: failing ? `System.AssertException: Assertion Failed: ${method} expected 2 but was 1` : null,
      AsyncApexJobId: '707000000000001',
      MethodName: method,
      Outcome: failing ? 'Fail' : 'Pass',
      ApexClass: { Id: '01p000000000001', Name: cls, NamespacePrefix: null },
      RunTime: 20 + i,
      FullName: `${cls}.${method}`,
    };
  });
  const failing = tests.filter((t) => t.Outcome === 'Fail').length;
  const exitCode = failing > 0 ? 100 : 0;
  const result = {
    summary: {
      failRate: `${Math.round((failing / tests.length) * 100)}%`,
      failing,
      hostname: 'https://standin.my.salesforce.com',
      orgId: '00D000000000001',
      outcome: failing > 0 ? 'Failed' : 'Passed',
      passRate: `${Math.round(((tests.length - failing) / tests.length) * 100)}%`,
      passing: tests.length - failing,
      skipped: 0,
      testRunId: '707000000000001',
      testStartTime: new Date().toISOString(),
      testsRan: tests.length,
      userId: '005000000000001',
      username: flag('--target-org'),
      commandTime: '95 ms',
      testExecutionTime: '86 ms',
      testTotalTime: '86 ms',
    },
    tests,
  };
  return finish(exitCode, { status: exitCode, result, warnings: [] }, `Outcome: ${result.summary.outcome}`);
}

if (command === 'project deploy start') deploy();
else if (command === 'project deploy resume') await resume();
else if (command === 'project deploy report') report();
else if (command === 'apex run test') apexTests();
else {
  process.stderr.write(`Warning: ${command || '(nothing)'} is not a sf command.\n`);
  process.exitCode = 127;
}

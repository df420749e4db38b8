import { z } from 'zod';
import { ExecutionFailed, type ExecutionContext } from '../../../domain/ports/executor.ts';
import { resolveInWorkspace } from '../workspace.ts';
import {
  asArray,
  count,
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
} from './sf-cli.ts';
import type { TaskTypeExecutor } from '../task-type.ts';

// `sf-run-apex-tests`: `sf apex run test --json` against the target org, run from the project
// folder (so its sf configuration applies). Failing tests are a result (sf exits 100 with the
// results), not a failed execution.

const APEX_TEST_LEVELS = ['RunSpecifiedTests', 'RunLocalTests', 'RunAllTestsInOrg'] as const;

const parameters = z
  .object({
    repository: projectParameter,
    targetOrg: targetOrgParameter,
    testLevel: z.enum(APEX_TEST_LEVELS).default('RunLocalTests'),
    /** With RunSpecifiedTests: the Apex test classes or methods to run. */
    tests: testNamesParameter.optional(),
    waitMinutes: waitMinutesParameter,
  })
  .refine((p) => p.testLevel !== 'RunSpecifiedTests' || p.tests !== undefined, { message: 'RunSpecifiedTests needs tests', path: ['tests'] });
export type SfRunApexTestsParams = z.infer<typeof parameters>;

export interface SfRunApexTestsResult {
  readonly success: boolean;
  /** The run's outcome as the org reports it: Passed, Failed, Completed… */
  readonly outcome: string | null;
  readonly testRunId: string | null;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly failures: { name: string; message: string }[];
  readonly durationMs: number;
}

function apexTestArgs(params: SfRunApexTestsParams): string[] {
  return [
    'apex',
    'run',
    'test',
    '--json',
    ...targetOrgArgs(params.targetOrg),
    '--test-level',
    params.testLevel,
    ...(params.tests ?? []).flatMap((name) => ['--tests', name]),
    '--wait',
    String(params.waitMinutes),
    '--result-format',
    'json',
  ];
}

async function execute(params: SfRunApexTestsParams, context: ExecutionContext): Promise<SfRunApexTestsResult> {
  context.progress({ stage: 'prepare', fraction: 0 });
  const project = await resolveInWorkspace(context.workspaceRoot, params.repository);
  const action = `${params.testLevel} in ${orgName(params.targetOrg)}`;
  context.progress({ stage: 'prepare', fraction: 1, details: action });

  context.progress({ stage: 'run', fraction: 0, details: action });
  const { run, envelope } = await runSf(apexTestArgs(params), project, context, params.waitMinutes);
  const result = record(envelope?.result);
  if (envelope === undefined || !('summary' in result)) {
    if (text(result.testRunId)) {
      throw new ExecutionFailed(
        'ApexTestsStillRunning',
        `test run ${String(result.testRunId)} was still running after ${params.waitMinutes} min; follow it with \`sf apex get test --test-run-id ${String(result.testRunId)}\``,
        false,
      );
    }
    throw sfFailure(envelope, run, 'the Apex tests could not run');
  }
  context.progress({ stage: 'run', fraction: 1 });

  context.progress({ stage: 'report', fraction: 0 });
  const summary = record(result.summary);
  const tests = asArray(result.tests).map(record);
  const failures = tests
    .filter((t) => t.Outcome === 'Fail' || t.Outcome === 'CompileFail')
    .map((t) => ({
      name: text(t.FullName) ?? [text(record(t.ApexClass).Name), text(t.MethodName)].filter(Boolean).join('.'),
      message: text(t.Message) ?? '',
    }));
  const failed = Math.max(count(summary.failing), failures.length);
  const outcome = text(summary.outcome) ?? null;
  const outcomeFailed = outcome !== null && /^(Failed|Aborted)$/i.test(outcome);
  const report: SfRunApexTestsResult = {
    success: failed === 0 && !outcomeFailed,
    outcome,
    testRunId: text(summary.testRunId) ?? null,
    passed: count(summary.passing),
    failed,
    skipped: count(summary.skipped),
    failures,
    durationMs: run.durationMs,
  };
  context.progress({ stage: 'report', fraction: 1, counters: { passed: report.passed, failed: report.failed, skipped: report.skipped } });
  return report;
}

export const sfRunApexTests = {
  taskType: 'sf-run-apex-tests' as const,
  pool: 'salesforce',
  description: 'run Apex tests in a Salesforce org',
  estimatedMs: 60_000,
  parameters,
  stages: SF_STAGES,
  sideEffects: false,
  /** It only reads: another run repeats nothing. */
  rerunSafe: () => true,
  execute,
} satisfies TaskTypeExecutor<SfRunApexTestsParams, SfRunApexTestsResult>;

import { isLeft, isRight, type Either } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { executorFor, executors, isTaskType } from '../../adapters/executors/registry.ts';
import { contextVariableSchemas } from '../../domain/conversation/index.ts';
import { capabilitiesOf, parseIntent as parseWith, type Intent, type IntentContext, type NotUnderstood } from '../../domain/intent/index.ts';

// ── fixtures ────────────────────────────────────────────────────────────────
// The registry's descriptors give the phrasings: these read chat the way the product does.
const parseIntent = (text: string, context: IntentContext = {}): Either<NotUnderstood, Intent> => parseWith(text, context, executors);
const capabilities = capabilitiesOf(executors);
const intentTaskTypes = capabilities.map((c) => c.taskType);
type IntentTaskType = string;

const thread = (currentRepo: string): IntentContext => ({ currentRepo });
const noContext: IntentContext = {};

function understood(result: Either<NotUnderstood, Intent>): Intent {
  if (isLeft(result)) throw new Error(`expected an intent, got ${result.left.code}: ${result.left.message}`);
  return result.right;
}
function refused(result: Either<NotUnderstood, Intent>): NotUnderstood {
  if (isRight(result)) throw new Error(`expected a refusal, got ${result.right.summary}`);
  return result.left;
}

type Row = readonly [text: string, context: IntentContext, taskType: IntentTaskType, repository: string];

// ── phrasings ───────────────────────────────────────────────────────────────
const phrasings: Record<IntentTaskType, readonly Row[]> = {
  'git-status': [
    ['git status of acme', noContext, 'git-status', 'acme'],
    ['git status acme', noContext, 'git-status', 'acme'],
    ['git status for `acme`', noContext, 'git-status', 'acme'],
    ["what's the status of repo acme", noContext, 'git-status', 'acme'],
    ['what’s the status of repo acme?', noContext, 'git-status', 'acme'],
    ['whats the status of acme', noContext, 'git-status', 'acme'],
    ['what is the git status of team/acme', noContext, 'git-status', 'team/acme'],
    ['status of acme', noContext, 'git-status', 'acme'],
    ['show me the git status of the acme repo', noContext, 'git-status', 'acme'],
    ['check the repo status of acme', noContext, 'git-status', 'acme'],
  ],
  'analyze-codebase': [
    ['analyze repo acme', noContext, 'analyze-codebase', 'acme'],
    ['analyse acme', noContext, 'analyze-codebase', 'acme'],
    ['analyze the codebase in acme', noContext, 'analyze-codebase', 'acme'],
    ['analyze the code base of "acme"', noContext, 'analyze-codebase', 'acme'],
    ['Analyze repository services/billing-api', noContext, 'analyze-codebase', 'services/billing-api'],
    ['run an analysis of acme', noContext, 'analyze-codebase', 'acme'],
    ['codebase analysis of acme', noContext, 'analyze-codebase', 'acme'],
  ],
  'run-tests': [
    ['run the tests in acme', noContext, 'run-tests', 'acme'],
    ['run tests in acme', noContext, 'run-tests', 'acme'],
    ['run all the tests in acme', noContext, 'run-tests', 'acme'],
    ['run the test suite of acme', noContext, 'run-tests', 'acme'],
    ['execute the unit tests for acme', noContext, 'run-tests', 'acme'],
    ['test acme', noContext, 'run-tests', 'acme'],
    ['tests in acme', noContext, 'run-tests', 'acme'],
  ],
  lint: [
    ['lint acme', noContext, 'lint', 'acme'],
    ['run the linter on acme', noContext, 'lint', 'acme'],
    ['run lint on `acme`', noContext, 'lint', 'acme'],
    ['check linting in acme', noContext, 'lint', 'acme'],
  ],
};

// ── the thread's context ────────────────────────────────────────────────────
const fromContext: readonly Row[] = [
  ['now run the tests', thread('acme'), 'run-tests', 'acme'],
  ['and now run the tests please', thread('acme'), 'run-tests', 'acme'],
  ['rerun the tests', thread('acme'), 'run-tests', 'acme'],
  ['re-run the tests again', thread('acme'), 'run-tests', 'acme'],
  ['test it', thread('acme'), 'run-tests', 'acme'],
  ['run the linter', thread('acme'), 'lint', 'acme'],
  ['lint', thread('acme'), 'lint', 'acme'],
  ['lint this repo', thread('acme'), 'lint', 'acme'],
  ['git status', thread('team/acme'), 'git-status', 'team/acme'],
  ["what's the status", thread('acme'), 'git-status', 'acme'],
  ['analyze it', thread('acme'), 'analyze-codebase', 'acme'],
  ['analyze the codebase', thread('acme'), 'analyze-codebase', 'acme'],
  ['analyse the same repo', thread('acme'), 'analyze-codebase', 'acme'],
];

// ── how Slack delivers text ─────────────────────────────────────────────────
const slackText: readonly Row[] = [
  ['<@U123ABC> analyze repo acme', noContext, 'analyze-codebase', 'acme'],
  ['<@U123ABC|orchestrator> lint acme', noContext, 'lint', 'acme'],
  ['  <@U0STANDINBOT>   git   status of acme  ', noContext, 'git-status', 'acme'],
  ['<@U123ABC> now run the tests', thread('acme'), 'run-tests', 'acme'],
  ['lint "acme"', noContext, 'lint', 'acme'],
  ["lint 'acme'", noContext, 'lint', 'acme'],
  ['lint “acme”', noContext, 'lint', 'acme'],
  ['lint ‘acme’', noContext, 'lint', 'acme'],
  ['lint ```acme```', noContext, 'lint', 'acme'],
  ['lint *acme*', noContext, 'lint', 'acme'],
  ['analyze repo `team/acme`', noContext, 'analyze-codebase', 'team/acme'],
  ['analyze <http://acme.io|acme.io>', noContext, 'analyze-codebase', 'acme.io'],
  ['hey, can you please lint acme?', noContext, 'lint', 'acme'],
  ['could you run the tests in acme for me', noContext, 'run-tests', 'acme'],
  ['Please analyse acme.', noContext, 'analyze-codebase', 'acme'],
  ['LINT Acme', noContext, 'lint', 'Acme'],
  ['lint ./team/acme/', noContext, 'lint', 'team/acme'],
  ['lint team//acme', noContext, 'lint', 'team/acme'],
  ['test my_repo.v2', noContext, 'run-tests', 'my_repo.v2'],
];

describe('parseIntent', () => {
  describe.each(Object.entries(phrasings))('%s phrasings', (_, rows) => {
    it.each(rows)('%j', (text, context, taskType, repository) => {
      const intent = understood(parseIntent(text, context));
      expect(intent).toMatchObject({ taskType, params: { repository }, setContext: { currentRepo: repository }, repositoryFrom: 'request' });
    });
  });

  describe('a request naming no repository uses the thread’s currentRepo', () => {
    it.each(fromContext)('%j', (text, context, taskType, repository) => {
      expect(understood(parseIntent(text, context))).toMatchObject({ taskType, params: { repository }, repositoryFrom: 'context' });
    });

    it('prefers the repository the request names', () => {
      expect(understood(parseIntent('lint other-repo', thread('acme')))).toMatchObject({
        params: { repository: 'other-repo' },
        setContext: { currentRepo: 'other-repo' },
        repositoryFrom: 'request',
      });
    });

    it("takes a Conversation's whole context as it is", () => {
      const context = { currentRepo: 'acme', lastTaskIds: ['task-1'], lastFindings: { errors: 3 }, lastTaskType: 'analyze-codebase' };
      expect(understood(parseIntent('run the tests', context)).params).toEqual({ repository: 'acme' });
    });
  });

  describe('text as Slack delivers it', () => {
    it.each(slackText)('%j', (text, context, taskType, repository) => {
      expect(understood(parseIntent(text, context))).toMatchObject({ taskType, params: { repository } });
    });
  });

  it('summarises the task in one line', () => {
    expect(understood(parseIntent('<@U1> run the tests in acme')).summary).toBe('run the tests in acme');
    expect(understood(parseIntent('git status', thread('acme'))).summary).toBe('git status of acme');
  });

  describe('what it produces fits the rest of the system', () => {
    it.each(intentTaskTypes)('%s is a registered task type', (taskType) => expect(isTaskType(taskType)).toBe(true));

    it.each([...Object.values(phrasings).flat(), ...fromContext])(
      '%j: params pass the executor’s schema, setContext passes the Conversation’s',
      (text, context) => {
        const intent = understood(parseIntent(text, context));
        expect(executorFor(intent.taskType)?.parameters.safeParse(intent.params).success).toBe(true);
        for (const [name, value] of Object.entries(intent.setContext)) {
          expect(Object.keys(contextVariableSchemas)).toContain(name);
          expect(contextVariableSchemas[name as keyof typeof contextVariableSchemas].safeParse(value).success).toBe(true);
        }
      },
    );
  });
});

describe('requests it cannot map', () => {
  it.each([
    'deploy my changes, test everything first',
    'fix those issues',
    'hello',
    'run the tests in acme and lint it',
    'status of workflow wf-12',
    'test whether the deploy works',
  ])('%j is not understood, and the answer lists what it can do', (text) => {
    const refusal = refused(parseIntent(text, thread('acme')));
    expect(refusal.code).toBe('RequestNotUnderstood');
    expect(refusal.capabilities.map((c) => c.taskType)).toEqual([...intentTaskTypes]);
    for (const capability of refusal.capabilities) expect(refusal.message).toContain(capability.example);
  });

  it.each(['', '<@U123ABC>', '  '])('%j (nothing asked) is answered with what it can do', (text) => {
    const refusal = refused(parseIntent(text));
    expect(refusal).toMatchObject({ code: 'RequestNotUnderstood', capabilities });
    expect(refusal.message).toMatch(/^What should I do\?/);
  });

  it.each(capabilities)('the example for $taskType ("$example") parses to it', ({ taskType, example }) => {
    expect(understood(parseIntent(example)).taskType).toBe(taskType);
  });

  describe('a clear task with no repository anywhere', () => {
    it.each([
      ['now run the tests', 'run-tests'],
      ['run the linter', 'lint'],
      ['git status', 'git-status'],
      ['analyze the codebase', 'analyze-codebase'],
    ] as const)('%j asks which repository', (text, taskType) => {
      const refusal = refused(parseIntent(text, noContext));
      expect(refusal).toMatchObject({ code: 'RepositoryNotGiven', taskType });
      expect(refusal.message).toContain('my-service');
    });

    it('treats a currentRepo that is not a string as not given', () => {
      expect(refused(parseIntent('lint', { currentRepo: 42 })).code).toBe('RepositoryNotGiven');
      expect(refused(parseIntent('lint', { currentRepo: '' })).code).toBe('RepositoryNotGiven');
    });
  });
});

describe('repository names', () => {
  it.each([
    ['lint ../secrets', 'RepositoryOutsideWorkspace'],
    ['analyze /etc', 'RepositoryOutsideWorkspace'],
    ['test acme/../../etc', 'RepositoryOutsideWorkspace'],
    ['git status of `..`', 'RepositoryOutsideWorkspace'],
    ['run the tests in "../../home/user/.ssh"', 'RepositoryOutsideWorkspace'],
    ['lint ~/acme', 'InvalidRepositoryName'],
    ['lint acme;rm', 'InvalidRepositoryName'],
    ['lint acme$(id)', 'InvalidRepositoryName'],
    ['lint --upload-pack=evil', 'InvalidRepositoryName'],
    ['lint acme/-x', 'InvalidRepositoryName'],
    ['lint a..b', 'InvalidRepositoryName'],
    ['lint ./', 'InvalidRepositoryName'],
    ['lint C:\\repos\\acme', 'InvalidRepositoryName'],
    [`lint ${'a'.repeat(1025)}`, 'InvalidRepositoryName'],
  ] as const)('%j is refused: %s', (text, code) => {
    const refusal = refused(parseIntent(text, thread('acme')));
    expect(refusal.code).toBe(code);
    expect(refusal.taskType).toBeDefined();
  });

  it('refuses an escaping repository taken from the context too', () => {
    expect(refused(parseIntent('now run the tests', thread('../outside'))).code).toBe('RepositoryOutsideWorkspace');
  });

  it('accepts the longest allowed name', () => {
    expect(understood(parseIntent(`lint ${'a'.repeat(1024)}`)).params.repository).toHaveLength(1024);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nkeys } from 'nats';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../infra/config/load-config.ts';
import { type Config, configSecrets, redactedConfig } from '../../infra/config/schema.ts';

// No .env file unless a test asks for one, so the developer's own file cannot leak in.
const load = (env: Record<string, string>) => loadConfig(env, { envFile: false });

const failure = (env: Record<string, string>): ConfigError => {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
};

const SLACK = { SLACK_BOT_TOKEN: 'xoxb-bot-secret-1', SLACK_SIGNING_SECRET: 'signing-secret-2' };

describe('defaults', () => {
  it('an empty environment gives the documented defaults: embedded NATS, JetStream, console front end, offline planner', () => {
    const expected: Config = {
      prefix: 'orch',
      logLevel: 'info',
      dataDir: './data',
      nats: { servers: [], embedded: true, replicas: 1, auth: undefined, apiProducers: ['api'] },
      eventStore: { kind: 'jetstream' },
      http: { port: 3000 },
      webhooks: { signingSecret: undefined, maxAttempts: 5 },
      slack: undefined,
      anthropic: {
        apiKey: undefined,
        baseUrl: 'https://api.anthropic.com',
        models: { opus: 'claude-opus-4-5', sonnet: 'claude-sonnet-4-5' },
        prices: { opus: { inputUsdPerMillion: 5, outputUsdPerMillion: 25 }, sonnet: { inputUsdPerMillion: 3, outputUsdPerMillion: 15 } },
      },
      work: {
        workspaceRoot: undefined,
        defaultRepo: undefined,
        localWorkerCount: 2,
        claudeWorkerCount: 1,
        salesforceWorkerCount: 3,
        orchestratorMaxInstances: 5,
        orchestratorTimeoutMs: 1_800_000,
        ackWaitMs: 30_000,
        claudeBin: 'claude',
        sfBin: 'sf',
      },
      workflows: { approvalTimeoutMs: 600_000, maxExecutionTimeMs: 3_600_000, approvers: undefined, requesterMayApprove: false, planCostThresholdUsd: 1 },
      policy: { file: undefined, admins: [] },
      memory: { maxTokens: 100_000, summaryThreshold: 50_000 },
      monitoring: { errorRateThreshold: 0.1, memoryPercentThreshold: 80, queueSizeThreshold: 100, alertCooldownMs: 300_000, healthCheckIntervalMs: 60_000 },
      cost: { monthlyBudgetUsd: undefined, perWorkflowBudgetUsd: undefined, claudeRunCeilingUsd: 5, warningThreshold: 0.8, criticalThreshold: 0.95 },
      features: {
        orchestration: true,
        resultCallbacks: true,
        progressReporting: true,
        conversationMemory: true,
        workflowEngine: true,
        monitoring: true,
        dryRun: false,
      },
    };
    expect(load({})).toStrictEqual(expected);
  });

  it('empty and blank values count as unset', () => {
    const config = load({ PORT: '', LOG_LEVEL: '   ', SLACK_BOT_TOKEN: '', EVENT_STORE: '', DRY_RUN: '' });
    expect(config.http.port).toBe(3000);
    expect(config.logLevel).toBe('info');
    expect(config.slack).toBeUndefined();
    expect(config.eventStore).toEqual({ kind: 'jetstream' });
    expect(config.features.dryRun).toBe(false);
  });

  it('ignores variables it does not know', () => {
    expect(load({ HOME: '/root', PATH: '/bin' })).toStrictEqual(load({}));
  });
});

describe('coercion', () => {
  it('reads every numeric variable as a number', () => {
    const config = load({
      PORT: '8080',
      LOCAL_WORKER_COUNT: '4',
      WORKER_COUNT: '0',
      ORCHESTRATOR_MAX_INSTANCES: '9',
      ORCHESTRATOR_TIMEOUT: '60000',
      WORKFLOW_APPROVAL_TIMEOUT: '1000',
      WORKFLOW_MAX_EXECUTION_TIME: '2000',
      CONVERSATION_MAX_TOKENS: '2000',
      CONVERSATION_SUMMARY_THRESHOLD: '1500',
      ALERT_THRESHOLD_ERROR_RATE: '0.25',
      ALERT_THRESHOLD_MEMORY: '92.5',
      ALERT_THRESHOLD_QUEUE_SIZE: '7',
      ALERT_COOLDOWN: '5000',
      COST_BUDGET_MONTHLY: '250.50',
      COST_BUDGET_PER_WORKFLOW: '20',
      COST_CLAUDE_RUN_CEILING: '2.5',
      COST_WARNING_THRESHOLD: '.5',
      COST_CRITICAL_THRESHOLD: '1',
    });
    expect(config.http.port).toBe(8080);
    expect(config.work).toMatchObject({ localWorkerCount: 4, salesforceWorkerCount: 0, orchestratorMaxInstances: 9, orchestratorTimeoutMs: 60_000 });
    expect(config.workflows).toEqual({
      approvalTimeoutMs: 1000,
      maxExecutionTimeMs: 2000,
      approvers: undefined,
      requesterMayApprove: false,
      planCostThresholdUsd: 1,
    });
    expect(config.memory).toEqual({ maxTokens: 2000, summaryThreshold: 1500 });
    expect(config.monitoring).toEqual({
      errorRateThreshold: 0.25,
      memoryPercentThreshold: 92.5,
      queueSizeThreshold: 7,
      alertCooldownMs: 5000,
      healthCheckIntervalMs: 60_000,
    });
    expect(config.cost).toEqual({ monthlyBudgetUsd: 250.5, perWorkflowBudgetUsd: 20, claudeRunCeilingUsd: 2.5, warningThreshold: 0.5, criticalThreshold: 1 });
  });

  it('reads who may approve planned workflows, whether the requester may, and the plan cost threshold', () => {
    const config = load({ WORKFLOW_APPROVERS: 'U01ALICE, U02BOB', WORKFLOW_REQUESTER_MAY_APPROVE: 'yes', PLAN_APPROVAL_COST_THRESHOLD: '2.5' });
    expect(config.workflows).toMatchObject({ approvers: ['U01ALICE', 'U02BOB'], requesterMayApprove: true, planCostThresholdUsd: 2.5 });
  });

  it.each([['U01 ALICE'], ['U01,U01'], [',']])('refuses WORKFLOW_APPROVERS=%j with what it must be', (raw) => {
    expect(() => load({ WORKFLOW_APPROVERS: raw })).toThrow(/WORKFLOW_APPROVERS.*Slack user IDs separated by commas/s);
  });

  it('reads model prices per million tokens for each model', () => {
    const config = load({
      COST_OPUS_INPUT_PER_MTOK: '15',
      COST_OPUS_OUTPUT_PER_MTOK: '75.5',
      COST_SONNET_INPUT_PER_MTOK: '0',
      COST_SONNET_OUTPUT_PER_MTOK: '.8',
    });
    expect(config.anthropic.prices).toEqual({
      opus: { inputUsdPerMillion: 15, outputUsdPerMillion: 75.5 },
      sonnet: { inputUsdPerMillion: 0, outputUsdPerMillion: 0.8 },
    });
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['On', true],
    ['false', false],
    ['0', false],
    ['no', false],
    ['OFF', false],
    [' off ', false],
  ])('reads the flag value %j as %s', (raw, value) => {
    const config = load({ ENABLE_ORCHESTRATION: raw, ENABLE_MONITORING: raw, DRY_RUN: raw });
    expect(config.features.orchestration).toBe(value);
    expect(config.features.monitoring).toBe(value);
    expect(config.features.dryRun).toBe(value);
  });

  it('maps each feature flag to its own capability', () => {
    const config = load({
      ENABLE_ORCHESTRATION: 'off',
      ENABLE_RESULT_CALLBACKS: 'on',
      ENABLE_PROGRESS_REPORTING: 'no',
      ENABLE_CONVERSATION_MEMORY: 'yes',
      ENABLE_WORKFLOW_ENGINE: '0',
      ENABLE_MONITORING: '1',
      DRY_RUN: 'true',
    });
    expect(config.features).toEqual({
      orchestration: false,
      resultCallbacks: true,
      progressReporting: false,
      conversationMemory: true,
      workflowEngine: false,
      monitoring: true,
      dryRun: true,
    });
  });

  it('reads enums case-insensitively and the other plain values as given', () => {
    const config = load({
      LOG_LEVEL: 'DEBUG',
      NATS_PREFIX: 'team_a-1',
      DATA_DIR: '/var/lib/orch',
      WORKSPACE_ROOT: '/srv/work',
      DEFAULT_REPO: 'acme/app',
      CLAUDE_BIN: '/opt/claude/bin/claude',
      SF_BIN: '/usr/local/bin/sf',
      CLAUDE_OPUS_MODEL: 'claude-opus-x',
      CLAUDE_SONNET_MODEL: 'claude-sonnet-y',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999',
    });
    expect(config.logLevel).toBe('debug');
    expect(config.prefix).toBe('team_a-1');
    expect(config.dataDir).toBe('/var/lib/orch');
    expect(config.work).toMatchObject({ workspaceRoot: '/srv/work', defaultRepo: 'acme/app', claudeBin: '/opt/claude/bin/claude', sfBin: '/usr/local/bin/sf' });
    expect(config.anthropic).toMatchObject({
      apiKey: undefined,
      baseUrl: 'http://127.0.0.1:9999',
      models: { opus: 'claude-opus-x', sonnet: 'claude-sonnet-y' },
    });
  });

  it('reads NATS_URL as a server list and turns embedded mode off', () => {
    const config = load({ NATS_URL: 'nats://a:4222, tls://b:4222,c:4222' });
    expect(config.nats).toEqual({ servers: ['nats://a:4222', 'tls://b:4222', 'c:4222'], embedded: false, replicas: 1, auth: undefined, apiProducers: ['api'] });
  });

  it('reads NATS_REPLICAS as the replica count of every stream and bucket, from 1 to 5', () => {
    expect(load({ NATS_URL: 'nats://a:4222', NATS_REPLICAS: '3' }).nats.replicas).toBe(3);
    expect(load({ NATS_REPLICAS: '5' }).nats.replicas).toBe(5);
    expect(load({ NATS_REPLICAS: '1' }).nats.replicas).toBe(1);
  });

  it('configures Slack with channels, Socket Mode token and an API URL ending in a slash', () => {
    const config = load({
      ...SLACK,
      SLACK_APP_TOKEN: 'xapp-app-secret-3',
      SLACK_API_URL: 'http://127.0.0.1:4567/api',
      SLACK_CHANNEL: '#orchestrator',
      MONITORING_CHANNEL: 'C0123MON',
      ERROR_CHANNEL: '#errors',
      PROGRESS_UPDATE_INTERVAL: '500',
    });
    expect(config.slack).toEqual({
      botToken: 'xoxb-bot-secret-1',
      signingSecret: 'signing-secret-2',
      appToken: 'xapp-app-secret-3',
      apiUrl: 'http://127.0.0.1:4567/api/',
      channels: { default: '#orchestrator', monitoring: 'C0123MON', error: '#errors' },
      progressIntervalMs: 500,
    });
    expect(load(SLACK).slack?.apiUrl).toBe('https://slack.com/api/');
  });
});

describe('malformed values', () => {
  it.each([
    ['PORT', 'abc', 'PORT must be an integer from 1 to 65535 (got "abc")'],
    ['PORT', '70000', 'PORT must be an integer from 1 to 65535 (got "70000")'],
    ['PORT', '80.5', 'PORT must be an integer from 1 to 65535 (got "80.5")'],
    ['LOCAL_WORKER_COUNT', '-1', 'LOCAL_WORKER_COUNT must be an integer from 0 to 1000 (got "-1")'],
    ['ORCHESTRATOR_TIMEOUT', '30m', 'ORCHESTRATOR_TIMEOUT must be a duration in milliseconds (an integer of at least 1) (got "30m")'],
    ['ALERT_THRESHOLD_ERROR_RATE', '1.5', 'ALERT_THRESHOLD_ERROR_RATE must be a number from 0 to 1 (got "1.5")'],
    ['ALERT_THRESHOLD_MEMORY', '0x50', 'ALERT_THRESHOLD_MEMORY must be a percentage from 0 to 100 (got "0x50")'],
    ['COST_BUDGET_MONTHLY', '0', 'COST_BUDGET_MONTHLY must be an amount of US dollars above 0 (got "0")'],
    ['COST_OPUS_OUTPUT_PER_MTOK', '-1', 'COST_OPUS_OUTPUT_PER_MTOK must be a price in US dollars per million tokens (0 or more) (got "-1")'],
    ['ENABLE_MONITORING', 'maybe', 'ENABLE_MONITORING must be one of true/false, 1/0, yes/no, on/off (got "maybe")'],
    ['EVENT_STORE', 'postgres', 'EVENT_STORE must be one of jetstream, eventstoredb (got "postgres")'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")'],
    ['NATS_PREFIX', 'orch.prod', 'NATS_PREFIX must be a NATS subject token (letters, digits, _ and -) (got "orch.prod")'],
    ['NATS_REPLICAS', '0', 'NATS_REPLICAS must be an integer from 1 to 5 (got "0")'],
    ['NATS_REPLICAS', '7', 'NATS_REPLICAS must be an integer from 1 to 5 (got "7")'],
    ['NATS_REPLICAS', 'three', 'NATS_REPLICAS must be an integer from 1 to 5 (got "three")'],
    ['NATS_URL', 'http://a:4222', 'NATS_URL must be a NATS server URL such as nats://localhost:4222 (several separated by commas) (got "http://a:4222")'],
    ['ESDB_URL', 'http://db:2113', 'ESDB_URL must be an EventStoreDB connection string such as esdb://localhost:2113?tls=false (got "http://db:2113")'],
    ['SLACK_API_URL', 'slack.com/api', 'SLACK_API_URL must be an http:// or https:// URL (got "slack.com/api")'],
    ['SLACK_CHANNEL', 'my channel', 'SLACK_CHANNEL must be a Slack channel name or ID without spaces (got "my channel")'],
  ])('%s=%j is rejected with a one-line message naming it', (variable, value, expected) => {
    const error = failure({ [variable]: value });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe(`Invalid configuration: ${expected}`);
    expect(error.message).not.toContain('\n');
    expect(error.problems).toEqual([{ variable, problem: expected.slice(variable.length + 1) }]);
  });

  it('reports every problem at once, field and cross-field, joined with "; "', () => {
    const error = failure({ PORT: 'abc', DRY_RUN: 'perhaps', EVENT_STORE: 'eventstoredb' });
    expect(error.message).toBe(
      'Invalid configuration: PORT must be an integer from 1 to 65535 (got "abc"); ' +
        'DRY_RUN must be one of true/false, 1/0, yes/no, on/off (got "perhaps"); ' +
        'ESDB_URL is required when EVENT_STORE is eventstoredb',
    );
    expect(error.problems.map((p) => p.variable)).toEqual(['PORT', 'DRY_RUN', 'ESDB_URL']);
  });

  it('keeps a long or multi-line value to one short line', () => {
    const error = failure({ PORT: `1\n${'9'.repeat(200)}` });
    expect(error.message).not.toContain('\n');
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('cross-field rules', () => {
  it('EVENT_STORE=eventstoredb requires ESDB_URL', () => {
    expect(failure({ EVENT_STORE: 'eventstoredb' }).message).toBe('Invalid configuration: ESDB_URL is required when EVENT_STORE is eventstoredb');
    expect(load({ EVENT_STORE: 'eventstoredb', ESDB_URL: 'esdb://db:2113?tls=false' }).eventStore).toEqual({
      kind: 'eventstoredb',
      url: 'esdb://db:2113?tls=false',
    });
  });

  it('ESDB_URL alone keeps JetStream as the event store', () => {
    expect(load({ ESDB_URL: 'esdb+discover://a:2113,b:2113' }).eventStore).toEqual({ kind: 'jetstream' });
  });

  it('SLACK_BOT_TOKEN without SLACK_SIGNING_SECRET is rejected', () => {
    expect(failure({ SLACK_BOT_TOKEN: 'xoxb-1' }).problems).toEqual([
      { variable: 'SLACK_SIGNING_SECRET', problem: 'is required when SLACK_BOT_TOKEN is set (set both or neither)' },
    ]);
  });

  it('SLACK_SIGNING_SECRET without SLACK_BOT_TOKEN is rejected', () => {
    expect(failure({ SLACK_SIGNING_SECRET: 'sig' }).problems).toEqual([
      { variable: 'SLACK_BOT_TOKEN', problem: 'is required when SLACK_SIGNING_SECRET is set' },
    ]);
  });

  it('SLACK_APP_TOKEN without a bot token is rejected', () => {
    expect(failure({ SLACK_APP_TOKEN: 'xapp-1' }).problems).toEqual([{ variable: 'SLACK_BOT_TOKEN', problem: 'is required when SLACK_APP_TOKEN is set' }]);
  });

  it('both Slack credentials configure Slack (HTTP events); neither leaves it undefined', () => {
    expect(load(SLACK).slack).toMatchObject({ botToken: 'xoxb-bot-secret-1', signingSecret: 'signing-secret-2', appToken: undefined });
    expect(load({ SLACK_CHANNEL: '#general' }).slack).toBeUndefined();
  });

  it('the summary threshold must be below the conversation token limit', () => {
    expect(failure({ CONVERSATION_MAX_TOKENS: '1000', CONVERSATION_SUMMARY_THRESHOLD: '1000' }).message).toBe(
      'Invalid configuration: CONVERSATION_SUMMARY_THRESHOLD must be below CONVERSATION_MAX_TOKENS (1000) (got "1000")',
    );
  });

  it('the cost warning threshold must not exceed the critical one', () => {
    expect(failure({ COST_WARNING_THRESHOLD: '0.99' }).problems.map((p) => p.variable)).toEqual(['COST_WARNING_THRESHOLD']);
  });
});

describe('secrets in messages', () => {
  it.each(['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'ANTHROPIC_API_KEY'])(
    'a malformed %s is named but its value is hidden',
    (variable) => {
      const value = 'sk-very secret-value-42';
      const error = failure({ ...SLACK, [variable]: value });
      expect(error.message).toContain(`${variable} must be a single word without spaces (value hidden)`);
      for (const part of value.split(' ')) expect(error.message).not.toContain(part);
    },
  );

  it('no secret value appears when a cross-field rule fails', () => {
    const error = failure({ SLACK_BOT_TOKEN: 'xoxb-bot-secret-1', SLACK_APP_TOKEN: 'xapp-app-secret-3', ANTHROPIC_API_KEY: 'sk-ant-secret-4', PORT: 'x' });
    expect(error.problems.map((p) => p.variable)).toEqual(['PORT', 'SLACK_SIGNING_SECRET']);
    for (const secret of ['xoxb-bot-secret-1', 'xapp-app-secret-3', 'sk-ant-secret-4'])
      expect(JSON.stringify(error.problems) + error.message).not.toContain(secret);
  });

  it('credentials inside a malformed URL are masked', () => {
    const error = failure({ NATS_URL: 'http://user:hunter2@nats:4222', ESDB_URL: 'mysql://admin:changeit@db' });
    expect(error.message).toContain('(got "http://[redacted]@nats:4222")');
    expect(error.message).toContain('(got "mysql://[redacted]@db")');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('changeit');
  });
});

describe('.env file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const envFile = path.join(dir, '.env');
  writeFileSync(envFile, ['# settings for this machine', 'PORT=4000', 'LOG_LEVEL=warn', 'NATS_PREFIX="fromfile"', 'ORCH_TEST_ONLY_MARKER=1', ''].join('\n'));

  it('is read when given', () => {
    const config = loadConfig({}, { envFile });
    expect(config.http.port).toBe(4000);
    expect(config.logLevel).toBe('warn');
    expect(config.prefix).toBe('fromfile');
  });

  it('the real environment wins over the file, except where it is empty', () => {
    const config = loadConfig({ PORT: '5000', LOG_LEVEL: '' }, { envFile });
    expect(config.http.port).toBe(5000);
    expect(config.logLevel).toBe('warn');
  });

  it('does not change process.env', () => {
    loadConfig({}, { envFile });
    expect(process.env['ORCH_TEST_ONLY_MARKER']).toBeUndefined();
  });

  it('a missing file is fine and envFile: false reads none', () => {
    expect(loadConfig({}, { envFile: path.join(dir, 'absent.env') }).http.port).toBe(3000);
    expect(loadConfig({}, { envFile: false }).http.port).toBe(3000);
  });

  it('values from the file are validated like the environment', () => {
    const bad = path.join(dir, 'bad.env');
    writeFileSync(bad, 'ALERT_COOLDOWN=soon\n');
    expect(() => loadConfig({}, { envFile: bad })).toThrow('ALERT_COOLDOWN must be a duration in milliseconds (an integer of at least 1) (got "soon")');
  });

  it('a file that cannot be read is a ConfigError naming it', () => {
    expect(() => loadConfig({}, { envFile: dir })).toThrow(ConfigError);
  });
});

describe('redactedConfig', () => {
  const config = load({
    ...SLACK,
    SLACK_APP_TOKEN: 'xapp-app-secret-3',
    ANTHROPIC_API_KEY: 'sk-ant-secret-4',
    NATS_URL: 'nats://natstoken5@a:4222,nats://b:4222',
    EVENT_STORE: 'eventstoredb',
    ESDB_URL: 'esdb://admin:esdbpass6@db:2113?tls=false',
  });
  const SECRETS = ['xoxb-bot-secret-1', 'signing-secret-2', 'xapp-app-secret-3', 'sk-ant-secret-4', 'natstoken5', 'esdbpass6'];

  it('keeps the shape and hides every secret', () => {
    const redacted = redactedConfig(config);
    const printed = JSON.stringify(redacted);
    for (const secret of SECRETS) expect(printed).not.toContain(secret);
    expect(redacted.slack).toEqual({ ...config.slack, botToken: '[redacted]', signingSecret: '[redacted]', appToken: '[redacted]' });
    expect(redacted.anthropic.apiKey).toBe('[redacted]');
    expect(redacted.nats.servers).toEqual(['nats://[redacted]@a:4222', 'nats://b:4222']);
    expect(redacted.eventStore).toEqual({ kind: 'eventstoredb', url: 'esdb://[redacted]@db:2113?tls=false' });
    expect({ ...redacted, slack: config.slack, anthropic: config.anthropic, nats: config.nats, eventStore: config.eventStore }).toStrictEqual(config);
  });

  it('leaves the original untouched and absent secrets absent', () => {
    redactedConfig(config);
    expect(config.slack?.botToken).toBe('xoxb-bot-secret-1');
    const plain = redactedConfig(load({}));
    expect(plain.slack).toBeUndefined();
    expect(plain.anthropic.apiKey).toBeUndefined();
  });

  it('configSecrets lists every secret value, for redacting free text', () => {
    expect(configSecrets(config)).toEqual(expect.arrayContaining(SECRETS));
    expect(configSecrets(load({}))).toEqual([]);
  });
});

describe('NATS credentials and server URLs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-config-nats-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const userSeed = new TextDecoder().decode(nkeys.createUser().getSeed());
  const accountSeed = new TextDecoder().decode(nkeys.createAccount().getSeed());
  const credsFile = path.join(dir, 'user.creds');
  writeFileSync(
    credsFile,
    `-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QifQ.eyJqdGkiOiJ4In0.c2lnbmF0dXJl\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${userSeed}\n------END USER NKEY SEED------\n`,
  );
  const notCreds = path.join(dir, 'not.creds');
  writeFileSync(notCreds, 'hello\n');
  const URL_ = { NATS_URL: 'nats://nats-1:4222' };

  it.each([
    ['user and password', { NATS_USER: 'orch', NATS_PASSWORD: 'pw-secret-7' }, { kind: 'user', user: 'orch', password: 'pw-secret-7' }],
    ['a token', { NATS_TOKEN: 'token-secret-8' }, { kind: 'token', token: 'token-secret-8' }],
    ['a user nkey seed', { NATS_NKEY_SEED: userSeed }, { kind: 'nkey', seed: userSeed }],
    ['a creds file', { NATS_CREDS_FILE: credsFile }, { kind: 'creds', file: credsFile }],
  ])('authenticates to NATS_URL with %s', (_, env, auth) => {
    expect(load({ ...URL_, ...env }).nats.auth).toEqual(auth);
  });

  it.each([
    [{ ...URL_, NATS_PASSWORD: 'pw-secret-7' }, 'NATS_USER is required when NATS_PASSWORD is set'],
    [{ ...URL_, NATS_USER: 'orch' }, 'NATS_PASSWORD is required when NATS_USER is set'],
    [{ ...URL_, NATS_USER: 'orch', NATS_PASSWORD: 'pw-secret-7', NATS_TOKEN: 'token-secret-8' }, 'NATS_TOKEN cannot be combined with NATS_USER/NATS_PASSWORD'],
    [{ ...URL_, NATS_TOKEN: 'token-secret-8', NATS_CREDS_FILE: credsFile }, 'NATS_CREDS_FILE cannot be combined with NATS_TOKEN'],
    [{ NATS_TOKEN: 'token-secret-8' }, 'NATS_TOKEN applies only with NATS_URL'],
    [{ ...URL_, NATS_NKEY_SEED: accountSeed }, 'NATS_NKEY_SEED must be a NATS user nkey seed (starting with SU) (value hidden)'],
    [{ ...URL_, NATS_NKEY_SEED: 'SUnotaseed' }, 'NATS_NKEY_SEED must be a NATS user nkey seed (starting with SU) (value hidden)'],
    [{ ...URL_, NATS_CREDS_FILE: path.join(dir, 'absent.creds') }, 'NATS_CREDS_FILE must be a readable NATS .creds file: it does not exist'],
    [{ ...URL_, NATS_CREDS_FILE: notCreds }, 'NATS_CREDS_FILE must be a readable NATS .creds file: it holds no user JWT and seed'],
    [{ ...URL_, NATS_CREDS_FILE: dir }, 'NATS_CREDS_FILE must be a readable NATS .creds file: it could not be read (EISDIR)'],
    [{ NATS_API_PRODUCERS: 'ci,ci' }, 'NATS_API_PRODUCERS must be producer names'],
    [{ NATS_API_PRODUCERS: 'ci,deploy.bot' }, 'NATS_API_PRODUCERS must be producer names'],
  ])('%j is refused: %s', (env, expected) => {
    const error = failure(env);
    expect(error.message).toContain(expected);
    for (const secret of ['pw-secret-7', 'token-secret-8', accountSeed, 'SUnotaseed']) expect(error.message).not.toContain(secret);
  });

  it('reads NATS_API_PRODUCERS as the producer identities, default one named api', () => {
    expect(load({ NATS_API_PRODUCERS: 'ci, deploy-bot' }).nats.apiProducers).toEqual(['ci', 'deploy-bot']);
    expect(load({}).nats.apiProducers).toEqual(['api']);
  });

  it.each([
    'abc',
    'localhost',
    '😀',
    'nats://😀:4222',
    'nats://ex😀ample.com',
    'nats://',
    'nats://a:99999',
    'nats://a:0',
    'nats://a b:4222',
    'nats://a:4222,',
    'http://a:4222',
    'nats://-a:4222',
  ])('NATS_URL=%j is refused', (value) => {
    expect(failure({ NATS_URL: value }).problems.map((p) => p.variable)).toEqual(['NATS_URL']);
  });

  it.each([
    'nats://abc',
    'nats://nats-1.example.com:4222',
    'tls://10.0.0.1:4443',
    'ws://[::1]:8080',
    'nats://user:pw@nats:4222',
    'nats:4222',
    'nats://a:4222,nats://b:4222',
  ])('NATS_URL=%j is accepted', (value) => {
    expect(load({ NATS_URL: value }).nats.embedded).toBe(false);
  });

  it('redactedConfig and configSecrets cover every NATS credential', () => {
    for (const [env, secret] of [
      [{ NATS_USER: 'orch', NATS_PASSWORD: 'pw-secret-7' }, 'pw-secret-7'],
      [{ NATS_TOKEN: 'token-secret-8' }, 'token-secret-8'],
      [{ NATS_NKEY_SEED: userSeed }, userSeed],
    ] as const) {
      const config = load({ ...URL_, ...env });
      expect(JSON.stringify(redactedConfig(config))).not.toContain(secret);
      expect(JSON.stringify(redactedConfig(config))).toContain('[redacted]');
      expect(configSecrets(config)).toContain(secret);
    }
    expect(redactedConfig(load({ ...URL_, NATS_CREDS_FILE: credsFile })).nats.auth).toEqual({ kind: 'creds', file: credsFile });
  });
});

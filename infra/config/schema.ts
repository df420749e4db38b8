import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { authSecrets, credsFileProblem, isUserSeed, type NatsAuth } from '../nats/nats-auth.ts';

// The environment variables (SPEC "Configuration names") and the typed Config built from them.
// Every value parser reports one message of the form "must be …" so load-config can print
// "VARIABLE must be … (got "…")" without depending on zod's wording.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const EVENT_STORES = ['jetstream', 'eventstoredb'] as const;

/** Variables whose values are secrets: never printed, never put in error messages. */
export const SECRET_VARIABLES: readonly string[] = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'ANTHROPIC_API_KEY',
  'WEBHOOK_SIGNING_SECRET',
  'NATS_PASSWORD',
  'NATS_TOKEN',
  'NATS_NKEY_SEED',
];

/** Variables holding URLs, which may carry credentials before an `@` (nats://token@host). */
export const URL_VARIABLES: readonly string[] = ['NATS_URL', 'ESDB_URL', 'SLACK_API_URL', 'ANTHROPIC_BASE_URL'];

export { REDACTED } from '../logging.ts';
import { REDACTED } from '../logging.ts';

// ---- value parsers --------------------------------------------------------------------------

/** A string variable turned into T by `parse`; `undefined` from `parse` means "not valid". */
const parsed = <T>(expected: string, parse: (raw: string) => T | undefined) =>
  z.string({ error: expected }).transform((raw, ctx): T => {
    const value = parse(raw);
    if (value === undefined) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return value;
  });

const integer = (
  min: number,
  max?: number,
  expected = max === undefined ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${max}`,
) =>
  parsed(expected, (raw) => {
    if (!/^[+-]?\d+$/.test(raw)) return undefined;
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= min && (max === undefined || n <= max) ? n : undefined;
  });

const milliseconds = () => integer(1, undefined, 'must be a duration in milliseconds (an integer of at least 1)');

// Plain decimals only: Number() would also accept "0x10", "1e3" and "Infinity".
const decimal = (min: number, max: number | undefined, expected: string, exclusiveMin = false) =>
  parsed(expected, (raw) => {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(raw)) return undefined;
    const n = Number(raw);
    const aboveMin = exclusiveMin ? n > min : n >= min;
    return aboveMin && (max === undefined || n <= max) ? n : undefined;
  });

const fraction = () => decimal(0, 1, 'must be a number from 0 to 1');

const usdPerMillionTokens = () => decimal(0, undefined, 'must be a price in US dollars per million tokens (0 or more)');

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);
const flag = () =>
  parsed('must be one of true/false, 1/0, yes/no, on/off', (raw) => {
    const word = raw.toLowerCase();
    return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
  });

const oneOf = <const T extends readonly string[]>(values: T) =>
  parsed(`must be one of ${values.join(', ')}`, (raw): T[number] | undefined => values.find((v) => v === raw.toLowerCase()));

const isUrl = (raw: string, protocols: readonly string[]): boolean => {
  try {
    const url = new URL(raw);
    return protocols.includes(url.protocol) && url.host !== '';
  } catch {
    return false;
  }
};

const httpUrl = () => parsed('must be an http:// or https:// URL', (raw) => (isUrl(raw, ['http:', 'https:']) ? raw : undefined));

// A DNS name, IPv4 address or bracketed IPv6 address, and an optional port: WHATWG URL would
// turn any Unicode host into punycode and accept it.
const HOST_AND_PORT =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

const isNatsServer = (raw: string): boolean => {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw);
  const authority = (scheme ? raw.slice(scheme[0].length) : raw).replace(/[/?#].*$/, '');
  const hostAndPort = authority.slice(authority.lastIndexOf('@') + 1);
  const match = HOST_AND_PORT.exec(hostAndPort);
  if (!match) return false;
  const port = match[1] === undefined ? undefined : Number(match[1]);
  if (port !== undefined && (port < 1 || port > 65535)) return false;
  // Without a scheme only `host:port` is taken as a server: a bare word is more likely a mistake.
  if (!scheme && port === undefined) return false;
  return isUrl(scheme ? raw : `nats://${raw}`, ['nats:', 'tls:', 'ws:', 'wss:']);
};

// NATS accepts a comma-separated server list; entries may omit the scheme ("host:4222").
const natsServers = () =>
  parsed('must be a NATS server URL such as nats://localhost:4222 (several separated by commas)', (raw) => {
    const servers = raw.split(',').map((s) => s.trim());
    return servers.every(isNatsServer) ? servers : undefined;
  });

const userNkeySeed = () => parsed('must be a NATS user nkey seed (starting with SU)', (raw) => (isUserSeed(raw) ? raw : undefined));

// Read once here so a missing or malformed file stops the start with its name; read again at each connect.
const credsFile = () =>
  z.string({ error: 'must be the path of a NATS .creds file' }).transform((file, ctx): string => {
    let problem: string | undefined;
    try {
      problem = credsFileProblem(readFileSync(file, 'utf8'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problem = code === 'ENOENT' ? 'does not exist' : `could not be read (${code ?? String(error)})`;
    }
    if (problem === undefined) return file;
    ctx.addIssue({ code: 'custom', message: `must be a readable NATS .creds file: it ${problem}` });
    return z.NEVER;
  });

const producerNames = () =>
  parsed('must be producer names (letters, digits, _ and -) separated by commas, such as ci,deploy-bot', (raw) => {
    const names = raw.split(',').map((n) => n.trim());
    return names.every((n) => /^[A-Za-z0-9_-]{1,64}$/.test(n)) && new Set(names).size === names.length ? names : undefined;
  });

// ESDB connection strings may list several hosts (esdb+discover://a:2113,b:2113?tls=true),
// which URL cannot parse, so only the shape is checked here; the client validates the rest.
const esdbConnectionString = () =>
  parsed('must be an EventStoreDB connection string such as esdb://localhost:2113?tls=false', (raw) =>
    /^esdb(\+discover)?:\/\/[^\s/?#]+/.test(raw) ? raw : undefined,
  );

const subjectToken = () => parsed('must be a NATS subject token (letters, digits, _ and -)', (raw) => (/^[A-Za-z0-9_-]+$/.test(raw) ? raw : undefined));

const word = (expected: string) => parsed(expected, (raw) => (/\s/.test(raw) ? undefined : raw));
const text = () => z.string({ error: 'must be text' });
const secret = () => word('must be a single word without spaces');
const channel = () => word('must be a Slack channel name or ID without spaces');
const userList = () =>
  parsed('must be Slack user IDs separated by commas, such as U012AB3CD,U045EF6GH', (raw) => {
    const users = raw
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
    return users.length > 0 && users.every((u) => /^[A-Za-z0-9._-]{1,200}$/.test(u)) && new Set(users).size === users.length ? users : undefined;
  });

// ---- the environment ------------------------------------------------------------------------

const envShape = {
  // Connections
  NATS_URL: natsServers().optional(),
  NATS_PREFIX: subjectToken().default('orch'),
  // How the product authenticates to an outside NATS_URL: one of user+password, token, nkey seed, creds file.
  NATS_USER: word('must be a user name without spaces').optional(),
  NATS_PASSWORD: secret().optional(),
  NATS_TOKEN: secret().optional(),
  NATS_NKEY_SEED: userNkeySeed().optional(),
  NATS_CREDS_FILE: credsFile().optional(),
  /** Outside command producers of the embedded server: one `producer-<name>` identity each. */
  NATS_API_PRODUCERS: producerNames().default(['api']),
  /** Replicas of every stream and KV bucket the product creates; 3 (or 5) on a NATS cluster survives losing a node. */
  NATS_REPLICAS: integer(1, 5).default(1),
  EVENT_STORE: oneOf(EVENT_STORES).default('jetstream'),
  ESDB_URL: esdbConnectionString().optional(),
  DATA_DIR: text().default('./data'),
  PORT: integer(1, 65535).default(3000),
  LOG_LEVEL: oneOf(LOG_LEVELS).default('info'),
  // Slack
  SLACK_BOT_TOKEN: secret().optional(),
  SLACK_SIGNING_SECRET: secret().optional(),
  SLACK_APP_TOKEN: secret().optional(),
  SLACK_API_URL: httpUrl().default('https://slack.com/api/'),
  SLACK_CHANNEL: channel().optional(),
  MONITORING_CHANNEL: channel().optional(),
  /** Least time between two edits of one progress message (Slack allows about one write per second per channel). */
  PROGRESS_UPDATE_INTERVAL: milliseconds().default(2_000),
  // Result delivery
  WEBHOOK_SIGNING_SECRET: secret().optional(),
  WEBHOOK_MAX_ATTEMPTS: integer(1, 100).default(5),
  ERROR_CHANNEL: channel().optional(),
  // Models
  ANTHROPIC_API_KEY: secret().optional(),
  ANTHROPIC_BASE_URL: httpUrl().default('https://api.anthropic.com'),
  CLAUDE_OPUS_MODEL: word('must be a model name without spaces').default('claude-opus-4-5'),
  CLAUDE_SONNET_MODEL: word('must be a model name without spaces').default('claude-sonnet-4-5'),
  // Work
  WORKSPACE_ROOT: text().optional(),
  DEFAULT_REPO: word('must be a repository (URL or owner/name) without spaces').optional(),
  LOCAL_WORKER_COUNT: integer(0, 1000).default(2),
  WORKER_COUNT: integer(0, 1000).default(3),
  /** Headless Claude Code runs at once; each is a paid run. */
  CLAUDE_WORKER_COUNT: integer(0, 100).default(1),
  ORCHESTRATOR_MAX_INSTANCES: integer(1, 1000).default(5),
  ORCHESTRATOR_TIMEOUT: milliseconds().default(1_800_000),
  /** A worker silent this long loses its task to another worker (at-least-once). */
  WORKER_HEARTBEAT_TIMEOUT: milliseconds().default(30_000),
  CLAUDE_BIN: text().default('claude'),
  SF_BIN: text().default('sf'),
  // Workflows
  WORKFLOW_APPROVAL_TIMEOUT: milliseconds().default(600_000),
  WORKFLOW_MAX_EXECUTION_TIME: milliseconds().default(3_600_000),
  /** Who may approve the gates of planned workflows; unset: anyone but (by default) the requester. */
  WORKFLOW_APPROVERS: userList().optional(),
  /** Whether the person who asked may be the one approval that opens a gate of their own workflow. */
  WORKFLOW_REQUESTER_MAY_APPROVE: flag().default(false),
  // Authorization
  /** The authorization policy (YAML or JSON by extension); unset: the safe defaults (see README). */
  ORCH_POLICY_FILE: text().optional(),
  /** Admins on top of the policy file's: may cancel any workflow. */
  ORCH_ADMINS: parsed('must be user ids separated by commas, such as U012AB3CD,api:ci', (raw) => {
    const ids = raw
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
    return ids.length > 0 && ids.every((u) => /^[A-Za-z0-9._:@-]{1,200}$/.test(u)) ? [...new Set(ids)] : undefined;
  }).optional(),
  /** Plans estimated to cost more than this (USD) wait for "Run this plan" even without side effects. */
  PLAN_APPROVAL_COST_THRESHOLD: decimal(0, undefined, 'must be an amount of US dollars (0 or more)').default(1),
  // Memory
  CONVERSATION_MAX_TOKENS: integer(1).default(100_000),
  CONVERSATION_SUMMARY_THRESHOLD: integer(1).default(50_000),
  // Monitoring
  ALERT_THRESHOLD_ERROR_RATE: fraction().default(0.1),
  ALERT_THRESHOLD_MEMORY: decimal(0, 100, 'must be a percentage from 0 to 100').default(80),
  ALERT_THRESHOLD_QUEUE_SIZE: integer(0).default(100),
  ALERT_COOLDOWN: milliseconds().default(300_000),
  /** How often the health checks (MO2) run; results in `orch health`. */
  HEALTH_CHECK_INTERVAL: milliseconds().default(60_000),
  // Cost
  COST_BUDGET_MONTHLY: decimal(0, undefined, 'must be an amount of US dollars above 0', true).optional(),
  /** Per workflow, with COST_BUDGET_MONTHLY: no workflow may reserve more than this in a month. */
  COST_BUDGET_PER_WORKFLOW: decimal(0, undefined, 'must be an amount of US dollars above 0', true).optional(),
  /** The most one headless Claude Code run may cost: reserved before it runs, its reported cost committed after. */
  COST_CLAUDE_RUN_CEILING: decimal(0, undefined, 'must be an amount of US dollars above 0', true).default(5),
  COST_WARNING_THRESHOLD: fraction().default(0.8),
  COST_CRITICAL_THRESHOLD: fraction().default(0.95),
  // Model prices in USD per million tokens, for the planner's cost (defaults: Anthropic's list prices for Opus 4.5 and Sonnet 4.5).
  COST_OPUS_INPUT_PER_MTOK: usdPerMillionTokens().default(5),
  COST_OPUS_OUTPUT_PER_MTOK: usdPerMillionTokens().default(25),
  COST_SONNET_INPUT_PER_MTOK: usdPerMillionTokens().default(3),
  COST_SONNET_OUTPUT_PER_MTOK: usdPerMillionTokens().default(15),
  // Feature flags
  ENABLE_ORCHESTRATION: flag().default(true),
  ENABLE_RESULT_CALLBACKS: flag().default(true),
  ENABLE_PROGRESS_REPORTING: flag().default(true),
  ENABLE_CONVERSATION_MEMORY: flag().default(true),
  ENABLE_WORKFLOW_ENGINE: flag().default(true),
  ENABLE_MONITORING: flag().default(true),
  DRY_RUN: flag().default(false),
};

export type ConfigVariable = keyof typeof envShape;
export const CONFIG_VARIABLES = Object.keys(envShape) as ConfigVariable[];

type EnvValues = z.output<z.ZodObject<typeof envShape>>;

type Problem = (variable: ConfigVariable, message: string) => void;
const reporter =
  (ctx: z.RefinementCtx): Problem =>
  (variable, message) =>
    ctx.addIssue({ code: 'custom', path: [variable], message });

/**
 * Variables that need one another. Only presence is looked at, so these run even when some
 * value failed to parse, and the start-up message lists every problem at once.
 */
const checkRequiredTogether = (env: EnvValues, ctx: z.RefinementCtx): void => {
  const problem = reporter(ctx);
  if (env.EVENT_STORE === 'eventstoredb' && env.ESDB_URL === undefined) problem('ESDB_URL', 'is required when EVENT_STORE is eventstoredb');

  if (env.SLACK_BOT_TOKEN !== undefined && env.SLACK_SIGNING_SECRET === undefined)
    problem('SLACK_SIGNING_SECRET', 'is required when SLACK_BOT_TOKEN is set (set both or neither)');
  const needBotToken = (['SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN'] as const).filter((v) => env[v] !== undefined);
  if (env.SLACK_BOT_TOKEN === undefined && needBotToken.length > 0) problem('SLACK_BOT_TOKEN', `is required when ${needBotToken.join(' or ')} is set`);
  checkNatsAuth(env, problem);
};

const NATS_AUTH_METHODS = [['NATS_USER', 'NATS_PASSWORD'], ['NATS_TOKEN'], ['NATS_NKEY_SEED'], ['NATS_CREDS_FILE']] as const;

/** At most one way to authenticate, complete, and only towards an outside server (the embedded one has its own). */
const checkNatsAuth = (env: EnvValues, problem: Problem): void => {
  if (env.NATS_PASSWORD !== undefined && env.NATS_USER === undefined) problem('NATS_USER', 'is required when NATS_PASSWORD is set');
  if (env.NATS_USER !== undefined && env.NATS_PASSWORD === undefined) problem('NATS_PASSWORD', 'is required when NATS_USER is set');
  const chosen = NATS_AUTH_METHODS.filter((variables) => variables.some((v) => env[v] !== undefined));
  if (chosen.length > 1)
    problem(
      chosen[1]![0],
      `cannot be combined with ${chosen[0]!.join('/')}: set one way to authenticate to NATS (user and password, token, nkey seed or creds file)`,
    );
  if (chosen.length > 0 && env.NATS_URL === undefined)
    problem(chosen[0]![0], 'applies only with NATS_URL; the embedded server uses its own generated credentials (orch nats credentials)');
};

const natsAuthOf = (env: EnvValues): NatsAuth | undefined => {
  if (env.NATS_USER !== undefined && env.NATS_PASSWORD !== undefined) return { kind: 'user', user: env.NATS_USER, password: env.NATS_PASSWORD };
  if (env.NATS_TOKEN !== undefined) return { kind: 'token', token: env.NATS_TOKEN };
  if (env.NATS_NKEY_SEED !== undefined) return { kind: 'nkey', seed: env.NATS_NKEY_SEED };
  if (env.NATS_CREDS_FILE !== undefined) return { kind: 'creds', file: env.NATS_CREDS_FILE };
  return undefined;
};

/** Thresholds that must be in order; these need parsed numbers, so they run only when every value parsed. */
const checkOrdering = (env: EnvValues, ctx: z.RefinementCtx): void => {
  const problem = reporter(ctx);
  if (env.CONVERSATION_SUMMARY_THRESHOLD >= env.CONVERSATION_MAX_TOKENS)
    problem('CONVERSATION_SUMMARY_THRESHOLD', `must be below CONVERSATION_MAX_TOKENS (${env.CONVERSATION_MAX_TOKENS})`);
  if (env.COST_WARNING_THRESHOLD > env.COST_CRITICAL_THRESHOLD)
    problem('COST_WARNING_THRESHOLD', `must not exceed COST_CRITICAL_THRESHOLD (${env.COST_CRITICAL_THRESHOLD})`);
};

// ---- the Config -----------------------------------------------------------------------------

export interface SlackConfig {
  botToken: string;
  signingSecret: string;
  /** Set: Socket Mode; unset: HTTP events on `http.port`. */
  appToken?: string;
  /** Web API base, ends with `/`. */
  apiUrl: string;
  channels: { default?: string; monitoring?: string; error?: string };
  /** Least time between two edits of one progress message. */
  progressIntervalMs: number;
}

export interface Config {
  /** First token of every NATS subject (`orch.cmd.…`). */
  prefix: string;
  logLevel: LogLevel;
  dataDir: string;
  /**
   * No NATS_URL: `embedded`, start our own nats-server; otherwise the cluster's `servers`. `replicas` of each stream and bucket we create.
   * `auth`: how the product authenticates to the outside server (the embedded one uses generated credentials). `apiProducers`: the embedded server's producer identities.
   */
  nats: { servers: string[]; embedded: boolean; replicas: number; auth: NatsAuth | undefined; apiProducers: string[] };
  eventStore: { kind: 'jetstream' } | { kind: 'eventstoredb'; url: string };
  http: { port: number };
  /** Result delivery to webhook reply targets; without a secret, webhook targets are refused. */
  webhooks: { signingSecret?: string; maxAttempts: number };
  /** Undefined when no Slack credentials are set: the console adapter is the front end. */
  slack: SlackConfig | undefined;
  /** No key: the offline planner plans. */
  anthropic: {
    apiKey?: string;
    baseUrl: string;
    models: { opus: string; sonnet: string };
    /** USD per million tokens, per model. */
    prices: Record<'opus' | 'sonnet', { inputUsdPerMillion: number; outputUsdPerMillion: number }>;
  };
  work: {
    workspaceRoot?: string;
    defaultRepo?: string;
    localWorkerCount: number;
    claudeWorkerCount: number;
    salesforceWorkerCount: number;
    orchestratorMaxInstances: number;
    orchestratorTimeoutMs: number;
    ackWaitMs: number;
    claudeBin: string;
    sfBin: string;
  };
  workflows: { approvalTimeoutMs: number; maxExecutionTimeMs: number; approvers?: string[]; requesterMayApprove: boolean; planCostThresholdUsd: number };
  /** ORCH_POLICY_FILE and ORCH_ADMINS; the policy itself is read by infra/policy/load-policy.ts. */
  policy: { file?: string; admins: string[] };
  memory: { maxTokens: number; summaryThreshold: number };
  monitoring: {
    errorRateThreshold: number;
    memoryPercentThreshold: number;
    queueSizeThreshold: number;
    alertCooldownMs: number;
    healthCheckIntervalMs: number;
  };
  cost: { monthlyBudgetUsd?: number; perWorkflowBudgetUsd?: number; claudeRunCeilingUsd: number; warningThreshold: number; criticalThreshold: number };
  features: {
    orchestration: boolean;
    resultCallbacks: boolean;
    progressReporting: boolean;
    conversationMemory: boolean;
    workflowEngine: boolean;
    monitoring: boolean;
    dryRun: boolean;
  };
}

const toConfig = (env: EnvValues): Config => ({
  prefix: env.NATS_PREFIX,
  logLevel: env.LOG_LEVEL,
  dataDir: env.DATA_DIR,
  nats: {
    servers: env.NATS_URL ?? [],
    embedded: env.NATS_URL === undefined,
    replicas: env.NATS_REPLICAS,
    auth: natsAuthOf(env),
    apiProducers: env.NATS_API_PRODUCERS,
  },
  // checkRequiredTogether guarantees ESDB_URL here.
  eventStore: env.EVENT_STORE === 'eventstoredb' ? { kind: 'eventstoredb', url: env.ESDB_URL ?? '' } : { kind: 'jetstream' },
  http: { port: env.PORT },
  slack:
    env.SLACK_BOT_TOKEN === undefined || env.SLACK_SIGNING_SECRET === undefined
      ? undefined
      : {
          botToken: env.SLACK_BOT_TOKEN,
          signingSecret: env.SLACK_SIGNING_SECRET,
          appToken: env.SLACK_APP_TOKEN,
          // A trailing slash lets `new URL('chat.postMessage', apiUrl)` keep the path.
          apiUrl: env.SLACK_API_URL.endsWith('/') ? env.SLACK_API_URL : `${env.SLACK_API_URL}/`,
          channels: { default: env.SLACK_CHANNEL, monitoring: env.MONITORING_CHANNEL, error: env.ERROR_CHANNEL },
          progressIntervalMs: env.PROGRESS_UPDATE_INTERVAL,
        },
  webhooks: { signingSecret: env.WEBHOOK_SIGNING_SECRET, maxAttempts: env.WEBHOOK_MAX_ATTEMPTS },
  anthropic: {
    apiKey: env.ANTHROPIC_API_KEY,
    baseUrl: env.ANTHROPIC_BASE_URL,
    models: { opus: env.CLAUDE_OPUS_MODEL, sonnet: env.CLAUDE_SONNET_MODEL },
    prices: {
      opus: { inputUsdPerMillion: env.COST_OPUS_INPUT_PER_MTOK, outputUsdPerMillion: env.COST_OPUS_OUTPUT_PER_MTOK },
      sonnet: { inputUsdPerMillion: env.COST_SONNET_INPUT_PER_MTOK, outputUsdPerMillion: env.COST_SONNET_OUTPUT_PER_MTOK },
    },
  },
  work: {
    workspaceRoot: env.WORKSPACE_ROOT,
    defaultRepo: env.DEFAULT_REPO,
    localWorkerCount: env.LOCAL_WORKER_COUNT,
    salesforceWorkerCount: env.WORKER_COUNT,
    claudeWorkerCount: env.CLAUDE_WORKER_COUNT,
    orchestratorMaxInstances: env.ORCHESTRATOR_MAX_INSTANCES,
    orchestratorTimeoutMs: env.ORCHESTRATOR_TIMEOUT,
    ackWaitMs: env.WORKER_HEARTBEAT_TIMEOUT,
    claudeBin: env.CLAUDE_BIN,
    sfBin: env.SF_BIN,
  },
  workflows: {
    approvalTimeoutMs: env.WORKFLOW_APPROVAL_TIMEOUT,
    maxExecutionTimeMs: env.WORKFLOW_MAX_EXECUTION_TIME,
    approvers: env.WORKFLOW_APPROVERS,
    requesterMayApprove: env.WORKFLOW_REQUESTER_MAY_APPROVE,
    planCostThresholdUsd: env.PLAN_APPROVAL_COST_THRESHOLD,
  },
  policy: { file: env.ORCH_POLICY_FILE, admins: env.ORCH_ADMINS ?? [] },
  memory: { maxTokens: env.CONVERSATION_MAX_TOKENS, summaryThreshold: env.CONVERSATION_SUMMARY_THRESHOLD },
  monitoring: {
    errorRateThreshold: env.ALERT_THRESHOLD_ERROR_RATE,
    memoryPercentThreshold: env.ALERT_THRESHOLD_MEMORY,
    queueSizeThreshold: env.ALERT_THRESHOLD_QUEUE_SIZE,
    alertCooldownMs: env.ALERT_COOLDOWN,
    healthCheckIntervalMs: env.HEALTH_CHECK_INTERVAL,
  },
  cost: {
    monthlyBudgetUsd: env.COST_BUDGET_MONTHLY,
    perWorkflowBudgetUsd: env.COST_BUDGET_PER_WORKFLOW,
    claudeRunCeilingUsd: env.COST_CLAUDE_RUN_CEILING,
    warningThreshold: env.COST_WARNING_THRESHOLD,
    criticalThreshold: env.COST_CRITICAL_THRESHOLD,
  },
  features: {
    orchestration: env.ENABLE_ORCHESTRATION,
    resultCallbacks: env.ENABLE_RESULT_CALLBACKS,
    progressReporting: env.ENABLE_PROGRESS_REPORTING,
    conversationMemory: env.ENABLE_CONVERSATION_MEMORY,
    workflowEngine: env.ENABLE_WORKFLOW_ENGINE,
    monitoring: env.ENABLE_MONITORING,
    dryRun: env.DRY_RUN,
  },
});

/** Trimmed values, with empty ones dropped: an empty variable counts as unset. */
export const normalizeEnv = (env: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).flatMap(([name, value]) => {
      const trimmed = value?.trim();
      return trimmed ? [[name, trimmed]] : [];
    }),
  );

/** Parses an environment (`process.env`-like) into a Config. Issue paths start with the variable name. */
export const configSchema = z.preprocess(
  (env) => (typeof env === 'object' && env !== null ? normalizeEnv(env as Record<string, string | undefined>) : env),
  z
    .object(envShape)
    .superRefine(checkRequiredTogether, { when: (payload) => typeof payload.value === 'object' && payload.value !== null })
    .superRefine(checkOrdering)
    .transform(toConfig),
);

// ---- printing -------------------------------------------------------------------------------

/** Hides whatever precedes the last `@` of a URL (user, password or token). */
export const maskUrlCredentials = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/i, `$1${REDACTED}@`);

const hide = <T extends string | undefined>(value: T): T => (value === undefined ? value : (REDACTED as T));

/** The same Config with every secret replaced by '[redacted]', for printing. */
export const redactedConfig = (config: Config): Config => ({
  ...config,
  nats: { ...config.nats, servers: config.nats.servers.map(maskUrlCredentials), auth: redactedAuth(config.nats.auth) },
  eventStore: config.eventStore.kind === 'eventstoredb' ? { ...config.eventStore, url: maskUrlCredentials(config.eventStore.url) } : config.eventStore,
  slack:
    config.slack === undefined
      ? undefined
      : {
          ...config.slack,
          botToken: REDACTED,
          signingSecret: REDACTED,
          appToken: hide(config.slack.appToken),
          apiUrl: maskUrlCredentials(config.slack.apiUrl),
        },
  anthropic: { ...config.anthropic, apiKey: hide(config.anthropic.apiKey), baseUrl: maskUrlCredentials(config.anthropic.baseUrl) },
  webhooks: { ...config.webhooks, signingSecret: hide(config.webhooks.signingSecret) },
});

const redactedAuth = (auth: NatsAuth | undefined): NatsAuth | undefined => {
  if (auth === undefined) return undefined;
  switch (auth.kind) {
    case 'user':
      return { ...auth, password: REDACTED };
    case 'token':
      return { ...auth, token: REDACTED };
    case 'nkey':
      return { ...auth, seed: REDACTED };
    case 'creds':
      return auth; // a path; the secret is inside the file
  }
};

/** The part of a URL before its last `@`: a NATS token, or user and password. */
const urlCredentials = (url: string): string[] => {
  const userinfo = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(.*)@/i.exec(url)?.[1];
  if (!userinfo) return [];
  const password = userinfo.slice(userinfo.indexOf(':') + 1);
  return userinfo.includes(':') && password ? [userinfo, password] : [userinfo];
};

/** Every secret value in the Config, for `redactSecretsInText` over child-process output. */
export const configSecrets = (config: Config): string[] => {
  const urls = [
    ...config.nats.servers,
    config.anthropic.baseUrl,
    config.slack?.apiUrl,
    config.eventStore.kind === 'eventstoredb' ? config.eventStore.url : undefined,
  ];
  const values = [config.slack?.botToken, config.slack?.signingSecret, config.slack?.appToken, config.anthropic.apiKey, config.webhooks.signingSecret];
  return [...values, ...authSecrets(config.nats.auth), ...urls.flatMap((url) => (url === undefined ? [] : urlCredentials(url)))].filter(
    (s): s is string => s !== undefined,
  );
};

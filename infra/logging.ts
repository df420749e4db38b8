import { pino, type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import { scrubSecrets, secretScrubber } from '../domain/secrets/scrub-secrets.ts';

// SE4: secrets never reach the logs. pino's redact has no recursive wildcard, so each key
// name is listed at the top level and under up to MAX_DEPTH levels of nesting. Wildcards cost
// time per line written (pino 10, dev VM: ~1 µs at depth 0, ~25 µs at 2, ~50-100 µs at 3);
// lines below the level are never serialised, so only lines actually written pay.
// Second line of defence: every written line, message and fields alike, goes through the one
// scrubber (known secret values and credential shapes) as the JSON text it is, in pino's
// streamWrite hook; a typical line costs about 2 µs more (bench in the README section).

export const REDACTED = '[redacted]';

const SECRET_KEYS = [
  'token',
  'botToken',
  'appToken',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'apiKey',
  'api_key',
  'password',
  'pass',
  'secret',
  'signingSecret',
  'signing_secret',
  'clientSecret',
  'client_secret',
  'privateKey',
  'seed',
  'authorization',
  'Authorization',
  'cookie',
  'x-api-key',
  'set-cookie',
  // The variable names themselves, for code that logs (part of) an environment.
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'ANTHROPIC_API_KEY',
  'WEBHOOK_SIGNING_SECRET',
];

// Deep enough for { req: { headers: { authorization } } } and { event: { data: { config: { apiKey } } } }.
const MAX_DEPTH = 3;

const keyPath = (key: string): string => (/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`);

/** `token`, `*.token`, `*.*.token`, … and `["x-api-key"]`, `*["x-api-key"]`, … */
export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) =>
  Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => `${Array(depth).fill('*').join('.')}${keyPath(key)}`.replace(/^\./, '')),
);

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Where JSON lines go; stdout when omitted. Tests pass a stream to read the lines back. */
  destination?: DestinationStream;
  /** Shown as `name` on every line: the process role, e.g. `gateway`. */
  name?: string;
  /** Secret values to hide wherever they appear in a line (from `secretValuesOf(config)`). */
  secretValues?: readonly string[];
}

export const createLogger = (options: LoggerOptions): Logger => {
  const settings = {
    level: options.level,
    name: options.name,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    // Level names and ISO times read better in JSON than numbers and epoch milliseconds.
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: { streamWrite: secretScrubber(options.secretValues ?? []) },
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
};

/** A child logger that puts `correlationId` (and any other bindings) on every line. */
export const withCorrelation = (logger: Logger, correlationId: string, bindings: Record<string, unknown> = {}): Logger =>
  logger.child({ ...bindings, correlationId });

/** The one scrubber (domain/secrets), under the name earlier callers know. */
export const redactSecretsInText = (text: string, secrets: readonly string[]): string => scrubSecrets(text, secrets);

import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import type { z } from 'zod';
import { type Config, configSchema, maskUrlCredentials, normalizeEnv, SECRET_VARIABLES, URL_VARIABLES } from './schema.ts';

export interface ConfigProblem {
  /** The environment variable to change (or the .env file that could not be read). */
  variable: string;
  /** What is expected, e.g. `must be an integer from 1 to 65535 (got "abc")`. */
  problem: string;
}

/** Thrown at start when the configuration is unusable; the message is one line naming every variable at fault. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(`Invalid configuration: ${problems.map((p) => `${p.variable} ${p.problem}`).join('; ')}`);
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Path of a dotenv file read beneath the environment; `false` reads none. Default `./.env`; a missing file is fine. */
  envFile?: string | false;
}

/**
 * Reads the configuration from `env` over the `.env` file (the real environment wins) and validates it.
 * `process.env` is never changed, so what the process runs with is exactly what was validated.
 */
export const loadConfig = (env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config => {
  // Normalising each side first lets an empty variable in the environment fall back to the file.
  const vars = { ...normalizeEnv(readEnvFile(options.envFile ?? './.env')), ...normalizeEnv(env) };
  const result = configSchema.safeParse(vars);
  if (result.success) return result.data;
  throw new ConfigError(describeIssues(result.error.issues, vars));
};

const readEnvFile = (file: string | false): Record<string, string> => {
  if (file === false) return {};
  try {
    return parseDotenv(readFileSync(file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new ConfigError([{ variable: file, problem: `could not be read (${code ?? String(error)})` }]);
  }
};

const describeIssues = (issues: readonly z.core.$ZodIssue[], vars: Record<string, string>): ConfigProblem[] => {
  const problems = issues.map((issue) => {
    const variable = typeof issue.path[0] === 'string' ? issue.path[0] : 'environment';
    return { variable, problem: `${issue.message}${shownValue(variable, vars[variable])}` };
  });
  return problems.filter((p, i) => problems.findIndex((q) => q.variable === p.variable && q.problem === p.problem) === i);
};

const MAX_SHOWN = 80;

/** The offending value for the message: never a secret, never URL credentials, always one line. */
const shownValue = (variable: string, value: string | undefined): string => {
  if (value === undefined) return '';
  if (SECRET_VARIABLES.includes(variable)) return ' (value hidden)';
  const safe = URL_VARIABLES.includes(variable) ? maskUrlCredentials(value) : value;
  const short = safe.length > MAX_SHOWN ? `${safe.slice(0, MAX_SHOWN)}…` : safe;
  return ` (got ${JSON.stringify(short)})`;
};

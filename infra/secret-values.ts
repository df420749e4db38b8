import { readFileSync } from 'node:fs';
import path from 'node:path';
import { secretValuesOfEnv } from '../adapters/executors/process.ts';
import { configSecrets, type Config } from './config/schema.ts';
import { credentialsFile } from './nats/embedded-credentials.ts';

// Every secret value this process knows, built once at start and handed to the scrubber's users
// (workers, logger, Slack poster, webhook sender, public events): the configuration's secrets
// (Slack, Anthropic, webhook, NATS credentials, credentials in URLs) and the values of the
// environment's credential variables, which reach executors (SF_ACCESS_TOKEN, ANTHROPIC_API_KEY…).

/** Config keys whose string values are secrets, wherever they sit (so new settings are covered too). */
const SECRET_KEY = /(token|secret|password|passwd|pass|seed|apikey|privatekey|credentials?|bcrypt)$/i;

function secretFieldsOf(value: unknown, depth = 0): string[] {
  if (typeof value !== 'object' || value === null || depth > 6) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    typeof item === 'string' ? (SECRET_KEY.test(key) && item.trim() !== '' ? [item] : []) : secretFieldsOf(item, depth + 1),
  );
}

/**
 * The embedded server's generated passwords (and their hashes): executors run as the same OS
 * user and could print the file. Read at start; none when there is no file yet.
 */
function embeddedServerSecrets(config: Config): string[] {
  if (!config.nats.embedded) return [];
  try {
    return secretFieldsOf(JSON.parse(readFileSync(credentialsFile(path.resolve(config.dataDir, 'nats')), 'utf8')));
  } catch {
    return [];
  }
}

/** Known secret values, longest first, without repeats. */
export function secretValuesOf(config: Config, env: NodeJS.ProcessEnv = process.env): readonly string[] {
  const values = new Set([...configSecrets(config), ...secretFieldsOf(config), ...secretValuesOfEnv(env), ...embeddedServerSecrets(config)]);
  return [...values].sort((a, b) => b.length - a.length);
}

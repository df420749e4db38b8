import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateCredentials } from '../../infra/nats/embedded-credentials.ts';
import { loadConfig } from '../../infra/config/load-config.ts';
import { secretValuesOf } from '../../infra/secret-values.ts';

// The list of known secret values handed to the scrubber: the configuration's secrets and the
// environment's credential variables (those reach executors), longest first.

const load = (env: Record<string, string>) => loadConfig(env, { envFile: false });

describe('secretValuesOf', () => {
  const config = load({
    SLACK_BOT_TOKEN: 'xoxb-bot-secret-1',
    SLACK_SIGNING_SECRET: 'signing-secret-2',
    ANTHROPIC_API_KEY: 'sk-ant-secret-4',
    WEBHOOK_SIGNING_SECRET: 'whsec-secret-7',
    NATS_URL: 'nats://natsuser:natspass5@a:4222',
  });

  it('lists the configured secrets and the credential variables of the environment, longest first', () => {
    const env = {
      SF_ACCESS_TOKEN: '00DXX!sf-access-token-8',
      AWS_SECRET_ACCESS_KEY: 'aws-secret-9xxxx',
      NATS_CREDS_FILE: '/etc/orch/service.creds',
      PATH: '/usr/bin',
      SHORT_TOKEN: 'abc',
    };
    const values = secretValuesOf(config, env);
    expect(values).toEqual(
      expect.arrayContaining([
        'xoxb-bot-secret-1',
        'signing-secret-2',
        'sk-ant-secret-4',
        'whsec-secret-7',
        'natspass5',
        '00DXX!sf-access-token-8',
        'aws-secret-9xxxx',
      ]),
    );
    // Paths to credential files, ordinary variables and values too short to be secrets are left out.
    expect(values).not.toContain('/etc/orch/service.creds');
    expect(values).not.toContain('/usr/bin');
    expect(values).not.toContain('abc');
    expect([...values]).toEqual([...values].sort((a, b) => b.length - a.length));
    expect(new Set(values).size).toBe(values.length);
  });

  it('is empty for a configuration without secrets and an environment without credentials', () => {
    expect(secretValuesOf(load({}), { PATH: '/usr/bin', HOME: '/root' })).toEqual([]);
  });

  it("includes the embedded nats-server's generated passwords, which executors running as the same user could read", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'orch-secret-values-'));
    const { service } = await loadOrCreateCredentials(path.join(dataDir, 'nats'), ['service', 'consumer']);
    const values = secretValuesOf(load({ DATA_DIR: dataDir }), {});
    expect(values).toContain(service.password);
    expect(values.length).toBeGreaterThanOrEqual(4); // two passwords and two hashes
    expect(secretValuesOf(load({ DATA_DIR: dataDir, NATS_URL: 'nats://127.0.0.1:4222' }), {})).not.toContain(service.password);
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config/load-config.ts';
import { loadPolicy, PolicyError } from '../../infra/policy/load-policy.ts';
import { ConfigError } from '../../infra/config/load-config.ts';

// ORCH_POLICY_FILE from real files: YAML and JSON read by extension, every problem of a bad
// file listed with the file and its path, and the example shipped with the product valid.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'orch-policy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const write = async (name: string, text: string): Promise<string> => {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
};
const policyFrom = (file: string | undefined, env: Record<string, string> = {}) =>
  loadPolicy(loadConfig({ ...env, ...(file ? { ORCH_POLICY_FILE: file } : {}) }, { envFile: false }));
const problemsOf = (load: () => unknown): string[] => {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toBeInstanceOf(ConfigError);
    return (error as PolicyError).problems.map((p) => `${p.variable} ${p.problem}`);
  }
  return expect.fail('expected a PolicyError');
};

describe('loading the policy', () => {
  it('uses the defaults without a file, with ORCH_ADMINS as admins', () => {
    const policy = policyFrom(undefined, { ORCH_ADMINS: 'U_OPS, api:ops' });
    expect(policy.source).toBe('defaults');
    expect(policy.roles.admin).toEqual(['U_OPS', 'api:ops']);
    expect(policy.roles.deployer).toEqual(['*']);
  });

  it('reads the example shipped with the product', () => {
    const policy = policyFrom(path.resolve('examples/policy.yaml'));
    expect(policy.deploy.targets.map((t) => t.org)).toEqual(['sandbox-*', 'prod*']);
    expect(policy.groups['release-managers']).toEqual(['U01RELEASE1', 'U01RELEASE2']);
  });

  it('reads JSON by its extension', async () => {
    const policy = policyFrom(await write('policy.json', JSON.stringify({ roles: { admin: ['U1'] } })));
    expect(policy.roles.admin).toEqual(['U1']);
  });

  it('lists every problem of an invalid file with the file and its path', async () => {
    const file = await write('bad.yaml', 'roles:\n  admin: [role:approver]\nstart:\n  read-only: [group:nope]\ntaskTypes:\n  no-such: ["*"]\n');
    expect(problemsOf(() => policyFrom(file))).toEqual([
      `ORCH_POLICY_FILE ${file}: roles.admin.0: a role lists users and groups, not other roles`,
      `ORCH_POLICY_FILE ${file}: start.read-only.0: no group "nope" under groups`,
      expect.stringMatching(new RegExp(`^ORCH_POLICY_FILE ${file}: taskTypes.no-such: no task type "no-such"`)),
    ]);
  });

  it('refuses YAML that does not parse, a missing file and an unknown extension', async () => {
    const broken = await write('broken.yml', 'roles:\n  admin: [U1\n');
    expect(problemsOf(() => policyFrom(broken))[0]).toMatch(new RegExp(`^ORCH_POLICY_FILE ${broken}: line \\d+: `));
    expect(problemsOf(() => policyFrom(path.join(dir, 'missing.yaml')))).toEqual([
      `ORCH_POLICY_FILE ${path.join(dir, 'missing.yaml')}: (file): could not be read (ENOENT)`,
    ]);
    expect(problemsOf(() => policyFrom(path.join(dir, 'policy.toml')))[0]).toContain('must end in .yaml, .yml or .json');
  });

  it('refuses duplicate keys rather than letting the last one win', async () => {
    const file = await write('dup.yaml', 'roles:\n  admin: [U1]\n  admin: [U2]\n');
    expect(problemsOf(() => policyFrom(file))[0]).toContain(`ORCH_POLICY_FILE ${file}: line 3: `);
  });
});

/** `orch` as an operator runs it, with only the policy file set; its exit code and output. */
const orch = (args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ORCH_POLICY_FILE: path.resolve('examples/policy.yaml') };
    execFile(process.execPath, ['bin/orch.mjs', ...args], { env, cwd: path.resolve('.'), timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('orch policy check', () => {
  it('says refused with the rule and exits 1; allowed exits 0, as JSON when asked', async () => {
    const refused = await orch(['policy', 'check', 'U01DEV', 'start', '--template', 'deployment', '--org', 'prod-eu']);
    expect(refused).toMatchObject({ code: 1, stdout: 'refused: only deployers may deploy to prod-eu (rule deploy.targets[1])\n' });
    const allowed = await orch(['policy', 'check', 'U01RELEASE1', 'approve', '--gate-kind', 'deploy', '--json']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toEqual({
      allowed: true,
      rule: 'gates.deploy.approvers',
      message: 'U01RELEASE1 may approve (rule gates.deploy.approvers)',
    });
    expect((await orch(['policy', 'check', 'U01DEV', 'cancel', '--requested-by', 'U01OTHER'])).stdout).toContain('(rule cancel)');
  }, 120_000);
});

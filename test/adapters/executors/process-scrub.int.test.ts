import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess, safeEnv, secretValuesOfEnv } from '../../../adapters/executors/process.ts';

// Where executor output enters the product (SE4): a real child prints its own credential
// variable, a caller-named secret and token shapes; neither its lines nor its captured output
// hold them.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'orch-process-scrub-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const SF_TOKEN = 'plain-env-access-token-value-1234';
const NAMED = 'caller-named-secret-5678';
const SCRIPT = [
  'echo "token $SF_ACCESS_TOKEN"',
  `echo "named ${NAMED}"`,
  'echo "slack xoxb-1234567890-abcdefghijkl" >&2',
  'echo "-----BEGIN OPENSSH PRIVATE KEY-----"',
  'echo "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUPlantedBody"',
  'echo "-----END OPENSSH PRIVATE KEY-----"',
  'echo done',
].join('\n');

describe('runProcess scrubs what a child prints', () => {
  it('hides the values of its credential variables, named secrets and token shapes, in lines and in the captured output', async () => {
    const lines: string[] = [];
    const run = await runProcess('sh', ['-c', SCRIPT], {
      cwd: dir,
      signal: new AbortController().signal,
      env: safeEnv({ SF_ACCESS_TOKEN: SF_TOKEN }),
      secretValues: [NAMED],
      onLine: (stream, line) => lines.push(`${stream}: ${line}`),
    });
    expect(run.exitCode).toBe(0);
    const everything = [run.stdout, run.stderr, ...lines].join('\n');
    for (const secret of [SF_TOKEN, NAMED, 'xoxb-1234567890-abcdefghijkl', 'PlantedBody']) expect(everything).not.toContain(secret);
    // Streams interleave in any order; each keeps its own.
    expect(lines.filter((l) => l.startsWith('stdout'))).toEqual([
      'stdout: token [redacted]',
      'stdout: named [redacted]',
      'stdout: [redacted:private-key]',
      'stdout: [redacted:private-key]',
      'stdout: [redacted:private-key]',
      'stdout: done',
    ]);
    expect(lines.filter((l) => l.startsWith('stderr'))).toEqual(['stderr: slack [redacted:slack-token]']);
    expect(run.stdout).toBe('token [redacted]\nnamed [redacted]\n[redacted:private-key]\ndone\n');
  });

  it('secretValuesOfEnv takes credential variables of 8 characters or more, not paths to credential files', () => {
    expect(
      secretValuesOfEnv({ SF_ACCESS_TOKEN: SF_TOKEN, NATS_CREDS_FILE: '/etc/x.creds', API_KEY: 'short', PATH: '/usr/bin', DB_PASSWORD: 'longenough' }),
    ).toEqual([SF_TOKEN, 'longenough']);
  });
});

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { isRight } from 'fp-ts/lib/Either.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayApprove, mayStart } from '../../domain/policy/index.ts';
import { loadConfig } from '../../infra/config/load-config.ts';
import { policyFor } from '../../infra/policy/load-policy.ts';
import { resolvePolicyUserGroups } from '../../infra/policy/slack-user-groups.ts';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { standInWorkspace } from '../support/slack-workspace.ts';

// A policy may name Slack user groups (`S…`); at start their members are listed through Slack's
// `usergroups.users.list` (here the Web API stand-in), so the policy's rules see plain user ids.
// A group Slack will not list allows nobody, and says so in the log.

describe('Slack user groups in the authorization policy', () => {
  let slack: SlackWebApiStandIn;
  let policyFile: string;
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
  );

  beforeAll(async () => {
    slack = await startSlackWebApiStandIn();
    policyFile = path.join(await mkdtemp(path.join(tmpdir(), 'orch-policy-groups-')), 'policy.yaml');
    await writeFile(policyFile, ['version: 1', 'roles:', '  approver: [S0RELEASE]', '  deployer: [S0GONE]', "  requester: ['*']", ''].join('\n'));
  });
  afterAll(async () => slack.stop());

  const configWith = (env: Record<string, string>) =>
    loadConfig({ ORCH_POLICY_FILE: policyFile, SLACK_SIGNING_SECRET: standInWorkspace.signingSecret, SLACK_API_URL: slack.apiUrl, ...env }, { envFile: false });

  it("lets a group's members act and nobody else; a group Slack cannot list allows nobody and is logged", async () => {
    const config = configWith({ SLACK_BOT_TOKEN: slack.token });
    // Before the lookup, S0RELEASE is only a name: its members are not approvers yet.
    expect(isRight(mayApprove(policyFor(config), 'U0RELEASE1', 'deploy'))).toBe(false);
    await resolvePolicyUserGroups(config, logger);
    const policy = policyFor(config);
    expect(isRight(mayApprove(policy, 'U0RELEASE1', 'deploy'))).toBe(true);
    expect(isRight(mayApprove(policy, 'U0RELEASE2', 'deploy'))).toBe(true);
    expect(isRight(mayApprove(policy, standInWorkspace.user.id, 'deploy'))).toBe(false);
    // S0GONE is not a group Slack knows: no deployer at all.
    const deploy = { actor: 'U0RELEASE1', steps: [{ taskType: 'sf-deploy', sideEffect: 'deploy' as const, targetOrg: 'prod' }] };
    expect(isRight(mayStart(policy, deploy))).toBe(false);
    expect(
      slack
        .calls('usergroups.users.list')
        .map((call) => call.args.usergroup)
        .sort(),
    ).toEqual(['S0GONE', 'S0RELEASE']);
    expect(lines.find((l) => l.msg === 'policy: Slack user groups resolved')).toMatchObject({ groups: ['S0RELEASE'] });
    expect(lines.find((l) => String(l.msg).startsWith('policy: Slack user groups could not be listed'))).toMatchObject({ groups: ['S0GONE'] });
  });

  it('without Slack configured nothing is looked up and the groups stay names', async () => {
    const before = slack.calls().length;
    const config = loadConfig({ ORCH_POLICY_FILE: policyFile }, { envFile: false });
    await resolvePolicyUserGroups(config, logger);
    expect(slack.calls().length).toBe(before);
    expect(isRight(mayApprove(policyFor(config), 'U0RELEASE1', 'deploy'))).toBe(false);
  });
});

import type { Logger } from 'pino';
import { slackWebClient } from '../../adapters/slack/slack-chat-poster.ts';
import type { Config } from '../config/schema.ts';
import { policyFor, resolveSlackUserGroups, usePolicy, type UserGroupLookup } from './load-policy.ts';

// Slack user groups (`S…`) named in the policy get their members from Slack once, at start, so the
// pure evaluation sees plain user ids. A group Slack will not list allows nobody (and is logged):
// a lookup failure must never widen who may act. Membership changes take effect at the next start.

export const slackUserGroupLookup = (config: Config): UserGroupLookup | undefined => {
  if (!config.slack) return undefined;
  const client = slackWebClient(config.slack.botToken, config.slack.apiUrl);
  return async (usergroup) => (await client.usergroups.users.list({ usergroup })).users ?? [];
};

export async function resolvePolicyUserGroups(config: Config, logger: Logger, lookup = slackUserGroupLookup(config)): Promise<void> {
  if (!lookup) return;
  const { policy, failed, resolved } = await resolveSlackUserGroups(policyFor(config), lookup);
  usePolicy(config, policy);
  if (resolved.length > 0) logger.info({ groups: resolved }, 'policy: Slack user groups resolved');
  if (failed.length > 0) logger.warn({ groups: failed }, 'policy: Slack user groups could not be listed; they allow nobody until the next start');
}

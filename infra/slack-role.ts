import { startSlackFrontEnd } from '../adapters/slack/slack-front-end.ts';
import { conversationIntake, decisionDesk, slashCommandTable } from './front-desk.ts';
import type { RoleContext } from './role-context.ts';

// The `slack` role: Slack's requests in (HTTP on PORT, or Socket Mode with SLACK_APP_TOKEN).
// Answers go out through the `reactors` role, which may run elsewhere.

export async function startSlack(context: RoleContext): Promise<() => Promise<void>> {
  const slack = context.config.slack;
  if (!slack) throw new Error('the slack role needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET');
  const frontEnd = await startSlackFrontEnd({
    botToken: slack.botToken,
    signingSecret: slack.signingSecret,
    appToken: slack.appToken,
    apiUrl: slack.apiUrl,
    port: context.config.http.port,
    ...(context.http ? { http: context.http } : {}),
    intake: conversationIntake(context, (message) => ({ kind: 'slack', channel: message.channel, threadTs: message.threadTs })),
    slash: slashCommandTable(context, slack.appToken ? 'Slack (Socket Mode)' : 'Slack (HTTP)'),
    decisions: decisionDesk(context),
    logger: context.logger.child({ role: 'slack' }),
  });
  return () => frontEnd.stop();
}

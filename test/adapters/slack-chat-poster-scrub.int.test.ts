import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackChatPoster, slackWebClient } from '../../adapters/slack/slack-chat-poster.ts';
import type { ReplyDocument } from '../../domain/replies/reply-document.ts';
import { startSlackWebApiStandIn, type SlackWebApiStandIn } from '../support/slack-web-api-standin.ts';
import { standInWorkspace as ws } from '../support/slack-workspace.ts';

// The Slack poster as a last line of defence (SE4): a reply document holding a known secret or
// a token shape reaches Slack's Web API scrubbed, in the text, the blocks and on edits.

const KNOWN = 'configured-signing-secret-42';
const TOKEN = 'xoxp-4440001111-4440002222-PlantedUserToken';
let slack: SlackWebApiStandIn;

beforeAll(async () => {
  slack = await startSlackWebApiStandIn();
});
afterAll(() => slack.stop());

const document = (summary: string): ReplyDocument => ({
  title: 'Tests failed',
  tone: 'failure',
  summary,
  fields: [{ label: 'Remote', value: 'https://bot:hunter2pass@git.example.com/x.git' }],
  code: { title: 'output', text: `auth ${TOKEN}\npw ${KNOWN}`, keep: 'end' },
});

describe('SlackChatPoster scrubs what it posts', () => {
  it('hides known values and token shapes in a post and in its edit', async () => {
    const poster = new SlackChatPoster(slackWebClient(slack.token, slack.apiUrl), [KNOWN]);
    const threadTs = slack.seedMessage({ channel: ws.channel.id, user: ws.user.id, text: 'run the tests' });
    const posted = await poster.post({ channel: ws.channel.id, threadTs }, document(`failed with ${KNOWN}`), { kind: 'result', deliveryId: 'task-1' });
    await poster.update(posted, document(`still ${TOKEN}`));
    const sent = JSON.stringify(
      slack
        .calls()
        .filter((c) => c.method.startsWith('chat.'))
        .map((c) => c.args),
    );
    for (const secret of [KNOWN, TOKEN, 'hunter2pass']) expect(sent).not.toContain(secret);
    expect(sent).toContain('[redacted:slack-token]');
    expect(sent).toContain('[redacted:url-credentials]');
    expect(sent).toContain('failed with [redacted]');
  });
});

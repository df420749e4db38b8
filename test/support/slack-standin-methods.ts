// TEST FIXTURE ONLY: what each Web API method of the Slack stand-in (slack-web-api-standin.ts)
// does to the stand-in's workspace, and which documented error codes it answers with. The
// server around it handles HTTP, tokens, scripted faults and recording.
import type { MessageContent, StandInMessages, StoredMessage } from './slack-standin-messages.ts';
import { nextSlackTs, standInWorkspace as ws } from './slack-workspace.ts';

export type Args = Record<string, unknown>;
export type Answer = Record<string, unknown>;

/** Answered as `{ ok: false, error: code }`. */
export class SlackApiError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}
const fail = (code: string): never => {
  throw new SlackApiError(code);
};

export const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
const truthy = (value: unknown): boolean => value === true || value === 'true' || value === '1' || value === 1;

const contentOf = (args: Args): MessageContent => ({
  ...(typeof args.text === 'string' ? { text: args.text } : {}),
  ...(args.blocks !== undefined ? { blocks: args.blocks } : {}),
  ...(args.attachments !== undefined ? { attachments: args.attachments } : {}),
  ...(args.metadata !== undefined ? { metadata: args.metadata } : {}),
});
const hasContent = (content: MessageContent): boolean =>
  (content.text ?? '') !== '' ||
  (Array.isArray(content.blocks) && content.blocks.length > 0) ||
  (Array.isArray(content.attachments) && content.attachments.length > 0);

export interface ResponseTarget {
  readonly channel: string;
  readonly user: string;
  readonly messageTs?: string;
  readonly threadTs?: string;
}

export interface StandInMethods {
  readonly methods: Readonly<Record<string, (args: Args) => Answer>>;
  /** Acts on a POST to a `response_url` as Slack does for slash commands and interactions. */
  respond(target: ResponseTarget, args: Args): void;
}

export function standInMethods(store: StandInMessages, uploadUrl: (fileId: string) => string): StandInMethods {
  let fileCounter = 0;

  const channelOf = (args: Args): string => str(args.channel) ?? fail('channel_not_found');
  const ownMessage = (channel: string, ts: string | undefined, refusal: string): StoredMessage => {
    const message = ts === undefined ? undefined : store.find(channel, ts);
    if (message === undefined) return fail('message_not_found');
    return message.user === ws.botUserId ? message : fail(refusal);
  };
  const postAsBot = (channel: string, content: MessageContent, threadTs?: string, broadcast = false): StoredMessage =>
    store.post({ channel, user: ws.botUserId, botId: ws.botId, ...(threadTs !== undefined ? { threadTs } : {}), broadcast, ...content });

  function postEphemeral(channel: string, user: string, content: MessageContent, threadTs?: string): string {
    const messageTs = nextSlackTs();
    store.ephemerals.push({
      channel,
      user,
      messageTs,
      ...(threadTs !== undefined ? { threadTs } : {}),
      text: content.text ?? '',
      ...(content.blocks !== undefined ? { blocks: content.blocks } : {}),
    });
    return messageTs;
  }

  const methods: Record<string, (args: Args) => Answer> = {
    // https://api.slack.com/methods/usergroups.users.list: the members of one user group.
    'usergroups.users.list': (args) => ({ users: [...(ws.userGroups[str(args.usergroup) ?? ''] ?? fail('no_such_subteam'))] }),
    'auth.test': () => ({
      url: `https://${ws.teamDomain}.slack.com/`,
      team: 'Stand-in Workspace',
      user: ws.botName,
      team_id: ws.teamId,
      user_id: ws.botUserId,
      bot_id: ws.botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (args) => {
      const channel = channelOf(args);
      const content = contentOf(args);
      if (!hasContent(content)) fail('no_text');
      // Slack accepts any thread_ts; the parent need not be one this stand-in has seen.
      const message = postAsBot(channel, content, str(args.thread_ts), truthy(args.reply_broadcast));
      return { channel, ts: message.ts, message: { ...store.view(message), team: ws.teamId } };
    },
    'chat.update': (args) => {
      const channel = channelOf(args);
      const message = ownMessage(channel, str(args.ts), 'cant_update_message');
      const content = contentOf(args);
      if (!hasContent(content)) fail('no_text');
      store.edit(message, content, ws.botUserId);
      return { channel, ts: message.ts, text: message.text, message: { ...store.view(message), team: ws.teamId } };
    },
    'chat.delete': (args) => {
      const channel = channelOf(args);
      const message = ownMessage(channel, str(args.ts), 'cant_delete_message');
      store.delete(message);
      return { channel, ts: message.ts };
    },
    'chat.postEphemeral': (args) => {
      const channel = channelOf(args);
      const user = str(args.user) ?? fail('user_not_in_channel');
      const content = contentOf(args);
      if (!hasContent(content)) fail('no_text');
      const threadTs = str(args.thread_ts);
      const messageTs = postEphemeral(channel, user, content, threadTs);
      return { message_ts: messageTs };
    },
    'reactions.add': (args) => {
      const channel = channelOf(args);
      const name = str(args.name) ?? fail('invalid_name');
      const ts = str(args.timestamp);
      const message = (ts === undefined ? undefined : store.find(channel, ts)) ?? fail('message_not_found');
      const reaction = message.reactions.find((r) => r.name === name);
      if (reaction?.users.includes(ws.botUserId)) fail('already_reacted');
      if (reaction) reaction.users.push(ws.botUserId);
      else message.reactions.push({ name, users: [ws.botUserId] });
      return {};
    },
    'conversations.replies': (args) => {
      const channel = channelOf(args);
      const thread = store.thread(channel, str(args.ts) ?? fail('thread_not_found'));
      if (thread.length === 0) fail('thread_not_found');
      return { messages: thread.map((m) => store.view(m)), has_more: false, response_metadata: { next_cursor: '' } };
    },
    'conversations.history': (args) => {
      const messages = store.channel(channelOf(args)).reverse();
      return { messages: messages.map((m) => store.view(m)), has_more: false, pin_count: 0, response_metadata: { next_cursor: '' } };
    },
    'files.getUploadURLExternal': (args) => {
      const filename = str(args.filename) ?? fail('invalid_arguments');
      const length = Number(args.length);
      if (!Number.isInteger(length) || length < 0) fail('invalid_arguments');
      fileCounter += 1;
      const id = `F0STANDIN${String(fileCounter).padStart(4, '0')}`;
      store.files.set(id, { id, filename, declaredLength: length, completed: false, sharedTo: [] });
      return { upload_url: uploadUrl(id), file_id: id };
    },
    'files.completeUploadExternal': (args) => {
      const requested = Array.isArray(args.files) ? (args.files as { id?: unknown; title?: unknown }[]) : fail('invalid_arguments');
      // A file whose bytes never arrived cannot be completed (the stand-in's choice of error).
      const files = requested.map((f) => {
        const file = store.files.get(str(f.id) ?? '') ?? fail('file_not_found');
        return file.bytes === undefined ? fail('file_not_found') : { file, title: str(f.title) };
      });
      const channel = str(args.channel_id) ?? str(args.channels)?.split(',')[0];
      const threadTs = str(args.thread_ts);
      for (const { file, title } of files) {
        file.completed = true;
        file.title = title ?? file.title ?? file.filename;
        if (channel !== undefined) file.sharedTo.push({ channel, ...(threadTs !== undefined ? { threadTs } : {}) });
      }
      if (channel !== undefined) {
        const message = postAsBot(channel, { text: str(args.initial_comment) ?? '' }, threadTs);
        message.files = files.map(({ file }) => ({ id: file.id, name: file.filename, title: file.title ?? file.filename }));
      }
      return {
        files: files.map(({ file }) => ({
          id: file.id,
          name: file.filename,
          title: file.title,
          size: file.bytes?.length ?? 0,
          ...(channel ? { channels: [channel] } : {}),
        })),
      };
    },
  };

  function respond(target: ResponseTarget, args: Args): void {
    const content = contentOf(args);
    const original = target.messageTs === undefined ? undefined : store.find(target.channel, target.messageTs);
    if (truthy(args.delete_original) && original) store.delete(original);
    else if (truthy(args.replace_original) && original) store.edit(original, content, ws.botUserId);
    else if (args.response_type === 'in_channel') postAsBot(target.channel, content, str(args.thread_ts) ?? target.threadTs);
    else postEphemeral(target.channel, target.user, content, str(args.thread_ts) ?? target.threadTs);
  }

  return { methods, respond };
}

import { z } from 'zod';

// The fields of a mention or message event the front end takes, read with a schema rather than
// trusted: a signed envelope can still carry an event without `user`, with a numeric `text`, or
// with a `ts` that is not one. What was wrong is said in words a reply can carry.

const slackId = z.string().regex(/^[A-Z0-9]{2,40}$/, { error: 'is not a Slack id' });
const slackTs = z.string().regex(/^\d{1,12}\.\d{1,9}$/, { error: 'is not a Slack timestamp' });

const messageFields = z.object({
  user: slackId,
  channel: slackId,
  ts: slackTs,
  text: z.string().max(40_000, { error: 'is longer than Slack allows' }),
  thread_ts: slackTs.optional(),
});

export type SlackMessageFields = z.infer<typeof messageFields>;

const NAMES: Readonly<Record<string, string>> = { user: 'user', channel: 'channel', ts: 'ts', text: 'text', thread_ts: 'thread_ts' };

export type MessageFieldsResult = { readonly ok: true; readonly fields: SlackMessageFields } | { readonly ok: false; readonly problem: string };

/** The fields, or what is missing or malformed among them (`it has no user; ts is not a Slack timestamp`). */
export function readMessageFields(event: unknown): MessageFieldsResult {
  const parsed = messageFields.safeParse(event);
  if (parsed.success) return { ok: true, fields: parsed.data };
  const record = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const problems = parsed.error.issues.map((issue) => {
    const name = NAMES[String(issue.path[0])] ?? String(issue.path[0] ?? 'event');
    if (record[name] === undefined) return `it has no ${name}`;
    return issue.code === 'invalid_type' ? `${name} is not text` : `${name} ${issue.message}`;
  });
  return { ok: false, problem: [...new Set(problems)].join('; ') };
}

/** Where an answer about a malformed event can go: its channel and thread, when both are readable. */
export function replyPlaceOf(event: unknown): { channel: string; threadTs: string } | undefined {
  const record = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const channel = slackId.safeParse(record.channel);
  const threadTs = slackTs.safeParse(record.thread_ts ?? record.ts);
  return channel.success && threadTs.success ? { channel: channel.data, threadTs: threadTs.data } : undefined;
}

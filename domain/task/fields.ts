import { z } from 'zod';

// Value shapes shared by task commands and task events.

export const prioritySchema = z.enum(['high', 'normal', 'low']);
export type Priority = z.infer<typeof prioritySchema>;

const NATS_SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;

/** Where the result goes when the task ends. */
export const replyTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('slack'), channel: z.string().min(1).max(200), threadTs: z.string().min(1).max(64) }),
  z.object({ kind: z.literal('webhook'), url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }) }),
  z.object({ kind: z.literal('nats'), subject: z.string().max(500).regex(NATS_SUBJECT, 'must be a NATS subject without wildcards or white space') }),
]);
export type ReplyTarget = z.infer<typeof replyTargetSchema>;

export const taskErrorSchema = z.object({ code: z.string().min(1).max(200), message: z.string().max(10_000) });
export type TaskError = z.infer<typeof taskErrorSchema>;

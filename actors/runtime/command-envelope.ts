import { z } from 'zod';
import { isValidId } from '../../domain/streams.ts';

// What travels on `<prefix>.cmd.<category>.<id>`: validated here, at the boundary, before any
// aggregate sees it. The aggregate id comes from the subject; the time from the host's clock.

const token = z.string().min(1).max(200).refine(isValidId, 'must contain no ".", "*", ">" or white space');

export const commandEnvelopeSchema = z.object({
  /** Callers retry with the same id after a timeout; the host answers with the original outcome. */
  commandId: token,
  type: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'must be a PascalCase command name'),
  data: z.record(z.string(), z.unknown()).default({}),
  /** Who sends it: a Slack user id, `system`, or a component name. */
  actor: z.string().min(1).max(200),
  /** The policy rule under which the front door let the actor do this; recorded on the events. */
  authorization: z.string().min(1).max(200).optional(),
  correlationId: token.optional(),
  causationId: token.optional(),
});

export type CommandEnvelope = z.infer<typeof commandEnvelopeSchema>;

/** A host's answer; `Code` narrows a rejection's code to what the command's category can refuse with. */
export type CommandReply<Code extends string = string> =
  | { readonly status: 'accepted'; readonly revision: string | null; readonly events: number }
  | { readonly status: 'rejected'; readonly code: Code; readonly message: string }
  | { readonly status: 'invalid'; readonly errors: readonly string[] }
  | { readonly status: 'failed'; readonly code: string; readonly message: string };

export const describeIssues = (error: z.ZodError): string[] =>
  error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'command'}: ${issue.message}`);

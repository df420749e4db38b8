import { parse as parseForm } from 'node:querystring';
import { z } from 'zod';

// What a signed request to /slack/events must look like before Bolt sees it. Bolt 5 reads
// `body.ssl_check` of whatever JSON arrives, so `null` threw inside its receiver (an unhandled
// rejection that ended the process); arrays, numbers and envelopes without their fields reached
// listeners half-formed. Each refusal has a short name the 400 answer and the log line carry.

export interface BodyRefusal {
  readonly code:
    | 'BodyNotJson'
    | 'BodyNotAnObject'
    | 'UnknownRequestType'
    | 'InvalidEventEnvelope'
    | 'InvalidUrlVerification'
    | 'InvalidPayload'
    | 'InvalidInteraction'
    | 'InvalidSlashCommand'
    | 'UnknownFormBody';
  readonly message: string;
}

const text = z.string().min(1);

const eventEnvelope = z.object({
  type: z.literal('event_callback'),
  team_id: text,
  api_app_id: text,
  event_id: text,
  event_time: z.number(),
  event: z.looseObject({ type: text }),
  authorizations: z.array(z.looseObject({})).optional(),
});

const urlVerification = z.object({ type: z.literal('url_verification'), challenge: text });

const interaction = z.looseObject({
  type: text,
  user: z.looseObject({ id: text }),
  // block_actions carry the pressed elements; other interactions (views, shortcuts) carry none.
  actions: z.array(z.looseObject({ action_id: text })).optional(),
});

const slashCommand = z.object({ command: z.string().regex(/^\/\S+$/), user_id: text, channel_id: text, text: z.string().optional() });

const issues = (error: z.ZodError): string => error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const kindOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

/** Slack's JSON bodies: Events API envelopes, url_verification, and app_rate_limited notices. */
function checkJsonBody(raw: string): BodyRefusal | undefined {
  const parsed = parseJson(raw);
  if (!parsed.ok) return { code: 'BodyNotJson', message: 'the body is neither JSON nor a form' };
  const body = parsed.value;
  if (!isObject(body)) return { code: 'BodyNotAnObject', message: `the body is ${kindOf(body)}, not a JSON object` };
  if (body.type === 'event_callback') {
    const envelope = eventEnvelope.safeParse(body);
    return envelope.success ? undefined : { code: 'InvalidEventEnvelope', message: `the event envelope is incomplete: ${issues(envelope.error)}` };
  }
  if (body.type === 'url_verification') {
    const check = urlVerification.safeParse(body);
    return check.success ? undefined : { code: 'InvalidUrlVerification', message: `url_verification needs a challenge: ${issues(check.error)}` };
  }
  if (body.type === 'app_rate_limited') return undefined;
  return { code: 'UnknownRequestType', message: `type ${JSON.stringify(body.type ?? null).slice(0, 60)} is not one Slack sends as JSON` };
}

/** Slack's form bodies: interactivity as `payload=<JSON>`, slash commands as fields. */
function checkFormBody(raw: string): BodyRefusal | undefined {
  const form = parseForm(raw);
  if (form.ssl_check === '1') return undefined;
  if (form.payload !== undefined) {
    if (typeof form.payload !== 'string') return { code: 'InvalidPayload', message: 'payload is given more than once' };
    const parsed = parseJson(form.payload);
    if (!parsed.ok) return { code: 'InvalidPayload', message: 'payload is not JSON' };
    if (!isObject(parsed.value)) return { code: 'InvalidPayload', message: `payload is ${kindOf(parsed.value)}, not a JSON object` };
    const check = interaction.safeParse(parsed.value);
    return check.success ? undefined : { code: 'InvalidInteraction', message: `the interaction payload is incomplete: ${issues(check.error)}` };
  }
  if (form.command !== undefined) {
    const check = slashCommand.safeParse(form);
    return check.success ? undefined : { code: 'InvalidSlashCommand', message: `the slash command is incomplete: ${issues(check.error)}` };
  }
  return { code: 'UnknownFormBody', message: 'a form body needs payload (interactivity) or command (slash command)' };
}

/** Bolt tells forms from JSON by this exact content type; anything else it parses as JSON. */
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** Why Slack would never send this body, or undefined when Bolt may take it. */
export const checkSlackBody = (raw: string, contentType: string | undefined): BodyRefusal | undefined =>
  contentType === FORM_CONTENT_TYPE ? checkFormBody(raw) : checkJsonBody(raw);

/** An unsigned `ssl_check=1` form is Slack's probe; Bolt answers it without a signature. */
export const isSslCheck = (raw: string, contentType: string | undefined): boolean => contentType === FORM_CONTENT_TYPE && parseForm(raw).ssl_check === '1';

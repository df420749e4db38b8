import type { ReplyAction, ReplyCode, ReplyDocument, ReplyField, ReplyTone } from '../../domain/replies/reply-document.ts';
import { toPlainText } from '../../domain/replies/plain-text.ts';
import { breakFences, clipEscaped, clipPlain, escapeMrkdwn, takeLines } from './mrkdwn.ts';

// A reply document as a Slack message: header, summary, fields, sections, code, buttons and a
// context footer, inside Block Kit's documented limits. What does not fit is cut with a
// visible notice and the whole document comes back as `overflow`, plain text for the caller
// to upload into the thread, so nothing the task produced is lost to a limit.

/** Block Kit's documented limits (https://api.slack.com/reference/block-kit). */
export const BLOCK_KIT_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  headerText: 150,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  /** A text object's limit, which bounds a context element. */
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  actionId: 255,
  buttonValue: 2000,
  /** The top-level `text` (notifications, clients without blocks); Slack allows more, we keep it short. */
  fallbackText: 3000,
} as const;

/** Not a Slack limit: past this many lines a section is hard to read in a chat; the file has the rest. */
export const LINES_SHOWN_PER_SECTION = 25;
export const TRUNCATION_NOTICE = '… (truncated, full output attached)';

export interface PlainTextObject {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}
export interface MrkdwnObject {
  readonly type: 'mrkdwn';
  readonly text: string;
}
export interface ButtonElement {
  readonly type: 'button';
  readonly action_id: string;
  readonly text: PlainTextObject;
  readonly value?: string;
  readonly style?: 'primary' | 'danger';
}
export type Block =
  | { readonly type: 'header'; readonly text: PlainTextObject }
  | { readonly type: 'section'; readonly text?: MrkdwnObject; readonly fields?: readonly MrkdwnObject[] }
  | { readonly type: 'context'; readonly elements: readonly MrkdwnObject[] }
  | { readonly type: 'actions'; readonly elements: readonly ButtonElement[] };

export interface BlockKitMessage {
  readonly text: string;
  readonly blocks: Block[];
  /** Set when something was cut: the whole document, to attach as a file. */
  readonly overflow?: { readonly filename: string; readonly content: string };
}

const EMOJI: Record<ReplyTone, string> = {
  success: ':white_check_mark:',
  failure: ':x:',
  warning: ':warning:',
  info: ':information_source:',
  progress: ':hourglass_flowing_sand:',
};

/** Headings and labels are names, not content: kept short so the content gets the room. */
const MAX_HEADING = 200;

const mrkdwn = (text: string): MrkdwnObject => ({ type: 'mrkdwn', text });
const section = (text: string): Block => ({ type: 'section', text: mrkdwn(text) });
const heading = (text: string) => `*${clipEscaped(text, MAX_HEADING).text}*`;

/** Blocks rendered so far, and whether anything had to be cut to fit. */
interface Rendered<T> {
  readonly value: T;
  readonly cut: boolean;
}

function linesBlock(title: string | undefined, lines: readonly string[]): Rendered<Block> | undefined {
  if (!title && lines.every((line) => line.trim() === '')) return undefined;
  const prefix = title ? heading(title) + (lines.length > 0 ? '\n' : '') : '';
  const whole = prefix + lines.map(escapeMrkdwn).join('\n');
  const limit = BLOCK_KIT_LIMITS.sectionText;
  if (lines.length <= LINES_SHOWN_PER_SECTION && whole.length <= limit) return { value: section(whole), cut: false };
  const room = limit - prefix.length - 1 - TRUNCATION_NOTICE.length;
  const shown = takeLines(lines, room, LINES_SHOWN_PER_SECTION).text;
  return { value: section(`${prefix}${shown}${shown ? '\n' : ''}${TRUNCATION_NOTICE}`), cut: true };
}

function fieldBlocks(fields: readonly ReplyField[]): Rendered<Block[]> {
  let cut = false;
  const texts = fields.map(({ label, value }) => {
    const head = label ? `${heading(label)}\n` : '';
    const body = clipEscaped(value === '' ? '—' : value, BLOCK_KIT_LIMITS.fieldText - head.length);
    cut ||= body.cut;
    return mrkdwn(head + body.text);
  });
  const blocks: Block[] = [];
  for (let i = 0; i < texts.length; i += BLOCK_KIT_LIMITS.sectionFields) {
    blocks.push({ type: 'section', fields: texts.slice(i, i + BLOCK_KIT_LIMITS.sectionFields) });
  }
  return { value: blocks, cut };
}

function codeBlock(code: ReplyCode): Rendered<Block> | undefined {
  const lines = breakFences(code.text.replace(/\n+$/, '')).split('\n');
  if (lines.every((line) => line.trim() === '')) return undefined;
  const prefix = code.title ? `${heading(code.title)}\n` : '';
  const open = '```\n';
  const close = '\n```';
  const whole = prefix + open + lines.map(escapeMrkdwn).join('\n') + close;
  const limit = BLOCK_KIT_LIMITS.sectionText;
  if (whole.length <= limit) return { value: section(whole), cut: false };
  const keep = code.keep ?? 'start';
  const room = limit - prefix.length - open.length - close.length - 1 - TRUNCATION_NOTICE.length;
  const shown = takeLines(lines, room, Number.POSITIVE_INFINITY, keep).text;
  // The notice goes on the side that was cut: before an output's tail, after a head.
  const text = keep === 'end' ? `${prefix}${TRUNCATION_NOTICE}\n${open}${shown}${close}` : `${prefix}${open}${shown}${close}\n${TRUNCATION_NOTICE}`;
  return { value: section(text), cut: true };
}

function contextBlock(text: string): Rendered<Block> {
  const clipped = clipEscaped(text, BLOCK_KIT_LIMITS.contextText);
  return { value: { type: 'context', elements: [mrkdwn(clipped.text)] }, cut: clipped.cut };
}

/** Buttons that cannot be sent as they are (an id or value over the limit) are left out, not altered: a cut value would act on the wrong thing. */
function actionsBlock(actions: readonly ReplyAction[]): Block | undefined {
  const elements = actions
    .filter((a) => a.actionId.length > 0 && a.actionId.length <= BLOCK_KIT_LIMITS.actionId && a.value.length <= BLOCK_KIT_LIMITS.buttonValue)
    .slice(0, BLOCK_KIT_LIMITS.actionsElements)
    .map((a): ButtonElement => ({
      type: 'button',
      action_id: a.actionId,
      text: { type: 'plain_text', text: clipPlain(a.label, BLOCK_KIT_LIMITS.buttonText) || a.actionId.slice(0, BLOCK_KIT_LIMITS.buttonText), emoji: true },
      ...(a.value ? { value: a.value } : {}),
      ...(a.style ? { style: a.style } : {}),
    }));
  return elements.length > 0 ? { type: 'actions', elements } : undefined;
}

const isSlackUserId = (id: string): boolean => /^[UW][A-Z0-9]{2,30}$/.test(id);

/** "Marked as done by <@U123>": the user as a mention when it is a Slack user id, else as escaped text. */
const bylineText = ({ text, user }: { readonly text: string; readonly user: string }): string =>
  `${clipEscaped(text, MAX_HEADING).text} ${isSlackUserId(user) ? `<@${user}>` : clipEscaped(user, MAX_HEADING).text}`;

const slug = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '') || 'reply';

export function toBlockKit(doc: ReplyDocument): BlockKitMessage {
  let cut = false;
  const take = <T>(rendered: Rendered<T> | undefined): T | undefined => {
    cut ||= rendered?.cut ?? false;
    return rendered?.value;
  };

  const header: Block = {
    type: 'header',
    text: { type: 'plain_text', text: clipPlain(`${EMOJI[doc.tone]} ${doc.title}`, BLOCK_KIT_LIMITS.headerText), emoji: true },
  };
  const summary = doc.summary !== undefined ? take(linesBlock(undefined, doc.summary.split('\n'))) : undefined;
  // Mentions are the one place raw mrkdwn is written: only user ids of the Slack form get through.
  const mentioned = (doc.mentions ?? []).filter(isSlackUserId);
  const mentions: Block[] = mentioned.length > 0 ? [{ type: 'section', text: { type: 'mrkdwn', text: mentioned.map((id) => `<@${id}>`).join(' ') } }] : [];
  const byline: Block[] = doc.byline ? [section(bylineText(doc.byline))] : [];
  const lead = [header, ...(summary ? [summary] : []), ...byline, ...mentions];

  const middle: Block[] = [
    ...(take(fieldBlocks(doc.fields ?? [])) ?? []),
    ...(doc.sections ?? []).flatMap((s) => {
      const block = take(linesBlock(s.heading, s.lines));
      return block ? [block] : [];
    }),
  ];

  const code = doc.code ? take(codeBlock(doc.code)) : undefined;
  const actions = actionsBlock(doc.actions ?? []);
  const footer = doc.footer?.trim() ? take(contextBlock(doc.footer)) : undefined;
  const trail = [code, actions, footer].filter((block): block is Block => block !== undefined);

  const room = BLOCK_KIT_LIMITS.blocksPerMessage - lead.length - trail.length;
  let shown = middle;
  if (middle.length > room) {
    shown = middle.slice(0, room - 1);
    shown.push(section(`${TRUNCATION_NOTICE}: ${middle.length - shown.length} more sections not shown`));
    cut = true;
  }

  const fallback = [doc.title, doc.summary, doc.byline ? `${doc.byline.text} ${doc.byline.user}` : undefined].filter(Boolean).join(' — ');
  return {
    text: clipEscaped(fallback, BLOCK_KIT_LIMITS.fallbackText).text,
    blocks: [...lead, ...shown, ...trail],
    ...(cut ? { overflow: { filename: `${slug(doc.title)}.txt`, content: `${toPlainText(doc)}\n` } } : {}),
  };
}

import type { ReplyDocument, ReplyTone } from './reply-document.ts';

// A reply document as plain text for a terminal (and for the file attached when a Slack reply
// is cut short): no colours, no markup, everything in full. Actions are left out: they are
// buttons for the Slack message, and no command here takes them, so a hint would promise
// something the terminal cannot do.

const MARKERS: Record<ReplyTone, string> = {
  success: '[OK]',
  failure: '[FAILED]',
  warning: '[WARNING]',
  info: '[INFO]',
  progress: '[IN PROGRESS]',
};

/** Labels longer than this are not padded to: one long label should not push every value right. */
const MAX_LABEL_COLUMN = 20;

const indent = (text: string, prefix: string) =>
  text
    .split('\n')
    .map((line) => (line === '' ? line : prefix + line))
    .join('\n');

function fieldsText(fields: NonNullable<ReplyDocument['fields']>): string {
  const column = Math.min(MAX_LABEL_COLUMN, Math.max(...fields.map((f) => f.label.length + 1)));
  return fields
    .map(({ label, value }) => {
      const head = `${label}:`.padEnd(column);
      const [first = '', ...rest] = value.split('\n');
      return [`${head} ${first}`.trimEnd(), ...rest.map((line) => ' '.repeat(column + 1) + line)].join('\n');
    })
    .join('\n');
}

export function toPlainText(doc: ReplyDocument): string {
  const parts: string[] = [];
  const byline = doc.byline ? `${doc.byline.text} ${doc.byline.user}` : undefined;
  parts.push([`${MARKERS[doc.tone]} ${doc.title}`, doc.summary, byline].filter((line) => line !== undefined && line !== '').join('\n'));
  if (doc.mentions && doc.mentions.length > 0) parts.push(doc.mentions.map((id) => `@${id}`).join(' '));
  if (doc.fields && doc.fields.length > 0) parts.push(fieldsText(doc.fields));
  for (const section of doc.sections ?? []) {
    if (!section.heading && section.lines.length === 0) continue;
    parts.push(section.heading ? [section.heading, ...section.lines.map((line) => indent(line, '  '))].join('\n') : section.lines.join('\n'));
  }
  if (doc.code && doc.code.text !== '') {
    const body = indent(doc.code.text.replace(/\n+$/, ''), '    ');
    parts.push(doc.code.title ? `${doc.code.title}\n${body}` : body);
  }
  if (doc.footer) parts.push(doc.footer);
  return parts.join('\n\n');
}

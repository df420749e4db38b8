// Fitting plain text into Slack mrkdwn: escape the three characters Slack treats as markup
// (`&`, `<`, `>`: a stray `<!channel>` in a commit subject must not ping anyone), and cut
// to a length measured after escaping, never inside an entity or a surrogate pair.

export const escapeMrkdwn = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A run of three backticks inside a code block would end it early; a zero-width space breaks the run. */
export const breakFences = (text: string): string => text.replace(/```/g, '``\u200b`');

const ELLIPSIS = '…';

/** `text` escaped, cut (with "…") so the escaped form is at most `max` characters. */
export function clipEscaped(text: string, max: number, keep: 'start' | 'end' = 'start'): { text: string; cut: boolean } {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return { text: escaped, cut: false };
  const chars = Array.from(text);
  if (keep === 'end') chars.reverse();
  const pieces: string[] = [];
  let length = ELLIPSIS.length;
  for (const char of chars) {
    const piece = escapeMrkdwn(char);
    if (length + piece.length > max) break;
    pieces.push(piece);
    length += piece.length;
  }
  if (keep === 'end') return { text: ELLIPSIS + pieces.reverse().join(''), cut: true };
  return { text: pieces.join('') + ELLIPSIS, cut: true };
}

/** Plain text (header, button label) cut to `max` characters with "…"; whitespace runs become one space. */
export function clipPlain(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  let out = '';
  for (const char of Array.from(line)) {
    if (out.length + char.length + ELLIPSIS.length > max) break;
    out += char;
  }
  return out + ELLIPSIS;
}

/**
 * As many whole lines (escaped, joined by "\n") as fit in `room` characters and `maxLines`
 * lines, from the start or the end; a first line too long for the room on its own is clipped.
 */
export function takeLines(lines: readonly string[], room: number, maxLines: number, keep: 'start' | 'end' = 'start'): { text: string; cut: boolean } {
  const order = keep === 'end' ? [...lines].reverse() : lines;
  const taken: string[] = [];
  let length = 0;
  let clipped = false;
  for (const line of order) {
    if (taken.length >= maxLines) break;
    const separator = taken.length === 0 ? 0 : 1;
    const escaped = escapeMrkdwn(line);
    if (length + separator + escaped.length > room) {
      if (taken.length === 0 && room > ELLIPSIS.length) {
        taken.push(clipEscaped(line, room, keep).text);
        clipped = true;
      }
      break;
    }
    taken.push(escaped);
    length += separator + escaped.length;
  }
  const cut = clipped || taken.length < lines.length;
  if (keep === 'end') taken.reverse();
  return { text: taken.join('\n'), cut };
}

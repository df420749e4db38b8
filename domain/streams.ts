// Stream names follow EventStoreDB's `category-id` convention. Ids become NATS subject
// tokens, so they may not contain `.`, `*`, `>` or white space; categories may not
// contain `-` because EventStoreDB takes the category from before the first `-`.

export type StreamName = string & { readonly __brand: 'StreamName' };

const CATEGORY = /^[A-Za-z][A-Za-z0-9_]*$/;
const ID = /^[^\s.*>]+$/;

/** Any text as an id token: what ids may not hold (white space, `.`, `*`, `>`) becomes `_`. */
export const toIdToken = (value: string): string => value.replace(/[\s.*>]/g, '_');

export class InvalidStreamName extends Error {
  override readonly name = 'InvalidStreamName';
  constructor(
    readonly value: string,
    readonly reason: string,
  ) {
    super(`invalid stream name "${value}": ${reason}`);
  }
}

export const isValidCategory = (category: string): boolean => CATEGORY.test(category);
export const isValidId = (id: string): boolean => id.length > 0 && id.length <= 200 && ID.test(id);

export function streamName(category: string, id: string): StreamName {
  const name = `${category}-${id}`;
  if (!isValidCategory(category)) throw new InvalidStreamName(name, 'category must be letters, digits or _ and start with a letter');
  if (!isValidId(id)) throw new InvalidStreamName(name, 'id must be 1-200 characters with no ".", "*", ">" or white space');
  return name as StreamName;
}

export function parseStreamName(name: string): { category: string; id: string; stream: StreamName } {
  const dash = name.indexOf('-');
  if (dash <= 0) throw new InvalidStreamName(name, 'expected "<category>-<id>"');
  const category = name.slice(0, dash);
  const id = name.slice(dash + 1);
  return { category, id, stream: streamName(category, id) };
}

import { marker, SECRET_SHAPES } from './secret-shapes.ts';

// SE4: the one scrubber. Every place where outside text enters the product (executor output,
// model answers) or leaves it (logs, Slack, webhooks, public events) runs text through it:
// (a) every secret value the product knows (its configuration, what it passes to executors),
// replaced by `[redacted]`, longest first so a secret containing another is hidden whole, and
// in its JSON-escaped form too, for text that is JSON; (b) well-known credential shapes
// (secret-shapes.ts), each behind a named marker.

/** What a known secret value becomes. */
export const REDACTED_SECRET = '[redacted]';

/** Values shorter than this are not treated as secrets: hiding them would hide ordinary words. */
export const MIN_SECRET_LENGTH = 4;

export type Scrub = (text: string) => string;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Known values and their JSON-escaped forms, longest first, as one alternation. */
function knownValuesPattern(knownValues: readonly string[]): RegExp | undefined {
  const values = new Set<string>();
  for (const value of knownValues) {
    if (typeof value !== 'string' || value.trim().length < MIN_SECRET_LENGTH) continue;
    values.add(value);
    values.add(JSON.stringify(value).slice(1, -1));
  }
  if (values.size === 0) return undefined;
  // An alternation takes the first alternative that matches, so longer ones go first.
  const sorted = [...values].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
}

const replaceShapes = (text: string): string => {
  let out = text;
  for (const shape of SECRET_SHAPES) {
    shape.pattern.lastIndex = 0;
    out = out.replace(shape.pattern, (...args: unknown[]) => {
      const groups = args.at(-1) as Record<string, string | undefined> | undefined;
      return `${(typeof groups === 'object' && groups?.keep) || ''}${marker(shape.name)}`;
    });
  }
  return out;
};

/** A scrubber for one list of known values, compiled once: for hot paths (the logger, a worker). */
export function secretScrubber(knownValues: readonly string[] = []): Scrub {
  const known = knownValuesPattern(knownValues);
  return (text) => replaceShapes(known ? text.replace(known, REDACTED_SECRET) : text);
}

const KEY_BEGIN_OPEN = /-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----(?![\s\S]*-----END[A-Z0-9 ]*PRIVATE KEY)/;
const KEY_END = /-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/;

/**
 * For text that arrives one line at a time (a child's output): a private key block spans lines,
 * so after a BEGIN line every line up to its END line is hidden too. One per stream: it keeps state.
 */
export function lineScrubber(scrub: Scrub): Scrub {
  let inKey = false;
  return (line) => {
    if (inKey) {
      const end = KEY_END.exec(line);
      if (!end) return marker('private-key');
      inKey = false;
      return scrub(`${marker('private-key')}${line.slice(end.index + end[0].length)}`);
    }
    inKey = KEY_BEGIN_OPEN.test(line);
    return scrub(line);
  };
}

// Compiled scrubbers by list, so callers that hand the same list every time compile it once.
const compiled = new WeakMap<readonly string[], Scrub>();
const NO_VALUES: readonly string[] = [];

const scrubberFor = (knownValues: readonly string[]): Scrub => {
  let scrub = compiled.get(knownValues);
  if (!scrub) {
    scrub = secretScrubber(knownValues);
    compiled.set(knownValues, scrub);
  }
  return scrub;
};

/** `text` with every known secret value and every well-known credential shape hidden. */
export const scrubSecrets = (text: string, knownValues: readonly string[] = NO_VALUES): string => scrubberFor(knownValues)(text);

/**
 * A JSON value with every string in it scrubbed (inside objects and arrays, at any depth); keys,
 * numbers, booleans and null are left as they are. Objects that are not plain (dates, buffers)
 * are returned as they are. Returns the same reference when nothing changed.
 */
export function scrubSecretsIn<T>(value: T, knownValues: readonly string[] = NO_VALUES): T {
  return scrubWith(value, scrubberFor(knownValues), new WeakSet()) as T;
}

/** `scrubSecretsIn` with a compiled scrubber. */
export const scrubValueWith = <T>(value: T, scrub: Scrub): T => scrubWith(value, scrub, new WeakSet()) as T;

function scrubWith(value: unknown, scrub: Scrub, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrub(value);
  if (typeof value !== 'object' || value === null || seen.has(value)) return value;
  if (Array.isArray(value)) {
    seen.add(value);
    let changed = false;
    const out = value.map((item: unknown) => {
      const scrubbed = scrubWith(item, scrub, seen);
      changed ||= scrubbed !== item;
      return scrubbed;
    });
    return changed ? out : value;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;
  seen.add(value);
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const scrubbed = scrubWith(item, scrub, seen);
    changed ||= scrubbed !== item;
    out[key] = scrubbed;
  }
  return changed ? out : value;
}

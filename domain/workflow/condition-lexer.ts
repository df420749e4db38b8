import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import { invalidCondition, type InvalidCondition } from './condition-syntax.ts';

// Splits a condition into tokens, each with the offset it starts at so errors can point there.

export type Token =
  | { readonly kind: 'number'; readonly value: number; readonly position: number }
  | { readonly kind: 'string'; readonly value: string; readonly position: number }
  | { readonly kind: 'name'; readonly value: string; readonly position: number }
  | { readonly kind: 'symbol'; readonly value: string; readonly position: number }
  | { readonly kind: 'end'; readonly position: number };

// Longest first, so `<=` is not read as `<` then `=`.
const SYMBOLS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '[', ']', '.', ','] as const;
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/;
const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*(?:-[A-Za-z0-9_$]+)*/;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "'": "'", '\\': '\\', n: '\n', t: '\t', r: '\r' };

export function tokenize(source: string): Either<InvalidCondition, readonly Token[]> {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    const rest = source.slice(i);
    const number = NUMBER.exec(rest);
    if (number) {
      tokens.push({ kind: 'number', value: Number(number[0]), position: i });
      i += number[0].length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      tokens.push({ kind: 'name', value: name[0], position: i });
      i += name[0].length;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const read = readString(source, i);
      if (isLeft(read)) return read;
      tokens.push({ kind: 'string', value: read.right.value, position: i });
      i = read.right.next;
      continue;
    }
    const symbol = SYMBOLS.find((s) => rest.startsWith(s));
    if (!symbol) return left(invalidCondition(source, i, `unexpected character ${JSON.stringify(ch)}`));
    tokens.push({ kind: 'symbol', value: symbol, position: i });
    i += symbol.length;
  }
  tokens.push({ kind: 'end', position: source.length });
  return right(tokens);
}

function readString(source: string, start: number): Either<InvalidCondition, { value: string; next: number }> {
  const quote = source[start];
  let value = '';
  let i = start + 1;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === quote) return right({ value, next: i + 1 });
    if (ch === '\\') {
      const escaped = ESCAPES[source[i + 1] ?? ''];
      if (escaped === undefined) return left(invalidCondition(source, i, 'unknown escape in string'));
      value += escaped;
      i += 2;
      continue;
    }
    value += ch;
    i += 1;
  }
  return left(invalidCondition(source, start, 'string is not closed'));
}

// Template parameters (WF2) are written into a definition as `{{name}}`. A string that is exactly
// one placeholder takes the value as it is (a list stays a list); a placeholder inside other
// text is replaced by the value as text (a list joined with ", "); a list item that is exactly
// one placeholder of a list parameter is replaced by that list's items.

export type ParameterValue = string | readonly string[];
export type ParameterValues = Readonly<Record<string, ParameterValue>>;

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}$/;

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** Names of the placeholders in any string inside `value`, each once, in order of appearance. */
export function findPlaceholders(value: unknown): string[] {
  const names = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === 'string') for (const match of v.matchAll(PLACEHOLDER)) names.add(match[1]!);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(visit);
  };
  visit(value);
  return [...names];
}

/** `value` with every placeholder whose name is in `values` filled; others are left as written. */
export function fillPlaceholders<T extends Json>(value: T, values: ParameterValues): T {
  return fill(value, values) as T;
}

function fill(value: Json, values: ParameterValues): Json {
  if (typeof value === 'string') return fillString(value, values);
  if (Array.isArray(value)) return (value as readonly Json[]).flatMap((item) => fillItem(item, values));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item, values)]));
  return value;
}

function fillString(text: string, values: ParameterValues): Json {
  const whole = WHOLE.exec(text);
  const wholeValue = whole ? values[whole[1]!] : undefined;
  if (wholeValue !== undefined) return wholeValue;
  return text.replace(PLACEHOLDER, (written, name: string) => {
    const v = values[name];
    return v === undefined ? written : typeof v === 'string' ? v : v.join(', ');
  });
}

function fillItem(item: Json, values: ParameterValues): Json[] {
  const whole = typeof item === 'string' ? WHOLE.exec(item) : null;
  const v = whole ? values[whole[1]!] : undefined;
  return Array.isArray(v) ? [...(v as readonly string[])] : [fill(item, values)];
}

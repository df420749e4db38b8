// How deeply a parsed JSON value nests, counted without recursion (a 100,000-deep body must not
// overflow the stack of whoever measures it), stopping as soon as it passes `limit`.

/** The deepest a command body may nest; far beyond any real definition or payload. */
export const MAX_JSON_DEPTH = 128;

export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: { readonly value: unknown; readonly depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: next, depth } = pending.pop()!;
    if (typeof next !== 'object' || next === null) continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(next) ? next : Object.values(next)) pending.push({ value: child, depth: depth + 1 });
  }
  return false;
}

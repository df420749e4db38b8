// Planner output must not reach outside the workspace (TW8). Any string parameter may end up
// as a path (a repository, a folder, a file to deploy), and a parameter name is no promise of
// how an executor uses it, so every string is read as a possible path. This only keeps
// obvious escapes out of a plan; executors still resolve paths against the workspace root.
//
// domain/intent/repository-name.ts holds repository names to a stricter alphabet with
// chat-specific messages; plan parameters also carry free text (messages, branch names), so
// only the escape rule is shared, not that function.

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Absolute (`/x`, `\x`, `~/x`, `C:\x`, `file://…`) or climbing with a `..` segment. */
export function escapesWorkspace(value: string): boolean {
  const v = value.trim();
  if (/^file:/i.test(v)) return true;
  if (URL_SCHEME.test(v)) return false;
  if (v.startsWith('/') || v.startsWith('\\') || v.startsWith('~') || /^[A-Za-z]:[\\/]/.test(v)) return true;
  return v.split(/[\\/]/).some((segment) => segment.trim() === '..');
}

/** Every string inside a parameter value, with its path (`files.2`, `options.dir`). */
export function stringsIn(value: unknown, path: string): { path: string; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsIn(item, `${path}.${i}`));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => stringsIn(item, `${path}.${key}`));
  return [];
}

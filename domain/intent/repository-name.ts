import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { invalidRepositoryName, repositoryOutsideWorkspace, type Capability, type NotUnderstood } from './intent.ts';

// A repository is named by its relative path under the workspace. Names come from chat, so
// they are held to a plain alphabet before they become a task parameter; the executor still
// resolves symlinks against the workspace root (TW8), this only keeps obvious escapes and
// option-like names out of the task log.

export const MAX_REPOSITORY_NAME_LENGTH = 1024;

const ALLOWED = /^[A-Za-z0-9_./-]+$/;

/**
 * The name in canonical form (`./a//b/` → `a/b`), or why it is refused for a task of
 * `taskType` (the refusal lists `capabilities`, what chat can ask for).
 */
export function checkRepositoryName(taskType: string, name: string, capabilities: readonly Capability[]): Either<NotUnderstood, string> {
  const invalid = (reason: string) => left(invalidRepositoryName(taskType, name, reason, capabilities));
  if (name.length > MAX_REPOSITORY_NAME_LENGTH) return invalid(`longer than ${MAX_REPOSITORY_NAME_LENGTH} characters`);
  if (!ALLOWED.test(name)) return invalid('only letters, digits and "-", "_", ".", "/" are allowed');
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (name.startsWith('/') || segments.includes('..')) return left(repositoryOutsideWorkspace(taskType, name, capabilities));
  if (segments.length === 0) return invalid('it names the workspace itself, not a repository in it');
  if (segments.some((s) => s.includes('..'))) return invalid('it contains ".."');
  // git and the tools behind the executors would read a leading "-" as an option.
  if (segments.some((s) => s.startsWith('-'))) return invalid('a path part starts with "-"');
  return right(segments.join('/'));
}

// Folders a repository walk never enters: dependencies, build output, caches, tool state.
export const SKIPPED_FOLDERS: ReadonlySet<string> = new Set([
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  'dist',
  'build',
  'out',
  'coverage',
  'target',
  'vendor',
  '.next',
  '.nuxt',
  '.turbo',
  '.cache',
  '__pycache__',
  '.venv',
  'venv',
  '.tox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.gradle',
  '.idea',
  '.sfdx',
]);

/** Files larger than this are not read: generated or binary, never what a person wrote. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

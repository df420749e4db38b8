import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { eventSchemaFiles } from '../../domain/events/json-schemas.ts';

// Reads and writes the committed JSON Schema files of the public events. Files of older
// versions are left alone: consumers of those versions still rely on them.

export const EVENT_SCHEMA_DIR = path.resolve(import.meta.dirname, '../../schemas/events');

export interface SchemaFileProblem {
  readonly fileName: string;
  readonly problem: 'missing' | 'stale';
}

/** Current-version files that are missing or differ from what the catalog generates. */
export async function checkSchemaFiles(dir = EVENT_SCHEMA_DIR): Promise<SchemaFileProblem[]> {
  const problems: SchemaFileProblem[] = [];
  for (const file of eventSchemaFiles()) {
    const committed = await readFile(path.join(dir, file.fileName), 'utf8').catch(() => undefined);
    if (committed === undefined) problems.push({ fileName: file.fileName, problem: 'missing' });
    else if (committed !== file.content) problems.push({ fileName: file.fileName, problem: 'stale' });
  }
  return problems;
}

/** Writes every current-version file whose content changed; returns the names written. */
export async function writeSchemaFiles(dir = EVENT_SCHEMA_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const file of eventSchemaFiles()) {
    const target = path.join(dir, file.fileName);
    if ((await readFile(target, 'utf8').catch(() => undefined)) === file.content) continue;
    await writeFile(target, file.content);
    written.push(file.fileName);
  }
  return written;
}

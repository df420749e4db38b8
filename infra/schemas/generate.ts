import path from 'node:path';
import { checkSchemaFiles, EVENT_SCHEMA_DIR, writeSchemaFiles } from './schema-files.ts';

// `npm run schemas`: regenerate schemas/events/*.json from the event catalog.
// `npm run schemas -- --check`: exit 1 when a committed file is missing or stale.

const relative = path.relative(process.cwd(), EVENT_SCHEMA_DIR) || '.';
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--check');
if (unknown.length > 0) {
  console.error(`schemas: unknown argument ${unknown.join(' ')}; usage: npm run schemas [-- --check]`);
  process.exit(2);
}

if (args.includes('--check')) {
  const problems = await checkSchemaFiles();
  if (problems.length > 0) {
    for (const p of problems) console.error(`${p.problem}: ${path.join(relative, p.fileName)}`);
    console.error('Event schemas are out of date: run "npm run schemas" and commit the result. If a released version changed, bump its version in domain/events/catalog.ts instead.');
    process.exit(1);
  }
  console.log(`event schemas in ${relative} are up to date`);
} else {
  const written = await writeSchemaFiles();
  for (const name of written) console.log(`wrote ${path.join(relative, name)}`);
  console.log(written.length === 0 ? `event schemas in ${relative} were already up to date` : `${written.length} schema file(s) written`);
}

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// The committed JSON Schema files of the public events, loaded the way an outside consumer
// would: by file, with no help from the zod schemas they were generated from.

export const SCHEMA_DIR = path.resolve(import.meta.dirname, '../../schemas/events');

// ajv-formats is CommonJS: under NodeNext its default import is module.exports, whose `default` is the plugin.
const addFormats = addFormatsModule.default;

export interface PublicEventValidator {
  /** Problems of `message` against the schema its `dataschema` names; empty when valid. */
  problems(message: unknown): string[];
  readonly schemaIds: readonly string[];
}

export function loadPublicEventSchemas(dir = SCHEMA_DIR): PublicEventValidator {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  const schemaIds: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const schema = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { $id: string };
    ajv.addSchema(schema);
    schemaIds.push(schema.$id);
  }
  return {
    schemaIds,
    problems(message) {
      const id = (message as { dataschema?: unknown }).dataschema;
      if (typeof id !== 'string') return ['no dataschema'];
      const validate = ajv.getSchema(id);
      if (!validate) return [`no schema file with $id ${id}`];
      return validate(message) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
    },
  };
}

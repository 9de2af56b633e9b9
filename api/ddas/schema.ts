/**
 * The official DDAS v1.2 JSON Schema (`schema/json_schema_Uitwisselmodel.json`, copied unchanged from VNG
 * Realisatie) compiled with ajv (draft 2020-12), for checking an export before it leaves the building.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Compiles a validator of `gegevens` (Uitwisselmodel). */
export function uitwisselmodelValidator(): ((gegevens: unknown) => boolean) & {
  errors?: ErrorObject[] | null;
} {
  const schema = JSON.parse(
    readFileSync(new URL('./schema/json_schema_Uitwisselmodel.json', import.meta.url), 'utf8'),
  );
  // strictTypes/strictRequired off: the schema declares types and properties beside its oneOf branches,
  // valid JSON Schema that those lint rules of ajv flag.
  const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
  ajv.addFormat('date', (v: string) => DATE.test(v) && new Date(v).toISOString().startsWith(v));
  ajv.addFormat('date-time', (v: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v),
  );
  ajv.addFormat('time', (v: string) => /^\d{2}:\d{2}:\d{2}$/.test(v));
  ajv.addFormat('email', (v: string) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v));
  return ajv.compile(schema);
}

/**
 * The contract's `components.schemas` as JSON Schema objects, from @hey-api/openapi-ts's schemas
 * plugin (generated/hey-api/schemas.gen.ts): ajv compiles these, so validation needs no YAML
 * parse at run time. They are the YAML's schemas verbatim (a unit test compares the two).
 */
import * as generated from '../../generated/hey-api/schemas.gen.ts';
import type { SchemaName } from './types.ts';

/** A JSON Schema (2020-12) object as found under `components.schemas`. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** hey-api names each export `<schema name>Schema`. */
type Exported = keyof typeof generated;
type NameOf<K> = K extends `${infer N}Schema` ? N : never;
// Both directions, so a schema added to the contract and missing here (or the reverse) fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const namesMatch: Same<NameOf<Exported>, SchemaName> = true;
void namesMatch;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const byExport: Readonly<Record<Exported, JsonSchema>> = generated;

/** Schema name -> schema, frozen: every validator shares these objects. */
export const CONTRACT_SCHEMAS: Readonly<Record<SchemaName, JsonSchema>> = deepFreeze(
  Object.fromEntries(Object.entries(byExport).map(([exported, schema]) => [exported.replace(/Schema$/, ''), schema])) as Record<SchemaName, JsonSchema>,
);

/** The contract's enums as values, for code that lists or checks them without a validator. */
export const PAYLOAD_TYPE_VALUES = generated.PayloadTypeSchema.enum;
export const ERROR_TYPE_VALUES = generated.ErrorTypeSchema.enum;
export const EVENT_TYPE_VALUES = generated.EventTypeSchema.enum;

/**
 * The OpenAPI contract as data. Everything that validates against the contract (ajv here, the
 * express-openapi-validator in src/server) reads the same document, so no schema is written twice.
 * It comes from the codegen's JSON copy of the YAML (generated/stubs/openapi-document.ts, held
 * equal by the drift test): parsing the YAML took ~200 ms of every start.
 */
import { OPENAPI_DOCUMENT_JSON } from '../../generated/stubs/openapi-document.ts';
import { operations, type OperationId } from '../../generated/stubs/operations.ts';
import { packageFileUrl } from '../package-files.ts';

import type { JsonSchema } from './schemas.ts';

/** The parts of the OpenAPI document this library reads; the rest is kept as-is. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; [k: string]: unknown };
  paths: Record<string, unknown>;
  components: { schemas: Record<string, JsonSchema>; [k: string]: unknown };
  [k: string]: unknown;
}

/** Found from src/ (development) and from dist/src/ (the installed package) alike. */
export const OPENAPI_SPEC_URL = packageFileUrl('openapi/koi-net.openapi.yaml');

/** Where the five endpoints are mounted unless a node is configured otherwise. */
export const DEFAULT_ROOT_PATH = '/koi-net';

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function readDocument(): OpenApiDocument {
  const parsed: unknown = JSON.parse(OPENAPI_DOCUMENT_JSON);
  const doc = parsed as Partial<OpenApiDocument> | null;
  if (!doc || typeof doc !== 'object' || typeof doc.components?.schemas !== 'object' || typeof doc.paths !== 'object') {
    throw new Error(`${OPENAPI_SPEC_URL.href} (generated copy): not an OpenAPI document with paths and components.schemas`);
  }
  return doc as OpenApiDocument;
}

/**
 * The contract, parsed once and frozen: shared readers (ajv) must not see each other's changes.
 * Use `loadOpenapiDocument()` for a copy you may mutate.
 */
export const openapiDocument: Readonly<OpenApiDocument> = deepFreeze(readDocument());

/** A fresh, mutable deep copy (express-openapi-validator rewrites the document it is given). */
export function loadOpenapiDocument(): OpenApiDocument {
  return structuredClone(openapiDocument) as OpenApiDocument;
}

export type ApiPaths = { readonly [K in OperationId]: (typeof operations)[K]['path'] };

/** operationId -> path below the root path, e.g. `fetchRids` -> `/rids/fetch`. */
export const API_PATHS: ApiPaths = Object.freeze(
  Object.fromEntries(Object.entries(operations).map(([id, op]) => [id, op.path])) as ApiPaths,
);

export { operations, type OperationId, type JsonSchema };

/**
 * The OpenAPI contract as data. Everything that validates against the contract (ajv here, the
 * express-openapi-validator in src/server) reads the same YAML, so no schema is written twice.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { operations } from "../../generated/stubs/operations.js";
import { packageFileUrl } from "../package-files.js";
/** Found from src/ (development) and from dist/src/ (the installed package) alike. */
export const OPENAPI_SPEC_URL = packageFileUrl('openapi/koi-net.openapi.yaml');
/** Where the five endpoints are mounted unless a node is configured otherwise. */
export const DEFAULT_ROOT_PATH = '/koi-net';
function deepFreeze(value) {
    if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value))
            deepFreeze(v);
    }
    return value;
}
function readDocument() {
    const parsed = parseYaml(readFileSync(OPENAPI_SPEC_URL, 'utf8'));
    const doc = parsed;
    if (!doc || typeof doc !== 'object' || typeof doc.components?.schemas !== 'object' || typeof doc.paths !== 'object') {
        throw new Error(`${OPENAPI_SPEC_URL.href}: not an OpenAPI document with paths and components.schemas`);
    }
    return doc;
}
/**
 * The contract, parsed once and frozen: shared readers (ajv) must not see each other's changes.
 * Use `loadOpenapiDocument()` for a copy you may mutate.
 */
export const openapiDocument = deepFreeze(readDocument());
/** A fresh, mutable deep copy (express-openapi-validator rewrites the document it is given). */
export function loadOpenapiDocument() {
    return structuredClone(openapiDocument);
}
/** operationId -> path below the root path, e.g. `fetchRids` -> `/rids/fetch`. */
export const API_PATHS = Object.freeze(Object.fromEntries(Object.entries(operations).map(([id, op]) => [id, op.path])));
export { operations };
//# sourceMappingURL=spec.js.map
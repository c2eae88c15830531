import { operations, type OperationId } from '../../generated/stubs/operations.ts';
/** A JSON Schema (2020-12) object as found under `components.schemas`. */
export type JsonSchema = {
    readonly [keyword: string]: unknown;
};
/** The parts of the OpenAPI document this library reads; the rest is kept as-is. */
export interface OpenApiDocument {
    openapi: string;
    info: {
        title: string;
        version: string;
        [k: string]: unknown;
    };
    paths: Record<string, unknown>;
    components: {
        schemas: Record<string, JsonSchema>;
        [k: string]: unknown;
    };
    [k: string]: unknown;
}
/** Found from src/ (development) and from dist/src/ (the installed package) alike. */
export declare const OPENAPI_SPEC_URL: URL;
/** Where the five endpoints are mounted unless a node is configured otherwise. */
export declare const DEFAULT_ROOT_PATH = "/koi-net";
/**
 * The contract, parsed once and frozen: shared readers (ajv) must not see each other's changes.
 * Use `loadOpenapiDocument()` for a copy you may mutate.
 */
export declare const openapiDocument: Readonly<OpenApiDocument>;
/** A fresh, mutable deep copy (express-openapi-validator rewrites the document it is given). */
export declare function loadOpenapiDocument(): OpenApiDocument;
export type ApiPaths = {
    readonly [K in OperationId]: (typeof operations)[K]['path'];
};
/** operationId -> path below the root path, e.g. `fetchRids` -> `/rids/fetch`. */
export declare const API_PATHS: ApiPaths;
export { operations, type OperationId };

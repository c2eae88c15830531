export { API_PATHS, DEFAULT_ROOT_PATH, OPENAPI_SPEC_URL, loadOpenapiDocument, openapiDocument, operations, } from "./spec.js";
export * from "./types.js";
export { SCHEMA_NAMES, assertSchema, getRIDFormatCheckers, parseSchema, patternRIDFormatCheckers, registryRIDFormatCheckers, setRIDFormatCheckers, validateSchema, } from "./validate.js";
export { parseEdgeProfile, parseNodeProfile } from "./profiles.js";
//# sourceMappingURL=index.js.map
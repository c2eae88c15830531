export {
  API_PATHS,
  DEFAULT_ROOT_PATH,
  OPENAPI_SPEC_URL,
  loadOpenapiDocument,
  openapiDocument,
  operations,
  type ApiPaths,
  type JsonSchema,
  type OpenApiDocument,
  type OperationId,
} from './spec.ts';
export type { KoiNetHandlers, OperationSpec, RequestBody, ResponseBody, SerializedBody } from '../../generated/stubs/operations.ts';
export * from './types.ts';
export {
  SCHEMA_NAMES,
  assertSchema,
  conformsTo,
  getRIDFormatCheckers,
  parseSchema,
  patternRIDFormatCheckers,
  registryRIDFormatCheckers,
  setRIDFormatCheckers,
  validateSchema,
  type RIDFormatCheckers,
} from './validate.ts';
export { parseEdgeProfile, parseNodeProfile, type NodeProfileInput } from './profiles.ts';
export { EDGE_PROFILE_CONTEXT, NODE_PROFILE_CONTEXT, hasProfileContext, withEdgeProfileContext, withNodeProfileContext } from './context.ts';

export {
  createKoiNetApp,
  DEFAULT_SERVER_LIMITS,
  resolveServerLimits,
  startServer,
  withFastPath,
  type ServerLimits,
  type KoiNetAppOptions,
  type RunningServer,
  type StartServerOptions,
} from './app.ts';
export { HttpProblem, type ValidationDetailItem } from './errors.ts';
export { SerializedJson } from './serialized.ts';
export { DEFAULT_SERVER_TIMEOUTS, MAX_SERVER_TIMEOUT_MS, resolveServerTimeouts, type ServerTimeouts } from './timeouts.ts';
export { MAX_CONTENTS_DEPTH } from './nesting.ts';

export type { NodeView, ProtocolMode } from './node-view.ts';
export type { RequestContext } from './request-context.ts';

export { createPagesHandler, withPages, type HealthReport, type NodeSnapshot, type PagesOptions } from './pages/index.ts';
// The fetch answers (formerly network/response-handler.ts; still `node.network.responseHandler`).
export { ResponseHandler } from './operations/fetch-answers.ts';
export type {
  FetchRidsBody,
  FetchManifestsBody,
  FetchBundlesBody,
  RidsPayloadBody,
  ManifestsPayloadBody,
  BundlesPayloadBody,
  ResponseCache,
  ResponseHandlerOptions,
} from './operations/fetch-answers.ts';

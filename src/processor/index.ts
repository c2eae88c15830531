export {
  HandlerType,
  STOP_CHAIN,
  createHandler,
  handlerMatches,
  handlerName,
  isHandlerType,
} from './handler.ts';
export type {
  HandleInput,
  HandlerContext,
  HandlerFunction,
  HandlerOptions,
  HandlerResult,
  KnowledgeHandler,
  KnowledgeProcessor,
  StopChain,
} from './handler.ts';
export { ProcessorInterface } from './interface.ts';
export type { ProcessorOptions, ProcessorCounters } from './interface.ts';
export type { Announcement, ProcessResult, StopPoint } from './pipeline.ts';
export type {
  MaybePromise,
  ProcessorCache,
  ProcessorComponents,
  ProcessorEdgeLookup,
  ProcessorGraph,
  ProcessorIdentity,
  ProcessorNeighborQuery,
  ProcessorNetwork,
} from './components.ts';
export {
  basicManifestHandler,
  basicNetworkOutputFilter,
  basicRidHandler,
  defaultHandlers,
  edgeNegotiationHandler,
  forgetNodeHandler,
  secureProfileHandler,
} from './default-handlers.ts';

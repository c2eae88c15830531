export { NetworkGraph } from './graph.ts';
export type {
  GraphNodeAttributes,
  GraphEdgeAttributes,
  EdgeDirection,
  NeighborQuery,
  EdgeLookup,
  NetworkGraphSnapshot,
  NetworkGraphOptions,
} from './graph.ts';
export * from '../queues/index.ts';
// The outgoing client moved to src/peer/; re-exported so imports from network/ keep working.
export { RequestHandler } from '../peer/index.ts';
export type * from '../peer/types.ts';
export type {
  RequestTarget,
  NodeProfileSource,
  RequestHandlerOptions,
  BroadcastEventsRequest,
  PollEventsRequest,
  FetchRidsRequest,
  FetchManifestsRequest,
  FetchBundlesRequest,
  EventsResult,
  RidsResult,
  ManifestsResult,
  BundlesResult,
} from '../peer/index.ts';
export { ResponseHandler } from '../server/operations/fetch-answers.ts';
export type {
  FetchRidsBody,
  FetchManifestsBody,
  FetchBundlesBody,
  RidsPayloadBody,
  ManifestsPayloadBody,
  BundlesPayloadBody,
  ResponseCache,
  ResponseHandlerOptions,
} from '../server/operations/fetch-answers.ts';
export { NetworkInterface } from './network-interface.ts';
export type { NetworkInterfaceOptions, QueueKind, SourcedEvent } from './network-interface.ts';

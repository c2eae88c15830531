// The graph has its own folder now; re-exported so imports from network/ keep working.
export * from '../graph/index.ts';
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
export { NetworkInterface } from './network-interface.ts';
export type { FetchAnswers, NetworkInterfaceOptions, QueueKind, SourcedEvent } from './network-interface.ts';

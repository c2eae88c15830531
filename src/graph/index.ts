export { NetworkGraph } from './network-graph.ts';
export type {
  GraphNodeAttributes,
  GraphEdgeAttributes,
  EdgeDirection,
  NeighborQuery,
  EdgeLookup,
  NetworkGraphSnapshot,
  NetworkGraphOptions,
} from './network-graph.ts';

/**
 * The target rule, in one place: which queue an event for a peer goes to, and which peers a
 * partial node polls. Both NetworkInterface and the Poller read it from here.
 */
import { KoiNetNode, RID } from '../rid/index.ts';
import { EdgeType, NodeType, type EdgeProfile, type NodeProfile } from '../protocol/index.ts';
import { UnreachableNodeError } from '../errors.ts';
import type { EdgeLookup, NeighborQuery } from '../graph/index.ts';

import type { QueueKind } from '../queues/index.ts';

export type { QueueKind };

/** The graph lookups the target rule needs (NetworkGraph has them). */
export interface TargetGraph {
  getEdgeProfile(lookup: EdgeLookup): EdgeProfile | undefined;
  getNodeProfile(node: KoiNetNode | string): NodeProfile | undefined;
  getNeighbors(query: NeighborQuery): KoiNetNode[];
}

/**
 * An edge from `self` to the target decides the queue by its edge_type; without one, FULL nodes
 * get webhook delivery and PARTIAL nodes poll. Undefined: neither edge nor known profile.
 */
export function chooseQueue(graph: TargetGraph, self: KoiNetNode, target: KoiNetNode): QueueKind | undefined {
  const edge = graph.getEdgeProfile({ source: self, target });
  if (edge) return edge.edge_type === EdgeType.WEBHOOK ? 'webhook' : 'poll';
  const profile = graph.getNodeProfile(target);
  if (!profile) return undefined;
  return profile.node_type === NodeType.FULL ? 'webhook' : 'poll';
}

/** A peer to poll: its node RID, or the first-contact URL while that is all we know. */
export interface PollTarget {
  /** Node RID, or the first-contact URL. */
  source: string;
  target: { node: KoiNetNode } | { url: string };
  /** Set when the source is a node RID (not a bare URL), for the processor's "don't echo" rule. */
  sourceNode?: string;
}

/**
 * Every FULL neighbor with a base_url that has an edge to `self` (it is the event source); while
 * there is none, the first-contact URL, so a freshly introduced node hears the answer to its
 * handshake.
 */
export function pollTargets(graph: TargetGraph, self: KoiNetNode, firstContact: string | undefined): PollTarget[] {
  const me = self.toString();
  const out: PollTarget[] = [];
  for (const neighbor of graph.getNeighbors({ direction: 'in' })) {
    const rid = neighbor.toString();
    if (rid === me) continue;
    const profile = graph.getNodeProfile(neighbor);
    if (profile?.node_type !== NodeType.FULL || !profile.base_url) continue;
    out.push({ source: rid, target: { node: neighbor }, sourceNode: rid });
  }
  if (out.length === 0 && firstContact) out.push({ source: firstContact, target: { url: firstContact } });
  return out;
}

export function toNodeRid(value: KoiNetNode | RID | string): KoiNetNode {
  if (value instanceof KoiNetNode) return value;
  const rid = RID.fromString(String(value));
  if (!(rid instanceof KoiNetNode)) throw new UnreachableNodeError(String(value), 'not an orn:koi-net.node RID');
  return rid;
}

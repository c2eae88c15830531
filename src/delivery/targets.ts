/**
 * The target rule, in one place: which queue an event for a peer goes to, and which peers a
 * partial node polls. Both NetworkInterface and the Poller read it from here.
 */
import { KOI_NET_NODE_TYPE, KoiNetNode, RID } from '../rid/index.ts';
import { EventType, type Event } from '../knowledge/index.ts';
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

/**
 * Why `event` is not queued for `target`, or undefined when it may be (PROTOCOL.md section 9). A
 * koi-net 2.x node that receives a NEW or UPDATE event carrying a node profile without
 * `public_key` (a 1.0.x node's) fails in its handler and shuts down; it does cache such a bundle
 * when it fetches it. So a node never queues such an event for a signed peer (one whose cached
 * profile has a public_key), whichever queue that peer uses; the peer can fetch the bundle. A
 * FORGET, or an event without contents, carries no profile and goes through.
 */
export function withheldFrom(graph: Pick<TargetGraph, 'getNodeProfile'>, target: KoiNetNode, event: Event): string | undefined {
  if (event.eventType === EventType.FORGET || event.contents === undefined) return undefined;
  if (event.rid.type.toString() !== KOI_NET_NODE_TYPE.toString()) return undefined;
  if (typeof event.contents['public_key'] === 'string') return undefined;
  if (typeof graph.getNodeProfile(target)?.public_key !== 'string') return undefined;
  return "an unsigned node's profile is never pushed to a signed peer (2.x nodes crash on it; they fetch it)";
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

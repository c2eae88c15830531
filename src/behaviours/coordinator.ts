/**
 * The coordinator's welcome (the seed's `basic_coordinator_node` handshake handler): a node that
 * announces itself to us as NEW gets our own bundle at once, so it can reach us, and an edge offer
 * from it to us for node and edge events, so that we hear of every node and edge it learns of.
 */
import { Event, EventType, KnowledgeSource } from '../knowledge/index.ts';
import { createHandler as createAnyHandler, HandlerType, type HandlerContext, type KnowledgeHandler } from '../processor/index.ts';
import { markQueueSafe } from '../processor/handler.ts';

/** These handlers only queue knowledge (never wait for the queue): queue-safe. */
const createHandler: typeof createAnyHandler = (...args) => markQueueSafe(createAnyHandler(...args));
import { EdgeType, hasProfileContext, parseNodeProfile, type NodeProfile } from '../protocol/index.ts';
import type { KnowledgeObject } from '../knowledge/index.ts';
import { EDGE_TYPE, NODE_TYPE, proposedEdgeBundle } from './edge.ts';

export interface CoordinatorHandlersOptions {
  /** RID types offered on the edge; default node and edge. */
  ridTypes?: readonly string[];
  /**
   * Also offered on the edge, each only when the new node provides events of it: the contact
   * behaviour's extra types. With both behaviours on, the welcome is then the one proposal of
   * that edge (installBehaviours): two proposals of one edge RID with different terms raced, and
   * the approval of the first was refused as not matching the second.
   */
  extraRidTypes?: readonly string[];
}

/**
 * Handlers (Network phase, `orn:koi-net.node`, incoming NEW) to add with `processor.addHandler`.
 *
 * Edge direction as in the reference's basic_coordinator_node: source = the new node (it provides
 * the events), target = this coordinator, WEBHOOK (the coordinator is a full node, so even a partial
 * node can deliver to it). The new node is the source, so its default bundle handler approves the
 * edge and sends the APPROVED bundle back. The edge is handled here as internal knowledge, so the
 * default network handler delivers the proposal to the new node ("involves me").
 */
export function coordinatorHandlers(options: CoordinatorHandlersOptions = {}): KnowledgeHandler[] {
  const ridTypes = options.ridTypes ?? [NODE_TYPE, EDGE_TYPE];
  return [
    createHandler(
      HandlerType.Network,
      { ridTypes: [NODE_TYPE], eventTypes: [EventType.NEW], name: 'coordinatorHandshake' },
      async function coordinatorHandshake(ctx: HandlerContext, kobj: KnowledgeObject) {
        // Only a node's own announcement (or a peer relaying it) is a handshake; our own writes are not.
        if (kobj.source !== KnowledgeSource.EXTERNAL) return;
        const me = ctx.identity.rid.toString();
        const peer = kobj.rid.toString();
        if (peer === me) return;
        const profile = nodeProfileOf(kobj);
        if (!profile) {
          ctx.logger.warn({ node: peer }, 'new node has no valid profile; no handshake');
          return;
        }
        ctx.logger.info({ node: peer, nodeType: profile.node_type }, 'welcoming new node: sharing our bundle and offering an edge');
        await ctx.network.pushEventTo(Event.fromBundle(ctx.identity.bundle, EventType.NEW), peer, true);

        const provided = new Set(profile.provides.event.map(String));
        const offered = [...ridTypes, ...(options.extraRidTypes ?? []).filter((t) => provided.has(t))];
        const edge = proposedEdgeBundle(peer, me, offered, EdgeType.WEBHOOK, { context: hasProfileContext(ctx.identity.profile) });
        // A node that re-introduces itself may have lost our edge while we still cache it, and an
        // identical bundle would stop at the manifest handler; forgetting it first makes it travel.
        if (ctx.graph.getEdgeProfile({ rid: edge.rid })) {
          await ctx.handle({ rid: edge.rid, eventType: EventType.FORGET });
        }
        await ctx.handle({ bundle: edge });
      },
    ),
  ];
}

/** The node profile a node kobj carries, or undefined when the contents are not one. */
export function nodeProfileOf(kobj: KnowledgeObject): NodeProfile | undefined {
  if (kobj.contents === undefined) return undefined;
  try {
    return parseNodeProfile(kobj.contents);
  } catch {
    return undefined;
  }
}

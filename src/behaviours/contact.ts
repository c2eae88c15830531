/**
 * The seed's `basic_partial_node` contact behaviour: when this node learns of a node that
 * provides node events (a coordinator, typically), it asks to subscribe by proposing an edge from
 * that node to itself, then catches up on the nodes that one already knows. Extra RID types
 * (`extraRidTypes`) are requested only from nodes that provide events of them, so that asking a
 * coordinator for a type it does not provide never gets the whole edge refused.
 */
import { EventType, KnowledgeSource, type KnowledgeObject } from '../knowledge/index.ts';
import { createHandler as createAnyHandler, HandlerType, type HandlerContext, type KnowledgeHandler } from '../processor/index.ts';
import { markQueueSafe } from '../processor/handler.ts';

/** These handlers only queue knowledge (never wait for the queue): queue-safe. */
const createHandler: typeof createAnyHandler = (...args) => markQueueSafe(createAnyHandler(...args));
import { EdgeStatus, EdgeType, NodeType, hasProfileContext, parseEdgeProfile, type EdgeProfile, type NodeProfile } from '../protocol/index.ts';
import { RID } from '../rid/index.ts';
import { nodeProfileOf } from './coordinator.ts';
import { EDGE_TYPE, NODE_TYPE, edgeCovers, proposedEdgeBundle } from './edge.ts';
import { errorText } from '../util/error-text.ts';

/** The one request the catch-up makes; `RequestHandler` fits. */
export interface RidFetcher {
  fetchRids(target: { node: string }, req: { rid_types?: readonly string[] }): Promise<{ rids: readonly (RID | string)[] }>;
}

export interface ContactHandlersOptions {
  /** RID types requested on the edge beyond node and edge. */
  extraRidTypes?: readonly string[];
  /**
   * Where catch-up requests go. Default: the context's network when it exposes a
   * `requestHandler` (a NetworkInterface does); without one the catch-up is skipped.
   */
  fetcher?: RidFetcher | (() => RidFetcher);
  /** Fetch the node RIDs the contact knows and handle the unknown ones. Default true. */
  catchUp?: boolean;
  /**
   * The coordinator behaviour runs too and its welcome proposes the edge from every node that
   * announces itself (with the extra types it provides): no second proposal of that edge then,
   * only the catch-up. Default false.
   */
  welcomedByCoordinator?: boolean;
}

export function contactHandlers(options: ContactHandlersOptions = {}): KnowledgeHandler[] {
  const extraRidTypes = [...new Set(options.extraRidTypes ?? [])];
  return [
    createHandler(
      HandlerType.Network,
      { ridTypes: [NODE_TYPE], name: 'contactNodeEventProvider' },
      async function contactNodeEventProvider(ctx: HandlerContext, kobj: KnowledgeObject) {
        if (kobj.normalizedEventType !== EventType.NEW) return;
        const me = ctx.identity.rid.toString();
        const peer = kobj.rid.toString();
        if (peer === me) return;
        const profile = nodeProfileOf(kobj);
        if (!profile) return;
        const peerEvents = new Set(profile.provides.event.map(String));
        const providesNodeEvents = peerEvents.has(NODE_TYPE);
        const ridTypes = [
          ...(providesNodeEvents ? [NODE_TYPE, EDGE_TYPE] : []),
          ...extraRidTypes.filter((t) => peerEvents.has(t) && t !== NODE_TYPE && t !== EDGE_TYPE),
        ];
        if (ridTypes.length === 0) return;

        const iAmFull = ctx.identity.profile.node_type === NodeType.FULL;
        const peerIsFull = profile.node_type === NodeType.FULL;
        // koi-net 2.1's contact rule, for signed peers (a public key in the profile): no edge to a
        // partial provider. 1.0.x peers keep the older rule (a full node subscribes by webhook).
        if (!peerIsFull && typeof profile.public_key === 'string') {
          ctx.logger.debug({ node: peer }, 'signed partial node provides node events; koi-net 2.1 proposes no edge to partial providers');
          return;
        }
        // Two partial nodes cannot deliver to each other: neither serves the poll endpoint.
        if (!iAmFull && !peerIsFull) {
          ctx.logger.debug({ node: peer }, 'node provides node events but neither side has a server; no edge');
          return;
        }

        const existing = ctx.graph.getEdgeProfile({ source: peer, target: me });
        if (options.welcomedByCoordinator === true && kobj.source === KnowledgeSource.EXTERNAL) {
          ctx.logger.debug({ node: peer }, "the coordinator's welcome proposes the edge");
        } else if (edgeCovers(existing, ridTypes)) {
          ctx.logger.debug({ node: peer }, 'already subscribed to node events of this node');
        } else {
          ctx.logger.info({ node: peer, ridTypes }, 'found an event provider; proposing an edge');
          const edgeType = iAmFull ? EdgeType.WEBHOOK : EdgeType.POLL;
          await ctx.handle({ bundle: proposedEdgeBundle(peer, me, ridTypes, edgeType, { context: hasProfileContext(ctx.identity.profile) }) });
        }

        if (options.catchUp === false) return;
        await catchUp(ctx, peer, profile, ridTypes, options.fetcher);
      },
    ),
    createHandler(
      HandlerType.Final,
      { ridTypes: [EDGE_TYPE], name: 'contactSubscriptionApproved' },
      // Node events reach us only once our edge is approved; whatever the provider learned between
      // our first catch-up and the approval would otherwise never reach us. A second catch-up when
      // the approval arrives closes that gap (the reference lacks it: nodes that join then are lost).
      async function contactSubscriptionApproved(ctx: HandlerContext, kobj: KnowledgeObject) {
        if (options.catchUp === false || kobj.source !== KnowledgeSource.EXTERNAL || kobj.contents === undefined) return;
        if (kobj.normalizedEventType !== EventType.NEW && kobj.normalizedEventType !== EventType.UPDATE) return;
        let edge: EdgeProfile;
        try {
          edge = parseEdgeProfile(kobj.contents);
        } catch {
          return;
        }
        if (edge.target !== ctx.identity.rid.toString() || edge.status !== EdgeStatus.APPROVED) return;
        const profile = ctx.graph.getNodeProfile(edge.source);
        if (!profile) return;
        await catchUp(ctx, edge.source, profile, edge.rid_types.map(String), options.fetcher);
      },
    ),
  ];
}

/**
 * Fetches the RIDs the peer serves state for among the subscribed types (node RIDs always, as in
 * the reference, when the peer provides node events) and handles each unknown one as external
 * knowledge, so the pipeline fetches its bundle from a state provider.
 */
async function catchUp(
  ctx: HandlerContext,
  peer: string,
  profile: NodeProfile,
  ridTypes: readonly string[],
  fetcherOption: ContactHandlersOptions['fetcher'],
): Promise<void> {
  if (profile.node_type !== NodeType.FULL || !profile.base_url) return;
  const fetcher = resolveFetcher(fetcherOption, ctx);
  if (!fetcher) return;
  const me = ctx.identity.rid.toString();
  const providesNodeEvents = profile.provides.event.map(String).includes(NODE_TYPE);
  const peerState = new Set(profile.provides.state.map(String));
  const catchUpTypes = ridTypes.filter((t) => t !== EDGE_TYPE && (peerState.has(t) || (t === NODE_TYPE && providesNodeEvents)));
  if (catchUpTypes.length === 0) return;
  let rids: readonly (RID | string)[];
  try {
    ({ rids } = await fetcher.fetchRids({ node: peer }, { rid_types: catchUpTypes }));
  } catch (err) {
    ctx.logger.warn({ node: peer, err: errorText(err) }, 'catch-up fetch of RIDs failed');
    return;
  }
  let queued = 0;
  for (const rid of rids) {
    const s = String(rid);
    if (s === me || s === peer) continue;
    let parsed: RID;
    try {
      parsed = RID.of(rid);
    } catch {
      continue; // a peer's garbage must not end the catch-up
    }
    if (await ctx.cache.exists(parsed)) continue;
    // External: the pipeline fetches manifest and bundle from a state provider, not our cache.
    await ctx.handle({ rid: parsed, source: KnowledgeSource.EXTERNAL, sourceNode: peer });
    queued++;
  }
  ctx.logger.info({ node: peer, known: rids.length, queued }, 'caught up on network state');
}

function resolveFetcher(option: ContactHandlersOptions['fetcher'], ctx: HandlerContext): RidFetcher | undefined {
  if (typeof option === 'function') return option();
  if (option) return option;
  return ctx.network.requestHandler;
}

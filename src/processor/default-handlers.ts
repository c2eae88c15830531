import { KOI_NET_EDGE_TYPE, KOI_NET_NODE_TYPE, KoiNetNode } from '../rid/index.ts';
import { publicKeyHash } from '../secure/keys.ts';
import { isKeyBoundNodeRid } from '../secure/unsigned-trust.ts';
import { Bundle, Event, EventType, KnowledgeSource, type KnowledgeObject, type Manifest } from '../knowledge/index.ts';
import { EdgeStatus, EdgeType, NodeType, hasProfileContext, parseEdgeProfile, parseNodeProfile, withEdgeProfileContext, type EdgeProfile, type NodeProfile } from '../protocol/index.ts';
import { HandlerType, STOP_CHAIN, createHandler as createAnyHandler, markQueueSafe, type KnowledgeHandler } from './handler.ts';

/** Every handler here only queues knowledge (never waits for the queue): queue-safe. */
const createHandler: typeof createAnyHandler = (...args) => markQueueSafe(createAnyHandler(...args));

/**
 * RID: nobody else tells this node who it is; a FORGET counts only for an RID we hold (a FORGET of
 * something unknown has nothing to delete and nothing to announce).
 */
// Synchronous where they can be (this one and the Manifest handler run for every kobj): the
// processor awaits only a handler that returns a promise.
export const basicRidHandler: KnowledgeHandler = createHandler(HandlerType.RID, { name: 'basicRidHandler' }, (ctx, kobj) => {
  if (kobj.source === KnowledgeSource.EXTERNAL && kobj.rid.toString() === ctx.identity.rid.toString()) {
    ctx.logger.debug({ rid: kobj.rid.toString() }, "external knowledge about this node's own RID ignored");
    return STOP_CHAIN;
  }
  if (kobj.eventType === EventType.FORGET) {
    const exists = ctx.cache.exists(kobj.rid);
    return typeof exists === 'boolean' ? forgetIfCached(kobj, exists) : exists.then((known) => forgetIfCached(kobj, known));
  }
  return undefined;
});

function forgetIfCached(kobj: KnowledgeObject, exists: boolean): KnowledgeObject | typeof STOP_CHAIN {
  if (!exists) return STOP_CHAIN;
  kobj.normalizedEventType = EventType.FORGET;
  return kobj;
}

/**
 * Manifest: only a different and strictly newer state is worth caching. Time is compared in
 * microseconds since the epoch because peers may write timestamps with any offset.
 */
export const basicManifestHandler: KnowledgeHandler = createHandler(
  HandlerType.Manifest,
  { name: 'basicManifestHandler' },
  (ctx, kobj) => {
    const incoming = kobj.manifest;
    if (incoming === undefined) return undefined;
    // The manifest alone decides; a store that keeps manifests in memory spares the file read.
    if (ctx.cache.readManifest) return newerThanCached(kobj, incoming, ctx.cache.readManifest(kobj.rid));
    return Promise.resolve(ctx.cache.read(kobj.rid)).then((bundle) => newerThanCached(kobj, incoming, bundle?.manifest));
  },
);

function newerThanCached(kobj: KnowledgeObject, incoming: Manifest, cached: Manifest | undefined): KnowledgeObject | typeof STOP_CHAIN {
  if (cached) {
    if (incoming.sha256Hash === cached.sha256Hash) return STOP_CHAIN;
    if (incoming.timeMicros <= cached.timeMicros) return STOP_CHAIN;
    kobj.normalizedEventType = EventType.UPDATE;
  } else {
    kobj.normalizedEventType = EventType.NEW;
  }
  return kobj;
}

/** Same edge terms (status aside); RID type order carries no meaning. */
function sameEdgeTerms(a: EdgeProfile, b: EdgeProfile): boolean {
  const types = (p: EdgeProfile): string => [...new Set(p.rid_types.map(String))].sort().join('\n');
  return a.source === b.source && a.target === b.target && a.edge_type === b.edge_type && types(a) === types(b);
}

/**
 * Bundle (edges, external): a peer proposing to subscribe to this node. Approval is a new internal
 * bundle of the same edge, which the Network handler then sends to the peer; refusal is a FORGET
 * of the edge sent straight to the peer, and the proposal is never cached.
 *
 * Trust: an edge is approved only by its source. So an external APPROVED edge whose source is this
 * node is a forgery (only we approve our edges) and is dropped; one whose target is this node is
 * accepted only as the answer to an edge we proposed with the same terms, else any peer could
 * subscribe us to whatever it likes, or widen an edge we asked for.
 */
export const edgeNegotiationHandler: KnowledgeHandler = createHandler(
  HandlerType.Bundle,
  { name: 'edgeNegotiationHandler', ridTypes: [KOI_NET_EDGE_TYPE] },
  async (ctx, kobj) => {
    if (kobj.source !== KnowledgeSource.EXTERNAL || kobj.contents === undefined) return undefined;
    let profile: EdgeProfile;
    try {
      profile = parseEdgeProfile(kobj.contents);
    } catch (err) {
      // A malformed edge from a peer must neither crash the node nor land in the graph.
      ctx.logger.warn({ rid: kobj.rid.toString(), err: String(err) }, 'external edge bundle has an invalid profile; ignored');
      return STOP_CHAIN;
    }
    const me = ctx.identity.rid.toString();
    if (profile.status === EdgeStatus.APPROVED) {
      if (profile.source === me) {
        ctx.logger.warn({ rid: kobj.rid.toString(), target: profile.target }, 'external approval of an edge from this node ignored; only this node approves its edges');
        return STOP_CHAIN;
      }
      if (profile.target === me) {
        const cached = await ctx.cache.read(kobj.rid);
        let ours: EdgeProfile | undefined;
        try {
          ours = cached ? parseEdgeProfile(cached.contents) : undefined;
        } catch {
          ours = undefined;
        }
        // An APPROVED copy of terms we already hold approved is a harmless re-send (e.g. after a
        // restart of the source); anything else did not answer a proposal of ours.
        const proposedByUs = ours !== undefined && sameEdgeTerms(ours, profile);
        if (!proposedByUs) {
          ctx.logger.warn(
            { rid: kobj.rid.toString(), source: profile.source, cached: ours?.status ?? null },
            'approved edge to this node does not match an edge this node proposed; ignored',
          );
          return STOP_CHAIN;
        }
      }
      return undefined;
    }
    if (profile.source !== me || profile.status !== EdgeStatus.PROPOSED) return undefined;

    const peer = profile.target;
    const peerProfile = ctx.graph.getNodeProfile(peer);
    if (!peerProfile) {
      ctx.logger.warn({ rid: kobj.rid.toString(), peer }, 'edge proposed by an unknown node; ignored');
      return STOP_CHAIN;
    }

    const provided = new Set<string>([
      ...ctx.identity.profile.provides.event.map(String),
      KOI_NET_NODE_TYPE.toString(),
      KOI_NET_EDGE_TYPE.toString(),
    ]);
    const reasons: string[] = [];
    if (profile.edge_type === EdgeType.WEBHOOK && peerProfile.node_type === NodeType.PARTIAL) {
      reasons.push('a partial node cannot receive webhooks');
    }
    const unprovided = profile.rid_types.map(String).filter((t) => !provided.has(t));
    if (unprovided.length > 0) reasons.push(`RID types not provided here: ${unprovided.join(', ')}`);

    if (reasons.length > 0) {
      ctx.logger.info({ rid: kobj.rid.toString(), peer, reasons }, 'refusing proposed edge');
      try {
        await ctx.network.pushEventTo(Event.fromRid(kobj.rid, EventType.FORGET), peer, true);
      } catch (err) {
        // The refusal is a courtesy; the proposal is dropped whether or not the peer hears of it.
        ctx.logger.warn({ rid: kobj.rid.toString(), peer, err: String(err) }, 'could not send edge refusal');
      }
      return STOP_CHAIN;
    }

    ctx.logger.info({ rid: kobj.rid.toString(), peer }, 'approving proposed edge');
    const terms: EdgeProfile = { ...profile, status: EdgeStatus.APPROVED };
    // koi-net 2.1 re-dumps the approved profile, so it carries `@context` whatever the proposal had.
    const approved = hasProfileContext(ctx.identity.profile) ? withEdgeProfileContext(terms) : terms;
    // The approval must supersede the proposal in the cache even when the peer's clock runs ahead
    // of ours, else the Manifest handler would drop it as not newer.
    const proposedMs = kobj.manifest ? Math.floor(kobj.manifest.timeMicros / 1000) + 1 : 0;
    const at = new Date(Math.max(Date.now(), proposedMs));
    await ctx.handle({
      bundle: Bundle.generate(kobj.rid, approved, at),
      eventType: EventType.UPDATE,
    });
    return undefined;
  },
);

/**
 * Network: who hears about this change. Our own node and our own edges always go to the other end
 * ("involves me"); otherwise only RID types this node provides events for are announced, to each
 * subscriber whose outgoing edge asks for that type.
 */
export const basicNetworkOutputFilter: KnowledgeHandler = createHandler(
  HandlerType.Network,
  { name: 'basicNetworkOutputFilter' },
  (ctx, kobj) => {
    const me = ctx.identity.rid.toString();
    const type = kobj.rid.type.toString();
    let involvesMe = false;
    if (kobj.source === KnowledgeSource.INTERNAL) {
      if (type === KOI_NET_NODE_TYPE.toString()) {
        involvesMe = kobj.rid.toString() === me;
      } else if (type === KOI_NET_EDGE_TYPE.toString() && kobj.contents !== undefined) {
        const edge = parseEdgeProfile(kobj.contents);
        if (edge.source === me) {
          kobj.networkTargets.add(edge.target);
          involvesMe = true;
        } else if (edge.target === me) {
          kobj.networkTargets.add(edge.source);
          involvesMe = true;
        }
      }
    }
    const provides = ctx.identity.profile.provides.event.map(String).includes(type);
    if (provides || involvesMe) {
      for (const subscriber of ctx.graph.getNeighbors({ direction: 'out', allowedType: kobj.rid.type })) {
        kobj.networkTargets.add(subscriber.toString());
      }
    }
    return kobj;
  },
);

/** A base URL as compared for "claims our address": no trailing slash, scheme and host lower-case. */
function sameBaseUrl(a: string, b: string): boolean {
  const norm = (u: string): string => {
    try {
      const x = new URL(u);
      return `${x.protocol}//${x.host}${x.pathname.replace(/\/+$/, '')}${x.search}`;
    } catch {
      return u.replace(/\/+$/, '');
    }
  };
  return norm(a) === norm(b);
}

/**
 * Bundle (nodes): the node profiles this node refuses to cache, as koi-net 2.x's secure profile
 * handler. A cached profile decides where webhooks for that node go and, in signed mode, which key
 * verifies its envelopes; so a neighbour relaying a forged profile could redirect deliveries meant
 * for another node. Dropped:
 *  - signed mode (this node's profile has a public_key): a profile whose public_key does not hash
 *    to the RID's hash (`<name>+<sha256 of the base64 key text>`), or that has none;
 *  - `both` mode (a bridge): the same for a profile with a public_key or a key-bound RID; a
 *    profile with neither is an unsigned (1.0.x) node's and is kept;
 *  - a profile of another node that claims this node's base_url;
 *  - external knowledge about this node's own RID (basicRidHandler drops it first; kept here so
 *    replacing the defaults piecemeal does not reopen it).
 * Unlike the reference, two partial nodes (no base_url) never match each other's "address".
 */
export const secureProfileHandler: KnowledgeHandler = createHandler(
  HandlerType.Bundle,
  { name: 'secureProfileHandler', ridTypes: [KOI_NET_NODE_TYPE] },
  async (ctx, kobj) => {
    if (kobj.contents === undefined || kobj.normalizedEventType === EventType.FORGET) return undefined;
    const rid = kobj.rid.toString();
    const me = ctx.identity.rid.toString();
    if (rid === me) {
      if (kobj.source !== KnowledgeSource.EXTERNAL) return undefined;
      ctx.logger.warn({ rid }, "external node bundle of this node's own RID dropped");
      return STOP_CHAIN;
    }
    let profile: NodeProfile;
    try {
      profile = parseNodeProfile(kobj.contents);
    } catch (err) {
      ctx.logger.warn({ rid, err: String(err) }, 'node bundle with an invalid profile dropped');
      return STOP_CHAIN;
    }
    const hasOwnKey = typeof (ctx.identity.profile as { public_key?: unknown }).public_key === 'string';
    const key = (profile as { public_key?: unknown }).public_key;
    // A bridge (`both`) keeps unsigned nodes' profiles too; a signed node's must still prove its RID.
    const mustProveKey = ctx.protocol === 'both' ? key !== undefined || isKeyBoundNodeRid(kobj.rid) : hasOwnKey;
    if (mustProveKey) {
      const hash = kobj.rid instanceof KoiNetNode ? kobj.rid.hash : KoiNetNode.fromString(rid).hash;
      if (typeof key !== 'string' || publicKeyHash(key) !== hash) {
        ctx.logger.warn({ rid, source: ctx.sourceNode ?? null }, 'node bundle whose public_key does not hash to its RID dropped');
        return STOP_CHAIN;
      }
    }
    const ours = ctx.identity.profile.base_url;
    if (ours && profile.base_url && sameBaseUrl(ours, profile.base_url)) {
      ctx.logger.warn({ rid, baseUrl: profile.base_url, source: ctx.sourceNode ?? null }, "node bundle claiming this node's base_url dropped");
      return STOP_CHAIN;
    }
    return undefined;
  },
);

/**
 * Final (nodes): when a node is forgotten, so are its edges, as koi-net 2.x's forget-node handler;
 * else they stay cached and in the graph, pointing at a node nobody can reach. Each edge goes
 * through the pipeline as an internal FORGET (cache, graph, and the other end of our own edges).
 */
export const forgetNodeHandler: KnowledgeHandler = createHandler(
  HandlerType.Final,
  { name: 'forgetNodeHandler', ridTypes: [KOI_NET_NODE_TYPE] },
  async (ctx, kobj) => {
    if (kobj.normalizedEventType !== EventType.FORGET) return undefined;
    const node = kobj.rid.toString();
    const edges = ctx.cache.listRids ? ctx.cache.listRids([KOI_NET_EDGE_TYPE]) : [];
    for (const edgeRid of edges) {
      let profile: EdgeProfile | null | undefined = ctx.graph.getEdgeProfile({ rid: edgeRid });
      if (!profile) {
        const bundle = await ctx.cache.read(edgeRid);
        try {
          profile = bundle ? parseEdgeProfile(bundle.contents) : undefined;
        } catch {
          profile = undefined;
        }
      }
      if (!profile || (profile.source !== node && profile.target !== node)) continue;
      ctx.logger.info({ node, edge: edgeRid.toString() }, 'forgetting an edge of a forgotten node');
      await ctx.handle({ rid: edgeRid, eventType: EventType.FORGET });
    }
    return undefined;
  },
);

/** The handlers a node has unless told otherwise, in registration order. */
export const defaultHandlers: readonly KnowledgeHandler[] = Object.freeze([
  basicRidHandler,
  basicManifestHandler,
  secureProfileHandler,
  edgeNegotiationHandler,
  basicNetworkOutputFilter,
  forgetNodeHandler,
]);

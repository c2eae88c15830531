import type { DirectedGraph as DirectedGraphType } from 'graphology';
import { KoiNetEdge, KoiNetNode, RID, RIDType } from '../rid/index.ts';
import type { Bundle } from '../knowledge/index.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import type { EdgeProfile, EdgeStatus, NodeProfile } from '../protocol/index.ts';
import { type Logger } from '../logger.ts';
/**
 * A node of the graph. `profile` is null for a placeholder: a node RID that some cached edge
 * points at but whose own bundle is not cached (or is invalid).
 */
export interface GraphNodeAttributes {
    rid: KoiNetNode;
    profile: NodeProfile | null;
}
export interface GraphEdgeAttributes {
    rid: KoiNetEdge;
    profile: EdgeProfile;
    /** Manifest time of the edge bundle; decides which edge wins a (source, target) pair. */
    timeMicros: number;
}
export type EdgeDirection = 'in' | 'out';
export interface NeighborQuery {
    direction?: EdgeDirection;
    status?: EdgeStatus;
    /** Keep only edges whose rid_types include this RID type. */
    allowedType?: RIDType | string;
}
export type EdgeLookup = {
    rid: KoiNetEdge | string;
} | {
    source: KoiNetNode | string;
    target: KoiNetNode | string;
};
/** Deterministic, order-independent view of the graph, for tests and debugging. */
export interface NetworkGraphSnapshot {
    nodes: {
        rid: string;
        profile: NodeProfile | null;
    }[];
    edges: {
        rid: string;
        source: string;
        target: string;
        profile: EdgeProfile;
    }[];
    /** Valid cached edges hidden because another edge RID won their (source, target) pair. */
    shadowedEdges: string[];
}
export interface NetworkGraphOptions {
    logger?: Logger;
}
/**
 * This node's view of the network: cached node bundles are graph nodes, cached edge bundles are
 * directed edges source -> target (source provides events, target subscribes).
 *
 * Invariant (checked by a property test): after any sequence of `applyWrite` / `applyDelete`
 * that mirrors the cache, the graph equals what `generate()` builds from that cache. To make
 * that hold, every rule below depends only on the current set of cached bundles, never on the
 * order they arrived in:
 * - A node is present iff its bundle is cached with a valid profile, or it is an endpoint of an
 *   edge in the graph (then, without a valid profile, it is a placeholder with `profile: null`).
 *   Forgetting a node therefore only clears its profile while edges still reference it.
 * - The graph is a simple digraph (as the reference's networkx DiGraph), yet two cached edge
 *   bundles can name the same (source, target) pair, e.g. one RID made by the seed-era hashing
 *   rule and one by the current rule. networkx keeps whichever it read last; we keep the one with
 *   the newest manifest timestamp, ties broken by the greater RID string, and remember the losers
 *   so that forgetting the winner brings the runner-up back without a cache scan.
 * - An invalid profile is skipped with a warning, exactly as if the bundle were not cached.
 */
export declare class NetworkGraph {
    private readonly cache;
    readonly identityRid: KoiNetNode;
    private readonly graph;
    /** Every valid cached edge, including shadowed ones, by edge RID string. */
    private readonly edgesByRid;
    /** Edge RIDs per `source\ntarget` pair (usually one). */
    private readonly edgesByPair;
    private readonly logger;
    constructor(cache: KnowledgeStore, identityRid: KoiNetNode | string, options?: NetworkGraphOptions);
    /**
     * The underlying graphology graph (the seed's `dg`), for analyses the query methods do not cover
     * (paths, centrality, ...). Read it; do not mutate it: the graph follows the cache incrementally.
     */
    get dg(): Readonly<DirectedGraphType<GraphNodeAttributes, GraphEdgeAttributes>>;
    get nodeCount(): number;
    get edgeCount(): number;
    /** Rebuilds the whole graph from the cached node and edge bundles. */
    generate(): Promise<void>;
    /**
     * Mirrors a cache write of `bundle`. Returns false when the bundle is neither a node nor an edge
     * (nothing to do). An invalid profile removes what the graph held for that RID, because the
     * cache now holds a bundle `generate()` would skip.
     */
    applyWrite(bundle: Bundle): boolean;
    /** Mirrors a cache delete of `rid`. Returns false when the RID is neither a node nor an edge. */
    applyDelete(rid: RID | string): boolean;
    /** Edge RIDs of the edges this node is part of (out-edges first, as the reference). */
    getEdges(direction?: EdgeDirection): KoiNetEdge[];
    /**
     * Nodes at the other end of this node's edges, filtered by edge direction, edge status and
     * rid_types. Each neighbor appears once even when edges run both ways (the reference lists it
     * twice, which would send it every event twice).
     */
    getNeighbors(query?: NeighborQuery): KoiNetNode[];
    /** The node's profile; undefined when unknown or a placeholder. */
    getNodeProfile(rid: KoiNetNode | string): NodeProfile | undefined;
    /**
     * The edge's profile by edge RID (any valid cached edge, also a shadowed one) or by
     * (source, target) (the edge that holds that pair in the graph).
     */
    getEdgeProfile(lookup: EdgeLookup): EdgeProfile | undefined;
    /** The RID of the edge source -> target, as the reference's `get_edge`. */
    getEdge(source: KoiNetNode | string, target: KoiNetNode | string): KoiNetEdge | undefined;
    hasNode(rid: KoiNetNode | string): boolean;
    toJSON(): NetworkGraphSnapshot;
    private edgeKey;
    /** O(degree of this node): graphology keeps per-node adjacency. */
    private ownEdges;
    private upsertNode;
    private deleteNode;
    /** Drops a placeholder nobody references any more. */
    private pruneNode;
    private ensureNode;
    private upsertEdge;
    private deleteEdge;
    /** Removes one edge RID from the index and re-decides its old pair. */
    private detachEdge;
    /** Puts the winning edge of a (source, target) pair into the graph. O(edges of that pair). */
    private syncPair;
}

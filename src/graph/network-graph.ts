import graphology from 'graphology';
import type { DirectedGraph as DirectedGraphType } from 'graphology';
import { KoiNetEdge, KoiNetNode, RID, RIDType, KOI_NET_EDGE_TYPE, KOI_NET_NODE_TYPE } from '../rid/index.ts';
import type { Bundle } from '../knowledge/index.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import { parseEdgeProfile, parseNodeProfile } from '../protocol/index.ts';
import type { EdgeProfile, EdgeStatus, NodeProfile } from '../protocol/index.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { errorText } from '../util/error-text.ts';

// graphology ships CommonJS as `main` without an `exports` map, so Node's ESM loader only exposes
// the default export; the named classes hang off it.
const { DirectedGraph } = graphology;

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

export type EdgeLookup = { rid: KoiNetEdge | string } | { source: KoiNetNode | string; target: KoiNetNode | string };

/** Deterministic, order-independent view of the graph, for tests and debugging. */
export interface NetworkGraphSnapshot {
  nodes: { rid: string; profile: NodeProfile | null }[];
  edges: { rid: string; source: string; target: string; profile: EdgeProfile }[];
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
export class NetworkGraph {
  readonly identityRid: KoiNetNode;
  private readonly graph: DirectedGraphType<GraphNodeAttributes, GraphEdgeAttributes>;
  /** Every valid cached edge, including shadowed ones, by edge RID string. */
  private readonly edgesByRid = new Map<string, GraphEdgeAttributes>();
  /** Edge RIDs per `source\ntarget` pair (usually one). */
  private readonly edgesByPair = new Map<string, Set<string>>();
  private readonly logger: Logger;

  constructor(
    private readonly cache: KnowledgeStore,
    identityRid: KoiNetNode | string,
    options: NetworkGraphOptions = {},
  ) {
    this.identityRid = toNodeRid(identityRid, 'identity RID');
    this.logger = options.logger ?? silentLogger;
    this.graph = new DirectedGraph<GraphNodeAttributes, GraphEdgeAttributes>({ allowSelfLoops: true });
  }

  /**
   * The underlying graphology graph (the seed's `dg`), for analyses the query methods do not cover
   * (paths, centrality, ...). Read it; do not mutate it: the graph follows the cache incrementally.
   */
  get dg(): Readonly<DirectedGraphType<GraphNodeAttributes, GraphEdgeAttributes>> {
    return this.graph;
  }

  get nodeCount(): number {
    return this.graph.order;
  }

  get edgeCount(): number {
    return this.graph.size;
  }

  /** Rebuilds the whole graph from the cached node and edge bundles. */
  async generate(): Promise<void> {
    this.graph.clear();
    this.edgesByRid.clear();
    this.edgesByPair.clear();
    const rids = this.cache.listRids([KOI_NET_NODE_TYPE, KOI_NET_EDGE_TYPE]);
    for (const rid of rids) {
      const bundle = await this.cache.read(rid);
      if (!bundle) {
        // Listed but gone: deleted between the listing and the read.
        this.logger.warn({ rid: String(rid) }, 'cached node/edge bundle vanished while generating the graph');
        continue;
      }
      this.applyWrite(bundle);
    }
    this.logger.debug({ nodes: this.nodeCount, edges: this.edgeCount }, 'network graph generated');
  }

  /**
   * Mirrors a cache write of `bundle`. Returns false when the bundle is neither a node nor an edge
   * (nothing to do). An invalid profile removes what the graph held for that RID, because the
   * cache now holds a bundle `generate()` would skip.
   */
  applyWrite(bundle: Bundle): boolean {
    const rid = bundle.rid;
    if (rid instanceof KoiNetNode || isType(rid, KOI_NET_NODE_TYPE)) {
      const nodeRid = toNodeRid(rid, 'node bundle RID');
      let profile: NodeProfile;
      try {
        profile = parseNodeProfile(bundle.contents);
      } catch (err) {
        this.logger.warn({ rid: String(rid), err: errorText(err) }, 'skipping node bundle with an invalid profile');
        this.deleteNode(nodeRid.toString());
        return true;
      }
      this.upsertNode(nodeRid, profile);
      return true;
    }
    if (rid instanceof KoiNetEdge || isType(rid, KOI_NET_EDGE_TYPE)) {
      const edgeRid = rid instanceof KoiNetEdge ? rid : (RID.fromString(String(rid)) as KoiNetEdge);
      let profile: EdgeProfile;
      let source: KoiNetNode;
      let target: KoiNetNode;
      try {
        profile = parseEdgeProfile(bundle.contents);
        // The reference types both ends as KoiNetNode; an edge to anything else is invalid there.
        source = toNodeRid(profile.source, 'edge source');
        target = toNodeRid(profile.target, 'edge target');
      } catch (err) {
        this.logger.warn({ rid: String(rid), err: errorText(err) }, 'skipping edge bundle with an invalid profile');
        this.deleteEdge(edgeRid.toString());
        return true;
      }
      this.upsertEdge({ rid: edgeRid, profile, timeMicros: bundle.manifest.timeMicros }, source, target);
      return true;
    }
    return false;
  }

  /** Mirrors a cache delete of `rid`. Returns false when the RID is neither a node nor an edge. */
  applyDelete(rid: RID | string): boolean {
    const key = String(rid);
    const parsed = typeof rid === 'string' ? RID.fromString(rid) : rid;
    if (isType(parsed, KOI_NET_NODE_TYPE)) {
      this.deleteNode(key);
      return true;
    }
    if (isType(parsed, KOI_NET_EDGE_TYPE)) {
      this.deleteEdge(key);
      return true;
    }
    return false;
  }

  /** Edge RIDs of the edges this node is part of (out-edges first, as the reference). */
  getEdges(direction?: EdgeDirection): KoiNetEdge[] {
    return this.ownEdges(direction).map((e) => e.rid);
  }

  /**
   * Nodes at the other end of this node's edges, filtered by edge direction, edge status and
   * rid_types. Each neighbor appears once even when edges run both ways (the reference lists it
   * twice, which would send it every event twice).
   */
  getNeighbors(query: NeighborQuery = {}): KoiNetNode[] {
    const me = this.identityRid.toString();
    const allowed = query.allowedType === undefined ? undefined : String(query.allowedType);
    const seen = new Set<string>();
    const neighbors: KoiNetNode[] = [];
    for (const edge of this.ownEdges(query.direction)) {
      if (query.status !== undefined && edge.profile.status !== query.status) continue;
      if (allowed !== undefined && !edge.profile.rid_types.some((t) => String(t) === allowed)) continue;
      const other = edge.profile.target === me ? edge.profile.source : edge.profile.target;
      if (seen.has(other)) continue;
      seen.add(other);
      neighbors.push(this.graph.getNodeAttribute(other, 'rid'));
    }
    return neighbors;
  }

  /** The node's profile; undefined when unknown or a placeholder. */
  getNodeProfile(rid: KoiNetNode | string): NodeProfile | undefined {
    const key = String(rid);
    if (!this.graph.hasNode(key)) return undefined;
    return this.graph.getNodeAttribute(key, 'profile') ?? undefined;
  }

  /**
   * The edge's profile by edge RID (any valid cached edge, also a shadowed one) or by
   * (source, target) (the edge that holds that pair in the graph).
   */
  getEdgeProfile(lookup: EdgeLookup): EdgeProfile | undefined {
    if ('rid' in lookup) return this.edgesByRid.get(String(lookup.rid))?.profile;
    const key = this.edgeKey(lookup.source, lookup.target);
    return key === undefined ? undefined : this.graph.getEdgeAttribute(key, 'profile');
  }

  /** The RID of the edge source -> target, as the reference's `get_edge`. */
  getEdge(source: KoiNetNode | string, target: KoiNetNode | string): KoiNetEdge | undefined {
    const key = this.edgeKey(source, target);
    return key === undefined ? undefined : this.graph.getEdgeAttribute(key, 'rid');
  }

  hasNode(rid: KoiNetNode | string): boolean {
    return this.graph.hasNode(String(rid));
  }

  toJSON(): NetworkGraphSnapshot {
    const nodes = this.graph
      .mapNodes((key, attrs) => ({ rid: key, profile: attrs.profile }))
      .sort((a, b) => compareStrings(a.rid, b.rid));
    const edges = this.graph
      .mapEdges((key, attrs, source, target) => ({ rid: key, source, target, profile: attrs.profile }))
      .sort((a, b) => compareStrings(a.rid, b.rid));
    const shadowedEdges = [...this.edgesByRid.keys()].filter((k) => !this.graph.hasEdge(k)).sort(compareStrings);
    return { nodes, edges, shadowedEdges };
  }

  // --- internals -------------------------------------------------------------------------------

  private edgeKey(source: KoiNetNode | string, target: KoiNetNode | string): string | undefined {
    const s = String(source);
    const t = String(target);
    if (!this.graph.hasNode(s) || !this.graph.hasNode(t)) return undefined;
    return this.graph.edge(s, t);
  }

  /** O(degree of this node): graphology keeps per-node adjacency. */
  private ownEdges(direction?: EdgeDirection): GraphEdgeAttributes[] {
    const me = this.identityRid.toString();
    if (!this.graph.hasNode(me)) return [];
    const out: GraphEdgeAttributes[] = [];
    if (direction !== 'in') this.graph.forEachOutEdge(me, (_k, attrs) => void out.push(attrs));
    if (direction !== 'out') {
      this.graph.forEachInEdge(me, (_k, attrs, source, target) => {
        // A self-loop is both an out- and an in-edge; list it once.
        if (direction === undefined && source === target) return;
        out.push(attrs);
      });
    }
    return out;
  }

  private upsertNode(rid: KoiNetNode, profile: NodeProfile): void {
    const key = rid.toString();
    if (this.graph.hasNode(key)) this.graph.setNodeAttribute(key, 'profile', profile);
    else this.graph.addNode(key, { rid, profile });
  }

  private deleteNode(key: string): void {
    if (!this.graph.hasNode(key)) return;
    this.graph.setNodeAttribute(key, 'profile', null);
    this.pruneNode(key);
  }

  /** Drops a placeholder nobody references any more. */
  private pruneNode(key: string): void {
    if (!this.graph.hasNode(key)) return;
    if (this.graph.getNodeAttribute(key, 'profile') !== null) return;
    if (this.graph.degree(key) > 0) return;
    this.graph.dropNode(key);
  }

  private ensureNode(rid: KoiNetNode): void {
    const key = rid.toString();
    if (!this.graph.hasNode(key)) this.graph.addNode(key, { rid, profile: null });
  }

  private upsertEdge(edge: GraphEdgeAttributes, source: KoiNetNode, target: KoiNetNode): void {
    const key = edge.rid.toString();
    const previous = this.edgesByRid.get(key);
    if (previous) this.detachEdge(key, previous);
    this.edgesByRid.set(key, edge);
    const pair = pairKey(edge.profile.source, edge.profile.target);
    let members = this.edgesByPair.get(pair);
    if (!members) this.edgesByPair.set(pair, (members = new Set()));
    members.add(key);
    this.syncPair(source, target, members);
  }

  private deleteEdge(key: string): void {
    const previous = this.edgesByRid.get(key);
    if (!previous) return;
    this.detachEdge(key, previous);
  }

  /** Removes one edge RID from the index and re-decides its old pair. */
  private detachEdge(key: string, edge: GraphEdgeAttributes): void {
    this.edgesByRid.delete(key);
    const pair = pairKey(edge.profile.source, edge.profile.target);
    const members = this.edgesByPair.get(pair);
    members?.delete(key);
    if (!members || members.size === 0) {
      this.edgesByPair.delete(pair);
      if (this.graph.hasEdge(key)) this.graph.dropEdge(key);
      this.pruneNode(edge.profile.source);
      this.pruneNode(edge.profile.target);
      return;
    }
    const source = toNodeRid(edge.profile.source, 'edge source');
    const target = toNodeRid(edge.profile.target, 'edge target');
    this.syncPair(source, target, members);
  }

  /** Puts the winning edge of a (source, target) pair into the graph. O(edges of that pair). */
  private syncPair(source: KoiNetNode, target: KoiNetNode, members: Set<string>): void {
    let winner: GraphEdgeAttributes | undefined;
    for (const k of members) {
      const candidate = this.edgesByRid.get(k);
      if (candidate && (!winner || beats(candidate, winner))) winner = candidate;
    }
    if (!winner) return;
    const s = source.toString();
    const t = target.toString();
    this.ensureNode(source);
    this.ensureNode(target);
    const current = this.graph.edge(s, t);
    const winnerKey = winner.rid.toString();
    if (current === winnerKey) {
      this.graph.replaceEdgeAttributes(current, winner);
      return;
    }
    if (current !== undefined) this.graph.dropEdge(current);
    this.graph.addDirectedEdgeWithKey(winnerKey, s, t, winner);
  }
}

function beats(a: GraphEdgeAttributes, b: GraphEdgeAttributes): boolean {
  if (a.timeMicros !== b.timeMicros) return a.timeMicros > b.timeMicros;
  return compareStrings(a.rid.toString(), b.rid.toString()) > 0;
}

function pairKey(source: string, target: string): string {
  // RID strings never contain a newline, so this cannot collide.
  return `${source}\n${target}`;
}

/** Code-unit order, so snapshots sort the same everywhere (localeCompare depends on ICU). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isType(rid: RID, type: RIDType): boolean {
  return rid.type.toString() === type.toString();
}

function toNodeRid(value: KoiNetNode | RID | string, what: string): KoiNetNode {
  if (value instanceof KoiNetNode) return value;
  const rid = RID.fromString(String(value));
  if (!(rid instanceof KoiNetNode)) throw new TypeError(`${what} is not a node RID: ${String(value)}`);
  return rid;
}


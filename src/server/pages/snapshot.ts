/**
 * What the pages know about a node, gathered in one place so the HTML page, /status.json and
 * /health show the same facts. Only RIDs, RID types, node types, edge status/type and counts are
 * taken: bundle contents (data, base URLs, public keys) never reach a page.
 */
import { packageVersion } from '../../package-files.ts';
import type { NodeView } from '../node-view.ts';
import { errorText } from '../../util/error-text.ts';

/** 'starting': the server listens but the node is not initialized yet (no RID to show). */
export type HealthStatus = 'ok' | 'degraded' | 'starting';

/** The wire protocol: 'unsigned' = koi-net 1.0.x bodies, 'signed' = koi-net 1.1+/2.x envelopes, 'both' = either, per request. */
export type WireProtocol = 'unsigned' | 'signed' | 'both';

/** What a knowledge store may report about itself (an optional method, checked structurally). */
export interface StoreHealth {
  status: 'ok' | 'degraded';
  pendingWrites?: number;
  lastError?: string;
}

/** GET /koi-net/health. */
export interface HealthReport {
  status: HealthStatus;
  /** This node's RID; null while starting. */
  rid: string | null;
  /** FULL or PARTIAL; null while starting. */
  node_type: string | null;
  /** Seconds since the server started, millisecond precision. */
  uptime_s: number;
  protocol: WireProtocol;
  /** Version of this koi-net package. */
  version: string;
  /** The knowledge store: 'ok' unless it reports failed writes (then the node is 'degraded'). */
  store: { status: 'ok' | 'degraded' | 'unknown'; pending_writes?: number; last_error?: string };
}

export interface SnapshotNode {
  rid: string;
  /** null: an edge names this node but its node bundle is not cached. */
  node_type: string | null;
  self: boolean;
  /** Status of the best edge between this node and self (APPROVED over PROPOSED); null if none. */
  link: string | null;
}

export interface SnapshotEdge {
  rid: string;
  source: string;
  target: string;
  status: string;
  edge_type: string;
  rid_types: string[];
}

export interface PeerState {
  rid: string;
  webhook_queued: number;
  webhook_inflight: number;
  poll_queued: number;
  dropped: number;
  deliveries: number;
  delivered_events: number;
  failures: number;
  consecutive_failures: number;
  retry_in_ms: number;
  last_error?: string;
}

/** GET /koi-net/status.json; the status page renders the same object. */
export interface NodeSnapshot {
  health: HealthReport;
  generated_at: string;
  /** Neighbours: nodes at the other end of an edge of this node. */
  neighbours: SnapshotNode[];
  graph: { nodes: SnapshotNode[]; edges: SnapshotEdge[]; truncated: boolean };
  peers: PeerState[];
  cache: { total: number; by_type: Record<string, number> };
}

/** Cap on what one page lists or draws, so a huge graph cannot make the page unusable. */
export const MAX_GRAPH_NODES = 200;
export const MAX_GRAPH_EDGES = 1000;
/** Error texts are shown shortened: they are for a glance, the log has the rest. */
const MAX_ERROR_CHARS = 200;

const LINK_RANK: Record<string, number> = { APPROVED: 2, PROPOSED: 1 };

/** The part of a node the pages show. */
export type PagesNode = Pick<NodeView, 'initialized' | 'protocol' | 'identity' | 'cache' | 'graph' | 'queues' | 'network'>;

export interface SnapshotSource {
  node: PagesNode;
  /** performance.now() when the server started. */
  startedAt: number;
}

export function healthOf({ node, startedAt }: SnapshotSource): HealthReport {
  const base = {
    uptime_s: Math.round(performance.now() - startedAt) / 1000,
    protocol: node.protocol,
    version: PACKAGE_VERSION,
  };
  if (!node.initialized) return { status: 'starting', rid: null, node_type: null, ...base, store: { status: 'unknown' } };
  const store = storeHealth(node.cache);
  return {
    status: store.status === 'degraded' ? 'degraded' : 'ok',
    rid: String(node.identity.rid),
    node_type: String(node.identity.profile.node_type),
    ...base,
    store,
  };
}

/** Calls the store's optional `health()` if it has one; a throwing probe counts as degraded. */
function storeHealth(cache: object): HealthReport['store'] {
  const probe = (cache as { health?: unknown }).health;
  if (typeof probe !== 'function') return { status: 'ok' };
  try {
    const h = probe.call(cache) as Partial<StoreHealth> | undefined;
    const status = h?.status === 'degraded' ? 'degraded' : 'ok';
    return {
      status,
      ...(typeof h?.pendingWrites === 'number' ? { pending_writes: h.pendingWrites } : {}),
      ...(typeof h?.lastError === 'string' ? { last_error: shorten(h.lastError) } : {}),
    };
  } catch (err) {
    return { status: 'degraded', last_error: shorten(errorText(err)) };
  }
}

export function snapshotOf(source: SnapshotSource): NodeSnapshot {
  const health = healthOf(source);
  const generated_at = new Date().toISOString();
  if (!source.node.initialized) {
    return { health, generated_at, neighbours: [], graph: { nodes: [], edges: [], truncated: false }, peers: [], cache: { total: 0, by_type: {} } };
  }
  const { node } = source;
  const me = String(node.identity.rid);
  const whole = node.graph.toJSON();

  // Edges touching self first, so a cap never hides this node's own edges.
  const ownFirst = [...whole.edges].sort((a, b) => Number(b.source === me || b.target === me) - Number(a.source === me || a.target === me));
  const edges: SnapshotEdge[] = ownFirst.slice(0, MAX_GRAPH_EDGES).map((e) => ({
    rid: e.rid,
    source: e.source,
    target: e.target,
    status: String(e.profile.status),
    edge_type: String(e.profile.edge_type),
    rid_types: e.profile.rid_types.map(String),
  }));

  const link = new Map<string, string>();
  for (const e of edges) {
    if (e.source !== me && e.target !== me) continue;
    const other = e.source === me ? e.target : e.source;
    const prev = link.get(other);
    if (prev === undefined || (LINK_RANK[e.status] ?? 0) > (LINK_RANK[prev] ?? 0)) link.set(other, e.status);
  }
  const toNode = (rid: string, nodeType: string | null): SnapshotNode => ({ rid, node_type: nodeType, self: rid === me, link: rid === me ? null : (link.get(rid) ?? null) });
  const byRid = new Map(whole.nodes.map((n) => [n.rid, n.profile ? String(n.profile.node_type) : null]));
  if (!byRid.has(me)) byRid.set(me, String(node.identity.profile.node_type));

  // Self, then neighbours, then the rest; all in RID order so the drawing is stable between refreshes.
  const rank = (rid: string): number => (rid === me ? 0 : link.has(rid) ? 1 : 2);
  const ordered = [...byRid.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const kept = ordered.slice(0, MAX_GRAPH_NODES);
  const keptSet = new Set(kept);
  const nodes = kept.map((rid) => toNode(rid, byRid.get(rid) ?? null));
  const drawnEdges = edges.filter((e) => keptSet.has(e.source) && keptSet.has(e.target));
  const neighbours = ordered.filter((rid) => link.has(rid)).map((rid) => toNode(rid, byRid.get(rid) ?? null));

  return {
    health,
    generated_at,
    neighbours,
    graph: { nodes, edges: drawnEdges, truncated: kept.length < ordered.length || edges.length < whole.edges.length },
    peers: peerStates(node),
    cache: cacheCounts(node),
  };
}

function peerStates(node: PagesNode): PeerState[] {
  const depths = node.queues.depths();
  const stats = node.network.deliveryStats();
  const peers = new Set([...Object.keys(depths.webhook), ...Object.keys(depths.poll), ...Object.keys(depths.webhookInflight), ...Object.keys(stats)]);
  const dropped = (rid: string): number => (depths.dropped[`webhook:${rid}`] ?? 0) + (depths.dropped[`poll:${rid}`] ?? 0);
  return [...peers].sort().map((rid) => {
    const s = stats[rid];
    return {
      rid,
      webhook_queued: depths.webhook[rid] ?? 0,
      webhook_inflight: depths.webhookInflight[rid] ?? 0,
      poll_queued: depths.poll[rid] ?? 0,
      dropped: dropped(rid),
      deliveries: s?.deliveries ?? 0,
      delivered_events: s?.deliveredEvents ?? 0,
      failures: s?.failures ?? 0,
      consecutive_failures: s?.consecutiveFailures ?? 0,
      retry_in_ms: s?.retryInMs ?? 0,
      ...(s?.lastError !== undefined ? { last_error: shorten(redactAddresses(s.lastError)) } : {}),
    };
  });
}

/**
 * Counting walks every RID (100k at a large node) and each open status page asks every 3 s, so the
 * counts are kept per store until its generation moves (stores without one are counted each time).
 */
const keptCounts = new WeakMap<object, { generation: number; counts: NodeSnapshot['cache'] }>();

function cacheCounts(node: PagesNode): NodeSnapshot['cache'] {
  const store = node.cache;
  const generation = store.generation;
  const kept = keptCounts.get(store);
  if (generation !== undefined && kept?.generation === generation) return kept.counts;
  const by_type: Record<string, number> = {};
  let total = 0;
  for (const rid of store.listRids()) {
    const type = rid.type.toString();
    by_type[type] = (by_type[type] ?? 0) + 1;
    total++;
  }
  const counts = { total, by_type: Object.fromEntries(Object.entries(by_type).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
  if (generation !== undefined) keptCounts.set(store, { generation, counts });
  return counts;
}

/**
 * Delivery errors name the peer's URL ("cannot reach http://...") and socket address; those come
 * from the peer's profile (bundle contents), so the pages keep only the reason.
 */
export function redactAddresses(text: string): string {
  return text
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, '<url>')
    .replace(/\[[0-9a-f:.]+\](?::\d+)?|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?/gi, '<address>');
}

function shorten(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

export const PACKAGE_VERSION = packageVersion();

import type { NodeInterface } from '../../node.ts';
/** 'starting': the server listens but the node is not initialized yet (no RID to show). */
export type HealthStatus = 'ok' | 'degraded' | 'starting';
/** The wire protocol: 'unsigned' = koi-net 1.0.x bodies, 'signed' = koi-net 1.1+/2.x envelopes. */
export type WireProtocol = 'unsigned' | 'signed';
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
    store: {
        status: 'ok' | 'degraded' | 'unknown';
        pending_writes?: number;
        last_error?: string;
    };
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
    graph: {
        nodes: SnapshotNode[];
        edges: SnapshotEdge[];
        truncated: boolean;
    };
    peers: PeerState[];
    cache: {
        total: number;
        by_type: Record<string, number>;
    };
}
/** Cap on what one page lists or draws, so a huge graph cannot make the page unusable. */
export declare const MAX_GRAPH_NODES = 200;
export declare const MAX_GRAPH_EDGES = 1000;
export interface SnapshotSource {
    node: NodeInterface;
    /** performance.now() when the server started. */
    startedAt: number;
}
export declare function healthOf({ node, startedAt }: SnapshotSource): HealthReport;
export declare function snapshotOf(source: SnapshotSource): NodeSnapshot;
/**
 * Delivery errors name the peer's URL ("cannot reach http://...") and socket address; those come
 * from the peer's profile (bundle contents), so the pages keep only the reason.
 */
export declare function redactAddresses(text: string): string;
export declare const PACKAGE_VERSION: string;

import { KoiNetNode, RID, RIDType } from '../rid/index.ts';
import { type Bundle, type Event, type Manifest } from '../knowledge/index.ts';
import type { KnowledgeStore } from '../cache/index.ts';
import type { NodeProfile } from '../protocol/index.ts';
import { type Logger } from '../logger.ts';
import type { NetworkGraph } from './graph.ts';
import type { EventQueues } from './queues.ts';
import { RequestHandler } from './request-handler.ts';
import { ResponseHandler } from './response-handler.ts';
export interface NetworkInterfaceOptions {
    cache: KnowledgeStore;
    identity: {
        rid: KoiNetNode;
        profile: NodeProfile;
    };
    graph: NetworkGraph;
    queues: EventQueues;
    /** Default: one on `graph` with default timeout. */
    requestHandler?: RequestHandler;
    /** Default: one on `cache`. */
    responseHandler?: ResponseHandler;
    /** Base URL (…/koi-net) polled while this node has no neighbor to poll. */
    firstContact?: string | undefined;
    /** Backoff of webhook deliveries that failed (see RetryPolicy). */
    retry?: Partial<RetryPolicy>;
    logger?: Logger;
}
/**
 * After a failed webhook delivery (connection error, timeout, 5xx or any other retryable answer)
 * the peer is left alone for min(maxDelayMs, baseDelayMs * 2^(failures-1)), shortened by a random
 * fraction up to `jitter` so that peers that failed together do not all retry together.
 */
export interface RetryPolicy {
    baseDelayMs: number;
    maxDelayMs: number;
    /** 0..1; 0.5 = the delay is between 50% and 100% of the exponential value. */
    jitter: number;
    /** Source of randomness in [0, 1) (tests pass a fixed one). */
    random: () => number;
}
export declare const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy>;
/** Webhook delivery counters of one peer since this process started. */
export interface PeerDeliveryStats {
    /** Batches delivered (2xx). */
    deliveries: number;
    /** Events in those batches. */
    deliveredEvents: number;
    /** Delivery attempts that failed and were requeued. */
    failures: number;
    /** Attempts made while the previous one had failed: the retries observed. */
    retries: number;
    /** Batches a peer refused for good (400/413/422), dropped. */
    refusedBatches: number;
    /** Failures since the last success; 0 when healthy. */
    consecutiveFailures: number;
    /** Milliseconds until the backoff ends; 0 = may be flushed now. */
    retryInMs: number;
    /** Events waiting in its webhook queue. */
    queued: number;
    lastError?: string;
}
/** Which queue an event went to; undefined when the target cannot be served at all. */
export type QueueKind = 'webhook' | 'poll';
/** A polled event and where it came from: the neighbor's node RID, or the first-contact URL. */
export interface SourcedEvent {
    event: Event;
    source: string;
}
/** Events per webhook request: a long queue goes out in several requests, in order. */
export declare const MAX_EVENTS_PER_DELIVERY = 500;
/**
 * High-level network actions of a node (the seed's NetworkInterface): queueing events for peers,
 * delivering webhook queues, polling neighbors, and fetching state from providers. Remote failures
 * never escape as exceptions from the delivery and fetch helpers: a peer that is down, answers an
 * error, or answers garbage is logged and skipped, because one bad peer must not stop the node.
 */
export declare class NetworkInterface {
    readonly cache: KnowledgeStore;
    readonly identity: {
        rid: KoiNetNode;
        profile: NodeProfile;
    };
    readonly graph: NetworkGraph;
    readonly queues: EventQueues;
    readonly requestHandler: RequestHandler;
    readonly responseHandler: ResponseHandler;
    readonly firstContact: string | undefined;
    private readonly logger;
    /**
     * Nodes already warned about as unreachable. Every processed kobj wakes all webhook queues,
     * so without this a queue for, say, a PARTIAL node would log a warning per kobj.
     */
    private readonly warnedUnreachable;
    private readonly retryPolicy;
    private readonly peers;
    /** One delivery loop per webhook peer (see PeerWorker). */
    private readonly workers;
    /** The last flushAllWebhookQueues answer and what it waits for, reused while nothing changed. */
    private lastFlushAll;
    private closed;
    constructor(options: NetworkInterfaceOptions);
    /**
     * Queues `event` for `node`. An edge from this node to the target decides the queue by its
     * edge_type; without one, FULL nodes get webhook delivery and PARTIAL nodes poll. A target with
     * neither edge nor known profile cannot be served: the event is dropped with a warning (the
     * reference crashes here).
     */
    pushEventTo(event: Event, node: KoiNetNode | string, flush?: boolean): Promise<QueueKind | undefined>;
    /** Drains `node`'s poll queue (oldest first); limit 0 = everything. */
    flushPollQueue(node: KoiNetNode | string, limit?: number): Promise<Event[]>;
    /**
     * Sends `node`'s webhook queue to its base_url now, whatever its backoff (an explicit request).
     * Resolves with the outcome of one delivery attempt that starts after this call: true when the
     * queue was delivered (or empty). On a failure the batch goes back to the front of the queue in
     * its order and the peer's backoff grows. Deliveries of one peer run one at a time in its own
     * loop, so two concurrent flushes can never deliver out of order.
     */
    flushWebhookQueue(node: KoiNetNode | string): Promise<boolean>;
    /**
     * Wakes the delivery loop of every peer with queued webhook events that is not backing off, and
     * resolves once each of them has made one delivery attempt that started after this call: so
     * every event queued before the call has been offered to every healthy peer. Peers in backoff
     * are skipped (their own timer wakes them when it ends); an attempt that fails and backs off
     * ends its wait. Each peer's attempt runs in that peer's loop with its own request timeout, so
     * a hung or slow peer can make this promise wait (up to the request timeout) but never delays
     * another peer's events. The processor calls it after every fan-out without waiting on it.
     */
    flushAllWebhookQueues(): Promise<void>;
    /**
     * The same as flushAllWebhookQueues (due peers only). Each peer's loop also has its own retry
     * timer, so a library user without NodeInterface's timer still gets retries.
     */
    flushDueWebhookQueues(): Promise<void>;
    /** Resolves when no webhook delivery attempt is running. */
    deliveriesIdle(): Promise<void>;
    /**
     * Stops the delivery loops (for shutdown): no new attempt starts, backoff timers are cleared, and
     * this resolves once the attempts already running have ended. Undelivered events stay queued.
     */
    close(): Promise<void>;
    /** Per-peer delivery counters, keyed by node RID (peers with a queue or any delivery so far). */
    deliveryStats(): Record<string, PeerDeliveryStats>;
    /** Known FULL nodes (other than this one) whose profile lists `ridType` in provides.state. */
    getStateProviders(ridType: RIDType | string): Promise<KoiNetNode[]>;
    /** Asks each state provider of the RID's type in turn; undefined when none has it. */
    fetchRemoteBundle(rid: RID | string): Promise<Bundle | undefined>;
    /** As fetchRemoteBundle, for the manifest only. */
    fetchRemoteManifest(rid: RID | string): Promise<Manifest | undefined>;
    /**
     * The answer is matched by RID rather than taking [0] (a confused peer may answer with something
     * else), and a provider that fails is logged and skipped: a peer's garbage never ends the search.
     */
    private askStateProviders;
    /** The seed's poll_neighbors: the events only. */
    pollNeighbors(): Promise<Event[]>;
    /**
     * Polls every FULL neighbor that has an edge to this node (it is the event source); while there
     * is none, polls the first-contact URL instead, so a freshly introduced node hears the answer to
     * its handshake. Peers are polled concurrently; the result keeps neighbor order. A peer that
     * fails is logged and skipped.
     */
    pollNeighborsWithSources(): Promise<SourcedEvent[]>;
    private chooseQueue;
    private deliverWebhookQueue;
    /** One POST of `events`: delivered, refused for good (dropped), or failed (requeued, backoff). */
    private deliverBatch;
    /** FORGET + NEW of this node's cached bundle (empty when our own bundle is not cached yet). */
    private handshakeEvents;
    private backoffMs;
    private peerState;
    private worker;
    /** Asks `worker` for one more attempt; resolves with its outcome (false when it backs off instead). */
    private requestAttempt;
    /**
     * The peer's delivery loop: runs while someone asked for an attempt, one attempt at a time, each
     * draining the queue in bounded batches. It never waits for another peer, and it ends (instead
     * of sleeping) when nothing is asked or the peer is backing off; a backoff timer wakes it again.
     */
    private runWorker;
    private armRetry;
}

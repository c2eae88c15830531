import type { NodeProfile } from '../protocol/index.ts';
import { KoiNetNode, RID, RIDType } from '../rid/index.ts';
import { Bundle, Event, Manifest } from '../knowledge/index.ts';
import type { EventWire } from '../knowledge/index.ts';
import { type Logger } from '../logger.ts';
import { type NodeKeyPair } from '../secure/index.ts';
/**
 * Who a request goes to: a known node (resolved through the graph) or a raw base URL (`…/koi-net`).
 * In the signed protocol a URL alone is not enough (the envelope names its target node), so a URL
 * target may carry the node RID too, as the reference's first-contact config does.
 */
export type RequestTarget = {
    node: KoiNetNode | string;
} | {
    url: string;
    node?: KoiNetNode | string;
};
/** The signed protocol (koi-net 1.1+): who we are and how we sign. */
export interface SignedClientOptions {
    keyPair: NodeKeyPair;
    self: KoiNetNode;
    /** Node RIDs known for bare URLs (the first contact), for targets given by URL only. */
    urlNodes?: ReadonlyMap<string, KoiNetNode>;
}
/** The part of NetworkGraph the request handler needs; a narrow seam so tests can stub it. */
export interface NodeProfileSource {
    getNodeProfile(rid: KoiNetNode): NodeProfile | undefined | Promise<NodeProfile | undefined>;
}
export interface RequestHandlerOptions {
    graph: NodeProfileSource;
    logger?: Logger;
    /** Per request, connect through last body byte. Default 10 s. */
    timeoutMs?: number | undefined;
    /** Speak the signed protocol; absent = unsigned 1.0.x. */
    signed?: SignedClientOptions | undefined;
}
export interface BroadcastEventsRequest {
    events: readonly (Event | EventWire)[];
}
export interface PollEventsRequest {
    rid: KoiNetNode | RID | string;
    limit?: number;
}
export interface FetchRidsRequest {
    rid_types?: readonly (RIDType | string)[];
}
export interface FetchManifestsRequest {
    rid_types?: readonly (RIDType | string)[];
    rids?: readonly (RID | string)[];
}
export interface FetchBundlesRequest {
    rids: readonly (RID | string)[];
}
export interface EventsResult {
    events: Event[];
}
export interface RidsResult {
    rids: RID[];
}
export interface ManifestsResult {
    manifests: Manifest[];
    notFound: RID[];
}
export interface BundlesResult {
    bundles: Bundle[];
    notFound: RID[];
    deferred: RID[];
}
/**
 * Makes the five KOI-net requests to other nodes over the generated, typed client. Every failure
 * surfaces as one of four error classes, so callers (network interface, poller) can decide
 * retry-or-drop by class alone: UnreachableNodeError (we should not even try), RemoteConnectionError
 * (transport or timeout: retryable), RemoteHTTPError (peer answered non-2xx), and
 * RemoteResponseInvalidError (peer answered 2xx with a body that breaks the contract).
 */
export declare class RequestHandler {
    readonly timeoutMs: number;
    private readonly graph;
    private readonly logger;
    private readonly clients;
    private readonly signed;
    constructor(options: RequestHandlerOptions);
    /** The base URL a target resolves to; throws UnreachableNodeError with the reason when it cannot. */
    resolveBaseUrl(target: RequestTarget): Promise<string>;
    broadcastEvents(target: RequestTarget, req: BroadcastEventsRequest): Promise<void>;
    pollEvents(target: RequestTarget, req: PollEventsRequest): Promise<EventsResult>;
    fetchRids(target: RequestTarget, req?: FetchRidsRequest): Promise<RidsResult>;
    fetchManifests(target: RequestTarget, req?: FetchManifestsRequest): Promise<ManifestsResult>;
    fetchBundles(target: RequestTarget, req: FetchBundlesRequest): Promise<BundlesResult>;
    /** The node RID a signed envelope to `target` is addressed to. */
    private signedTargetNode;
    /**
     * Signed protocol: POSTs the payload as an envelope to the target node and returns the verified
     * answer's payload (null for broadcasts, which answer nothing). A 400 error_response becomes
     * RemoteProtocolError; an answer that does not verify is a contract break by the peer.
     */
    private postSigned;
    private client;
    /**
     * POSTs JSON and returns the parsed 2xx body. The body is read as text and parsed here (not by
     * openapi-fetch) so that a non-JSON answer becomes RemoteResponseInvalidError instead of a bare
     * SyntaxError, and so the timeout covers reading the body as well as connecting.
     */
    private post;
}

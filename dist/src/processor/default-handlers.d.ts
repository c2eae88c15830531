import { type KnowledgeHandler } from './handler.ts';
/**
 * RID: nobody else tells this node who it is; a FORGET counts only for an RID we hold (a FORGET of
 * something unknown has nothing to delete and nothing to announce).
 */
export declare const basicRidHandler: KnowledgeHandler;
/**
 * Manifest: only a different and strictly newer state is worth caching. Time is compared in
 * microseconds since the epoch because peers may write timestamps with any offset.
 */
export declare const basicManifestHandler: KnowledgeHandler;
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
export declare const edgeNegotiationHandler: KnowledgeHandler;
/**
 * Network: who hears about this change. Our own node and our own edges always go to the other end
 * ("involves me"); otherwise only RID types this node provides events for are announced, to each
 * subscriber whose outgoing edge asks for that type.
 */
export declare const basicNetworkOutputFilter: KnowledgeHandler;
/**
 * Bundle (nodes): the node profiles this node refuses to cache, as koi-net 2.x's secure profile
 * handler. A cached profile decides where webhooks for that node go and, in signed mode, which key
 * verifies its envelopes; so a neighbour relaying a forged profile could redirect deliveries meant
 * for another node. Dropped:
 *  - signed mode (this node's profile has a public_key): a profile whose public_key does not hash
 *    to the RID's hash (`<name>+<sha256 of the base64 key text>`), or that has none;
 *  - a profile of another node that claims this node's base_url;
 *  - external knowledge about this node's own RID (basicRidHandler drops it first; kept here so
 *    replacing the defaults piecemeal does not reopen it).
 * Unlike the reference, two partial nodes (no base_url) never match each other's "address".
 */
export declare const secureProfileHandler: KnowledgeHandler;
/**
 * Final (nodes): when a node is forgotten, so are its edges, as koi-net 2.x's forget-node handler;
 * else they stay cached and in the graph, pointing at a node nobody can reach. Each edge goes
 * through the pipeline as an internal FORGET (cache, graph, and the other end of our own edges).
 */
export declare const forgetNodeHandler: KnowledgeHandler;
/** The handlers a node has unless told otherwise, in registration order. */
export declare const defaultHandlers: readonly KnowledgeHandler[];

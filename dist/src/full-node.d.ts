/**
 * A full node: the five KOI-net endpoints wired to a NodeInterface, and a helper that serves them.
 * This is the seed's FastAPI template (broadcast -> handle as external + background flush, poll ->
 * drain the caller's poll queue, fetch -> response handler) on the Express app of src/server.
 */
import type { KoiNetHandlers } from '../generated/stubs/operations.ts';
import { type ServerLimits } from './server/app.ts';
import type { ServerTimeouts } from './server/timeouts.ts';
import type { NodeInterface } from './node.ts';
import type { Logger } from './logger.ts';
export interface NodeHandlersOptions {
    /**
     * Requests wait for this before touching the node, so the server can listen before
     * `node.initialize()` finishes (peers answering our first-contact handshake are then served).
     */
    ready?: Promise<void>;
    logger?: Logger;
}
/** The endpoint handlers plus a way to wait for the background flushes they started. */
export interface NodeHandlers extends KoiNetHandlers {
    /** Resolves when every background flush started so far has ended (for shutdown). */
    idle(): Promise<void>;
}
export declare function createNodeHandlers(node: NodeInterface, options?: NodeHandlersOptions): NodeHandlers;
export interface StartFullNodeOptions {
    host: string;
    /** 0 = any free port; the profile's base_url must then be known some other way. */
    port: number;
    /** Default `/koi-net`. */
    rootPath?: string;
    /** Largest accepted request body, express notation (`1mb`). */
    bodyLimit?: string;
    /** Check our own answers against the contract (tests). */
    validateResponses?: boolean;
    /** Events per broadcast, RIDs per fetch, events per poll answer (docs/SECURITY.md). */
    limits?: Partial<ServerLimits>;
    /** Header, request and keep-alive timeouts of the HTTP server (docs/SECURITY.md). */
    timeouts?: Partial<ServerTimeouts>;
    logger?: Logger;
}
export interface RunningFullNode {
    /** The server's base URL, e.g. `http://127.0.0.1:8000/koi-net`. */
    url: string;
    port: number;
    /** Stops accepting requests and waits for background flushes; does not finalize the node. */
    close(): Promise<void>;
}
/**
 * Serves `node` and initializes it if needed. The server listens first and requests wait until
 * initialization ends, so a first contact that answers our handshake at once is not refused.
 */
export declare function startFullNode(node: NodeInterface, options: StartFullNodeOptions): Promise<RunningFullNode>;

import { type RequestListener, type Server } from 'node:http';
import { type Express } from 'express';
import { type Logger } from '../logger.ts';
import { type KoiNetHandlers } from '../../generated/stubs/operations.ts';
import { type ServerTimeouts } from './timeouts.ts';
import type { KoiNetNode } from '../rid/index.ts';
import { type NodeKeyPair, type PublicKeyLookup } from '../secure/index.ts';
export interface KoiNetAppOptions {
    /** One async method per operation; called only with bodies that passed the contract. */
    handlers: KoiNetHandlers;
    /** Prefix of the five endpoints (default `/koi-net`); `''` or `'/'` serves them at the mount point. */
    rootPath?: string;
    /** Largest accepted request body, bytes or `'1mb'`-style (default `'1mb'`). */
    bodyLimit?: string | number;
    /** Also check handler results against the contract (a failure answers 500 and is logged). */
    validateResponses?: boolean;
    logger?: Logger;
    /** Also answer the five paths without the prefix, as 1.0.x reference nodes do. */
    alsoServeUnprefixed?: boolean;
    /** Caps on list sizes in requests and answers; each field defaults to {@link DEFAULT_SERVER_LIMITS}. */
    limits?: Partial<ServerLimits>;
    /**
     * Hand requests for paths this app does not own to the next middleware of a host app instead
     * of answering 404, so the app can be mounted in front of other routes.
     */
    passThroughUnknown?: boolean;
    /** Speak the signed protocol (koi-net 1.1+) instead of the unsigned 1.0.x bodies. */
    signed?: SignedServerOptions;
}
/**
 * What the server needs to open and answer envelopes. Getters, because the node's identity may
 * only exist once `ready` resolves (the server listens before the node is initialized).
 */
export interface SignedServerOptions {
    self: () => KoiNetNode;
    keyPair: () => NodeKeyPair;
    /** The sender's public key as this node knows it (cached node profile); may read the cache. */
    lookup: (node: KoiNetNode) => ReturnType<PublicKeyLookup> | Promise<ReturnType<PublicKeyLookup>>;
    /** Envelopes are opened only after this resolves (identity and cache loaded). */
    ready?: Promise<void>;
}
/** Per request in signed mode: who sent the envelope. Handlers get it as their second argument. */
export interface RequestContext {
    sourceNode?: KoiNetNode;
}
/**
 * Request-shape limits. The body limit alone bounds bytes, not work: a 1 MB broadcast holds ~20k
 * bare events, each one a cache read and a possible remote fetch, and a poll with `limit: 0` would
 * drain a 10k-event queue into one answer.
 */
export interface ServerLimits {
    /** Most events one `/events/broadcast` may carry; more is a 422 naming `events`. */
    maxEventsPerBroadcast: number;
    /** Most entries of `rids` (bundles/manifests fetch) and of `rid_types` (rids/manifests fetch). */
    maxRidsPerFetch: number;
    /** Most events one `/events/poll` answer holds, whatever `limit` asks (0 = "all" means this many). */
    maxEventsPerPoll: number;
}
export declare const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits>;
/** Fills in defaults and refuses nonsense early, at app creation rather than on the first request. */
export declare function resolveServerLimits(limits?: Partial<ServerLimits>): ServerLimits;
/**
 * Builds the KOI-net HTTP API as an express application (mountable with `host.use(path, app)`).
 * Pipeline: route (own table) -> raw body + JSON parse -> express-openapi-validator -> handler
 * -> one error handler that answers every failure with JSON.
 */
export declare function createKoiNetApp(options: KoiNetAppOptions): Express;
export interface StartServerOptions {
    /** Interface to bind; default `127.0.0.1`. */
    host?: string;
    /** 0 picks a free port. */
    port?: number;
    /** Header, request and keep-alive timeouts; each defaults to {@link DEFAULT_SERVER_TIMEOUTS}. */
    timeouts?: Partial<ServerTimeouts>;
}
export interface RunningServer {
    /** `http://host:port`, no trailing slash. */
    url: string;
    port: number;
    server: Server;
    /** Stops accepting, drops idle keep-alive connections, resolves when closed. */
    close(): Promise<void>;
}
/** Listens with `app`; resolves once the port is bound. */
export declare function startServer(app: RequestListener | Express, options?: StartServerOptions): Promise<RunningServer>;

/**
 * How long the server waits for slow clients. node:http's own defaults (60 s for headers, 300 s
 * for a request, checked only every 30 s) let a handful of slow clients hold connections for
 * minutes; these are tighter and checked often enough to matter.
 */
export interface ServerTimeouts {
    /** From connection (or the end of the previous request) to the last header line; 408 after. */
    headersTimeoutMs: number;
    /** From the first byte to the last body byte of one request; 408 after. Not the handler's time. */
    requestTimeoutMs: number;
    /** How long an idle keep-alive connection stays open between requests. */
    keepAliveTimeoutMs: number;
}
export declare const DEFAULT_SERVER_TIMEOUTS: Readonly<ServerTimeouts>;
/** Longest accepted value for any timeout (1 hour): a bigger one is a typo, not a choice. */
export declare const MAX_SERVER_TIMEOUT_MS = 3600000;
/** Fills in defaults and refuses nonsense at start, not on the first slow client. */
export declare function resolveServerTimeouts(timeouts?: Partial<ServerTimeouts>): ServerTimeouts;
/**
 * How often node:http looks for expired headers/request timers. They are only enforced on these
 * ticks, so the tick bounds the overshoot: a tenth of the shortest timeout, 50 ms to 1 s.
 */
export declare function checkingIntervalMs(t: ServerTimeouts): number;
/** The options node:http's createServer takes for these timeouts. */
export declare function serverTimeoutOptions(t: ServerTimeouts): {
    headersTimeout: number;
    requestTimeout: number;
    keepAliveTimeout: number;
    connectionsCheckingInterval: number;
};

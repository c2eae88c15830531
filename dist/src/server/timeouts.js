export const DEFAULT_SERVER_TIMEOUTS = Object.freeze({
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5_000,
});
/** Longest accepted value for any timeout (1 hour): a bigger one is a typo, not a choice. */
export const MAX_SERVER_TIMEOUT_MS = 3_600_000;
/** Fills in defaults and refuses nonsense at start, not on the first slow client. */
export function resolveServerTimeouts(timeouts = {}) {
    const out = { ...DEFAULT_SERVER_TIMEOUTS };
    for (const key of Object.keys(DEFAULT_SERVER_TIMEOUTS)) {
        const v = timeouts[key];
        if (v === undefined)
            continue;
        if (!Number.isSafeInteger(v) || v < 1 || v > MAX_SERVER_TIMEOUT_MS) {
            throw new RangeError(`server timeout ${key} must be an integer from 1 to ${MAX_SERVER_TIMEOUT_MS} ms, got ${String(v)}`);
        }
        out[key] = v;
    }
    // node:http refuses a headers timeout longer than the request timeout (the request includes them).
    if (out.headersTimeoutMs > out.requestTimeoutMs) {
        throw new RangeError(`server timeout headersTimeoutMs (${out.headersTimeoutMs}) must not exceed requestTimeoutMs (${out.requestTimeoutMs})`);
    }
    return out;
}
/**
 * How often node:http looks for expired headers/request timers. They are only enforced on these
 * ticks, so the tick bounds the overshoot: a tenth of the shortest timeout, 50 ms to 1 s.
 */
export function checkingIntervalMs(t) {
    return Math.min(1_000, Math.max(50, Math.floor(Math.min(t.headersTimeoutMs, t.requestTimeoutMs) / 10)));
}
/** The options node:http's createServer takes for these timeouts. */
export function serverTimeoutOptions(t) {
    return {
        headersTimeout: t.headersTimeoutMs,
        requestTimeout: t.requestTimeoutMs,
        keepAliveTimeout: t.keepAliveTimeoutMs,
        connectionsCheckingInterval: checkingIntervalMs(t),
    };
}
//# sourceMappingURL=timeouts.js.map
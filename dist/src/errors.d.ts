/**
 * Every error this library throws on purpose is a KoiNetError with a stable `name` and `code`,
 * so callers can branch on them without parsing messages, and the server can map them to HTTP
 * in one place (src/server/errors.ts).
 */
export declare class KoiNetError extends Error {
    /** Stable machine-readable code, e.g. `invalid_rid`. */
    readonly code: string;
    constructor(code: string, message: string, options?: {
        cause?: unknown;
    });
}
/** A string that cannot be an RID, or whose reference its RID type refuses. */
export declare class InvalidRIDError extends KoiNetError {
    readonly value: unknown;
    readonly reason: string;
    constructor(value: unknown, reason: string);
}
/** A string that cannot be an RID type (context). */
export declare class InvalidRIDTypeError extends KoiNetError {
    readonly value: unknown;
    readonly reason: string;
    constructor(value: unknown, reason: string);
}
/** An event type other than NEW, UPDATE, FORGET. */
export declare class InvalidEventTypeError extends KoiNetError {
    readonly value: unknown;
    constructor(value: unknown);
}
/** Bundle contents that are not a JSON object (or cannot be canonicalized). */
export declare class InvalidContentsError extends KoiNetError {
    readonly value: unknown;
    readonly reason: string;
    constructor(value: unknown, reason: string);
}
/** One failed check of a value against a schema of the contract. */
export interface ValidationIssue {
    /** Path of the offending field, e.g. `['events', 0, 'rid']`. */
    loc: (string | number)[];
    msg: string;
    type: string;
    input?: unknown;
}
/** A value that does not match a schema of the OpenAPI contract. */
export declare class SchemaValidationError extends KoiNetError {
    readonly schema: string;
    readonly issues: ValidationIssue[];
    constructor(schema: string, issues: ValidationIssue[]);
}
/** The cache directory or one of its files could not be used. */
export declare class CacheError extends KoiNetError {
    constructor(message: string, options?: {
        cause?: unknown;
    });
}
/** Base of every failure talking to another node. */
export declare class RemoteError extends KoiNetError {
    readonly url: string;
    constructor(code: string, url: string, message: string, options?: {
        cause?: unknown;
    });
}
/** The peer could not be reached (refused, reset, DNS, timeout). */
export declare class RemoteConnectionError extends RemoteError {
    constructor(url: string, reason: string, options?: {
        cause?: unknown;
    });
}
/** The peer answered with a non-2xx status. */
export declare class RemoteHTTPError extends RemoteError {
    readonly status: number;
    readonly body: unknown;
    constructor(url: string, status: number, body: unknown);
}
/** The peer answered 2xx with a body that breaks the contract. */
export declare class RemoteResponseInvalidError extends RemoteError {
    readonly issues: ValidationIssue[];
    constructor(url: string, issues: ValidationIssue[]);
}
/** A request was aimed at a node we cannot call (partial node, unknown node, no base_url). */
export declare class UnreachableNodeError extends KoiNetError {
    readonly node: string;
    constructor(node: string, reason: string);
}

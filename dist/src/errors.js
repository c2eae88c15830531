/**
 * Every error this library throws on purpose is a KoiNetError with a stable `name` and `code`,
 * so callers can branch on them without parsing messages, and the server can map them to HTTP
 * in one place (src/server/errors.ts).
 */
export class KoiNetError extends Error {
    /** Stable machine-readable code, e.g. `invalid_rid`. */
    code;
    constructor(code, message, options) {
        super(message, options);
        this.code = code;
        this.name = new.target.name;
    }
}
/** A string that cannot be an RID, or whose reference its RID type refuses. */
export class InvalidRIDError extends KoiNetError {
    value;
    reason;
    constructor(value, reason) {
        super('invalid_rid', `invalid RID ${JSON.stringify(value)}: ${reason}`);
        this.value = value;
        this.reason = reason;
    }
}
/** A string that cannot be an RID type (context). */
export class InvalidRIDTypeError extends KoiNetError {
    value;
    reason;
    constructor(value, reason) {
        super('invalid_rid_type', `invalid RID type ${JSON.stringify(value)}: ${reason}`);
        this.value = value;
        this.reason = reason;
    }
}
/** An event type other than NEW, UPDATE, FORGET. */
export class InvalidEventTypeError extends KoiNetError {
    value;
    constructor(value) {
        super('invalid_event_type', `invalid event type ${JSON.stringify(value)}: must be one of NEW, UPDATE, FORGET`);
        this.value = value;
    }
}
/** Bundle contents that are not a JSON object (or cannot be canonicalized). */
export class InvalidContentsError extends KoiNetError {
    value;
    reason;
    constructor(value, reason) {
        super('invalid_contents', `invalid contents: ${reason}`);
        this.value = value;
        this.reason = reason;
    }
}
/** A value that does not match a schema of the OpenAPI contract. */
export class SchemaValidationError extends KoiNetError {
    schema;
    issues;
    constructor(schema, issues) {
        super('schema_validation', `invalid ${schema}: ` +
            issues.map((i) => `${i.loc.length ? i.loc.join('.') : '(root)'}: ${i.msg}`).join('; '));
        this.schema = schema;
        this.issues = issues;
    }
}
/** The cache directory or one of its files could not be used. */
export class CacheError extends KoiNetError {
    constructor(message, options) {
        super('cache_error', message, options);
    }
}
/** Base of every failure talking to another node. */
export class RemoteError extends KoiNetError {
    url;
    constructor(code, url, message, options) {
        super(code, message, options);
        this.url = url;
    }
}
/** The peer could not be reached (refused, reset, DNS, timeout). */
export class RemoteConnectionError extends RemoteError {
    constructor(url, reason, options) {
        super('remote_unreachable', url, `cannot reach ${url}: ${reason}`, options);
    }
}
/** The peer answered with a non-2xx status. */
export class RemoteHTTPError extends RemoteError {
    status;
    body;
    constructor(url, status, body) {
        super('remote_http_error', url, `${url} answered ${status}: ${JSON.stringify(body)?.slice(0, 300)}`);
        this.status = status;
        this.body = body;
    }
}
/** The peer answered 2xx with a body that breaks the contract. */
export class RemoteResponseInvalidError extends RemoteError {
    issues;
    constructor(url, issues) {
        super('remote_response_invalid', url, `${url} answered with a body that breaks the contract: ` +
            issues.map((i) => `${i.loc.join('.') || '(root)'}: ${i.msg}`).join('; '));
        this.issues = issues;
    }
}
/** A request was aimed at a node we cannot call (partial node, unknown node, no base_url). */
export class UnreachableNodeError extends KoiNetError {
    node;
    constructor(node, reason) {
        super('unreachable_node', `cannot send a request to ${node}: ${reason}`);
        this.node = node;
    }
}
//# sourceMappingURL=errors.js.map
import { KoiNetError, RemoteHTTPError } from "../errors.js";
/** The four protocol errors a KOI-net 1.1+ node answers with `400 {"type":"error_response",...}`. */
export const PROTOCOL_ERROR_TYPES = ['unknown_node', 'invalid_key', 'invalid_signature', 'invalid_target'];
export function isProtocolErrorType(value) {
    return typeof value === 'string' && PROTOCOL_ERROR_TYPES.includes(value);
}
/**
 * Base of the errors that map one-to-one onto an `error_response` body, so the server can answer
 * any of them with `errorResponse(err.errorType)` without a lookup table.
 */
export class ProtocolError extends KoiNetError {
    errorType;
    constructor(errorType, message, options) {
        super(errorType, message, options);
        this.errorType = errorType;
    }
}
/** The envelope's source node is neither cached nor introduced by the envelope itself. */
export class UnknownNodeError extends ProtocolError {
    node;
    constructor(node, message = `unknown node ${node}`) {
        super('unknown_node', message);
        this.node = node;
    }
}
/** The public key is unusable (not base64 DER SPKI of a P-256 key) or does not hash to the node RID. */
export class InvalidKeyError extends ProtocolError {
    constructor(message, options) {
        super('invalid_key', message, options);
    }
}
/** The signature does not verify over the envelope's signed bytes. */
export class InvalidSignatureError extends ProtocolError {
    constructor(message) {
        super('invalid_signature', message);
    }
}
/** The envelope is addressed to another node. */
export class InvalidTargetError extends ProtocolError {
    target;
    expected;
    constructor(target, expected) {
        super('invalid_target', `envelope target ${target} is not ${expected}`);
        this.target = target;
        this.expected = expected;
    }
}
/**
 * Not an envelope at all (bad JSON, missing fields, unknown payload type). Python rejects these
 * in request validation (422), before any signature check, so they are not ProtocolErrors.
 */
export class MalformedEnvelopeError extends KoiNetError {
    constructor(message, options) {
        super('malformed_envelope', message, options);
    }
}
/**
 * A value pydantic could not print (lone surrogate, NaN, a timestamp it would not parse...).
 * Signing such a value would yield bytes no Python peer can reproduce, so we refuse instead.
 */
export class EnvelopeSerializationError extends KoiNetError {
    path;
    constructor(path, message, options) {
        super('envelope_serialization', `${path}: ${message}`, options);
        this.path = path;
    }
}
/** Text that is not strict RFC 8259 JSON, reported with the offset where reading stopped. */
export class JsonSyntaxError extends KoiNetError {
    offset;
    constructor(offset, message) {
        super('invalid_json', `invalid JSON at offset ${offset}: ${message}`);
        this.offset = offset;
    }
}
/** A private key that cannot be read or is not an ECDSA P-256 key. */
export class InvalidPrivateKeyError extends KoiNetError {
    constructor(message, options) {
        super('invalid_private_key', message, options);
    }
}
/**
 * A peer answered 400 with an `error_response` body: it refused our envelope. A subclass of
 * RemoteHTTPError (status 400) so delivery code that classifies failures by HTTP status keeps
 * working, with the protocol's reason as a typed field.
 */
export class RemoteProtocolError extends RemoteHTTPError {
    errorType;
    constructor(url, errorType) {
        super(url, 400, { type: 'error_response', error: errorType });
        this.errorType = errorType;
    }
}
//# sourceMappingURL=errors.js.map
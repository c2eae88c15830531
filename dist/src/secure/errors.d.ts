import { KoiNetError, RemoteHTTPError } from '../errors.ts';
/** The four protocol errors a KOI-net 1.1+ node answers with `400 {"type":"error_response",...}`. */
export declare const PROTOCOL_ERROR_TYPES: readonly ["unknown_node", "invalid_key", "invalid_signature", "invalid_target"];
export type ProtocolErrorType = (typeof PROTOCOL_ERROR_TYPES)[number];
export declare function isProtocolErrorType(value: unknown): value is ProtocolErrorType;
/**
 * Base of the errors that map one-to-one onto an `error_response` body, so the server can answer
 * any of them with `errorResponse(err.errorType)` without a lookup table.
 */
export declare class ProtocolError extends KoiNetError {
    readonly errorType: ProtocolErrorType;
    constructor(errorType: ProtocolErrorType, message: string, options?: {
        cause?: unknown;
    });
}
/** The envelope's source node is neither cached nor introduced by the envelope itself. */
export declare class UnknownNodeError extends ProtocolError {
    readonly node: string;
    constructor(node: string, message?: string);
}
/** The public key is unusable (not base64 DER SPKI of a P-256 key) or does not hash to the node RID. */
export declare class InvalidKeyError extends ProtocolError {
    constructor(message: string, options?: {
        cause?: unknown;
    });
}
/** The signature does not verify over the envelope's signed bytes. */
export declare class InvalidSignatureError extends ProtocolError {
    constructor(message: string);
}
/** The envelope is addressed to another node. */
export declare class InvalidTargetError extends ProtocolError {
    readonly target: string;
    readonly expected: string;
    constructor(target: string, expected: string);
}
/**
 * Not an envelope at all (bad JSON, missing fields, unknown payload type). Python rejects these
 * in request validation (422), before any signature check, so they are not ProtocolErrors.
 */
export declare class MalformedEnvelopeError extends KoiNetError {
    constructor(message: string, options?: {
        cause?: unknown;
    });
}
/**
 * A value pydantic could not print (lone surrogate, NaN, a timestamp it would not parse...).
 * Signing such a value would yield bytes no Python peer can reproduce, so we refuse instead.
 */
export declare class EnvelopeSerializationError extends KoiNetError {
    readonly path: string;
    constructor(path: string, message: string, options?: {
        cause?: unknown;
    });
}
/** Text that is not strict RFC 8259 JSON, reported with the offset where reading stopped. */
export declare class JsonSyntaxError extends KoiNetError {
    readonly offset: number;
    constructor(offset: number, message: string);
}
/** A private key that cannot be read or is not an ECDSA P-256 key. */
export declare class InvalidPrivateKeyError extends KoiNetError {
    constructor(message: string, options?: {
        cause?: unknown;
    });
}
/**
 * A peer answered 400 with an `error_response` body: it refused our envelope. A subclass of
 * RemoteHTTPError (status 400) so delivery code that classifies failures by HTTP status keeps
 * working, with the protocol's reason as a typed field.
 */
export declare class RemoteProtocolError extends RemoteHTTPError {
    readonly errorType: ProtocolErrorType;
    constructor(url: string, errorType: ProtocolErrorType);
}

import { KoiNetError, RemoteHTTPError } from '../errors.ts';
import { ERROR_TYPE_VALUES } from '../protocol/schemas.ts';
import type { ErrorType } from '../protocol/types.ts';

/**
 * The four protocol errors a KOI-net 1.1+ node answers with `400 {"type":"error_response",...}`:
 * the contract's ErrorType enum.
 */
export const PROTOCOL_ERROR_TYPES = ERROR_TYPE_VALUES;
export type ProtocolErrorType = ErrorType;

export function isProtocolErrorType(value: unknown): value is ProtocolErrorType {
  return typeof value === 'string' && (PROTOCOL_ERROR_TYPES as readonly string[]).includes(value);
}

/**
 * Base of the errors that map one-to-one onto an `error_response` body, so the server can answer
 * any of them with `errorResponse(err.errorType)` without a lookup table.
 */
export class ProtocolError extends KoiNetError {
  constructor(readonly errorType: ProtocolErrorType, message: string, options?: { cause?: unknown }) {
    super(errorType, message, options);
  }
}

/** The envelope's source node is neither cached nor introduced by the envelope itself. */
export class UnknownNodeError extends ProtocolError {
  constructor(readonly node: string, message = `unknown node ${node}`) {
    super('unknown_node', message);
  }
}

/** The public key is unusable (not base64 DER SPKI of a P-256 key) or does not hash to the node RID. */
export class InvalidKeyError extends ProtocolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_key', message, options);
  }
}

/** The signature does not verify over the envelope's signed bytes. */
export class InvalidSignatureError extends ProtocolError {
  constructor(message: string) {
    super('invalid_signature', message);
  }
}

/** The envelope is addressed to another node. */
export class InvalidTargetError extends ProtocolError {
  constructor(readonly target: string, readonly expected: string) {
    super('invalid_target', `envelope target ${target} is not ${expected}`);
  }
}

/**
 * Not an envelope at all (bad JSON, missing fields, unknown payload type). Python rejects these
 * in request validation (422), before any signature check, so they are not ProtocolErrors.
 */
export class MalformedEnvelopeError extends KoiNetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('malformed_envelope', message, options);
  }
}

/**
 * A value pydantic could not print (lone surrogate, NaN, a timestamp it would not parse...).
 * Signing such a value would yield bytes no Python peer can reproduce, so we refuse instead.
 */
export class EnvelopeSerializationError extends KoiNetError {
  constructor(readonly path: string, message: string, options?: { cause?: unknown }) {
    super('envelope_serialization', `${path}: ${message}`, options);
  }
}

/** Text that is not strict RFC 8259 JSON, reported with the offset where reading stopped. */
export class JsonSyntaxError extends KoiNetError {
  constructor(readonly offset: number, message: string) {
    super('invalid_json', `invalid JSON at offset ${offset}: ${message}`);
  }
}

/** A private key that cannot be read or is not an ECDSA P-256 key. */
export class InvalidPrivateKeyError extends KoiNetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_private_key', message, options);
  }
}

/**
 * A peer answered 400 with an `error_response` body: it refused our envelope. A subclass of
 * RemoteHTTPError (status 400) so delivery code that classifies failures by HTTP status keeps
 * working, with the protocol's reason as a typed field.
 */
export class RemoteProtocolError extends RemoteHTTPError {
  constructor(
    url: string,
    readonly errorType: ProtocolErrorType,
  ) {
    super(url, 400, { type: 'error_response', error: errorType });
  }
}

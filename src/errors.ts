/**
 * Every error this library throws on purpose is a KoiNetError with a stable `name` and `code`,
 * so callers can branch on them without parsing messages, and the server can map them to HTTP
 * in one place (src/server/errors.ts).
 */
export class KoiNetError extends Error {
  /** Stable machine-readable code, e.g. `invalid_rid`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A string that cannot be an RID, or whose reference its RID type refuses. */
export class InvalidRIDError extends KoiNetError {
  constructor(readonly value: unknown, readonly reason: string) {
    super('invalid_rid', `invalid RID ${JSON.stringify(value)}: ${reason}`);
  }
}

/** A string that cannot be an RID type (context). */
export class InvalidRIDTypeError extends KoiNetError {
  constructor(readonly value: unknown, readonly reason: string) {
    super('invalid_rid_type', `invalid RID type ${JSON.stringify(value)}: ${reason}`);
  }
}

/** An event type other than NEW, UPDATE, FORGET. */
export class InvalidEventTypeError extends KoiNetError {
  constructor(readonly value: unknown) {
    super('invalid_event_type', `invalid event type ${JSON.stringify(value)}: must be one of NEW, UPDATE, FORGET`);
  }
}

/** Bundle contents that are not a JSON object (or cannot be canonicalized). */
export class InvalidContentsError extends KoiNetError {
  constructor(readonly value: unknown, readonly reason: string) {
    super('invalid_contents', `invalid contents: ${reason}`);
  }
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
export class SchemaValidationError extends KoiNetError {
  constructor(readonly schema: string, readonly issues: ValidationIssue[]) {
    super(
      'schema_validation',
      `invalid ${schema}: ` +
        issues.map((i) => `${i.loc.length ? i.loc.join('.') : '(root)'}: ${i.msg}`).join('; '),
    );
  }
}

/** The cache directory or one of its files could not be used. */
export class CacheError extends KoiNetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('cache_error', message, options);
  }
}

/**
 * The node's store (e.g. its PostgreSQL database) cannot be reached or refused the operation for a
 * reason that may pass: nothing was stored. The server answers 503 so the sender retries.
 */
export class StoreUnavailableError extends KoiNetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('store_unavailable', message, options);
  }
}

/** Base of every failure talking to another node. */
export class RemoteError extends KoiNetError {
  constructor(code: string, readonly url: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The peer could not be reached (refused, reset, DNS, timeout). */
export class RemoteConnectionError extends RemoteError {
  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super('remote_unreachable', url, `cannot reach ${url}: ${reason}`, options);
  }
}

/** The peer answered with a non-2xx status. */
export class RemoteHTTPError extends RemoteError {
  constructor(url: string, readonly status: number, readonly body: unknown) {
    super('remote_http_error', url, `${url} answered ${status}: ${JSON.stringify(body)?.slice(0, 300)}`);
  }
}

/** The peer answered 2xx with a body that breaks the contract. */
export class RemoteResponseInvalidError extends RemoteError {
  constructor(url: string, readonly issues: ValidationIssue[]) {
    super(
      'remote_response_invalid',
      url,
      `${url} answered with a body that breaks the contract: ` +
        issues.map((i) => `${i.loc.join('.') || '(root)'}: ${i.msg}`).join('; '),
    );
  }
}

/** A request was aimed at a node we cannot call (partial node, unknown node, no base_url). */
export class UnreachableNodeError extends KoiNetError {
  constructor(readonly node: string, reason: string) {
    super('unreachable_node', `cannot send a request to ${node}: ${reason}`);
  }
}

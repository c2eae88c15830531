import type { IncomingMessage } from 'node:http';
import type { ValidationDetailItem } from './errors.ts';
/**
 * Body handling lives here rather than in express.json() because the reference (FastAPI) has
 * rules express's parsers cannot express: no Content-Type at all means JSON (seed-era Python
 * clients send none), a present but non-JSON Content-Type is a 422 (not a 415, and not "skip
 * parsing"), an empty body is `missing@body`, and a JSON syntax error reports its character
 * offset in `loc`.
 */
/** Parses `'1mb'`, `'512kb'`, `'100b'`, `2048` the way the `bytes` package does (1024-based). */
export declare function parseByteLimit(limit: string | number): number;
/** How the Content-Type header tells us to treat the body. */
export type BodyKind = 'json' | 'not-json';
/**
 * FastAPI parses the body as JSON when there is no Content-Type (or an empty one) or when it is
 * `application/json` / `application/<x>+json`; anything else reaches pydantic as raw bytes and
 * fails with `model_attributes_type`.
 */
export declare function classifyContentType(header: string | undefined): BodyKind;
export type RawBodyResult = {
    ok: true;
    bytes: Buffer;
} | {
    ok: false;
    reason: 'too-large' | 'aborted';
};
/**
 * Reads the whole request body, up to `limit` bytes. A body that announces or crosses the limit
 * settles as 'too-large' at once, without waiting for its end: a client streaming a huge body
 * slowly would otherwise hold the connection (and get no answer) for as long as it likes. The
 * rest of the body is discarded until the caller closes the connection (see app.ts).
 */
export declare function readRawBody(req: IncomingMessage, limit: number): Promise<RawBodyResult>;
export type JsonBodyResult = {
    ok: true;
    value: unknown;
} | {
    ok: false;
    detail: ValidationDetailItem[];
};
/**
 * Decodes and parses a body the way FastAPI + pydantic see it. JSON.parse only ever creates own
 * properties, so a `__proto__` key is plain data here; callers must not merge it into other
 * objects with assignment.
 */
export declare function parseJsonBody(bytes: Buffer, kind: BodyKind): JsonBodyResult;

import type { IncomingMessage } from 'node:http';
import type { ValidationDetailItem } from './errors.ts';
import { errorText } from '../util/error-text.ts';

/**
 * Body handling lives here rather than in express.json() because the reference (FastAPI) has
 * rules express's parsers cannot express: no Content-Type at all means JSON (seed-era Python
 * clients send none), a present but non-JSON Content-Type is a 422 (not a 415, and not "skip
 * parsing"), an empty body is `missing@body`, and a JSON syntax error reports its character
 * offset in `loc`.
 */

/** Parses `'1mb'`, `'512kb'`, `'100b'`, `2048` the way the `bytes` package does (1024-based). */
export function parseByteLimit(limit: string | number): number {
  if (typeof limit === 'number') {
    if (!Number.isFinite(limit) || limit < 0) throw new RangeError(`invalid body limit ${limit}`);
    return Math.floor(limit);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(limit);
  if (!m) throw new RangeError(`invalid body limit ${JSON.stringify(limit)}`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = unit === 'gb' ? 1024 ** 3 : unit === 'mb' ? 1024 ** 2 : unit === 'kb' ? 1024 : 1;
  return Math.floor(Number(m[1]) * factor);
}

/** How the Content-Type header tells us to treat the body. */
export type BodyKind = 'json' | 'not-json';

/**
 * FastAPI parses the body as JSON when there is no Content-Type (or an empty one) or when it is
 * `application/json` / `application/<x>+json`; anything else reaches pydantic as raw bytes and
 * fails with `model_attributes_type`.
 */
export function classifyContentType(header: string | undefined): BodyKind {
  if (header === undefined || header.trim() === '') return 'json';
  const mediaType = header.split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  if (/^application\/[^\s/]+\+json$/.test(mediaType)) return 'json';
  return 'not-json';
}

export type RawBodyResult = { ok: true; bytes: Buffer } | { ok: false; reason: 'too-large' | 'aborted' };

/**
 * Reads the whole request body, up to `limit` bytes. A body that announces or crosses the limit
 * settles as 'too-large' at once, without waiting for its end: a client streaming a huge body
 * slowly would otherwise hold the connection (and get no answer) for as long as it likes. The
 * rest of the body is discarded until the caller closes the connection (see app.ts).
 */
export function readRawBody(req: IncomingMessage, limit: number): Promise<RawBodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (r: RawBodyResult): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      chunks.length = 0;
      // Keep the socket flowing so our answer can be written; the bytes go nowhere.
      if (!r.ok) req.resume();
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) return settle({ ok: false, reason: 'too-large' });
      chunks.push(chunk);
    };
    const onEnd = (): void => settle({ ok: true, bytes: Buffer.concat(chunks) });
    const onError = (): void => settle({ ok: false, reason: 'aborted' });
    const onAborted = (): void => settle({ ok: false, reason: 'aborted' });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      settle({ ok: false, reason: 'too-large' });
      return;
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
    // A stream that already ended (e.g. someone else consumed it) never emits 'end' again.
    if (req.readableEnded) onEnd();
  });
}

/** Fatal and never streaming, so it holds no state between bodies and one serves them all. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export type JsonBodyResult =
  /** `text`: the decoded body `value` was parsed from. */
  | { ok: true; value: unknown; text: string }
  | { ok: false; detail: ValidationDetailItem[] };

const MISSING_BODY: ValidationDetailItem = { type: 'missing', loc: ['body'], msg: 'Field required', input: null };

/**
 * Decodes and parses a body the way FastAPI + pydantic see it. JSON.parse only ever creates own
 * properties, so a `__proto__` key is plain data here; callers must not merge it into other
 * objects with assignment.
 */
export function parseJsonBody(bytes: Buffer, kind: BodyKind): JsonBodyResult {
  // FastAPI treats an empty body as "no body", whatever the Content-Type.
  if (bytes.length === 0) return { ok: false, detail: [MISSING_BODY] };
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return {
      ok: false,
      detail: [
        {
          type: 'json_invalid',
          loc: ['body', firstInvalidUtf8Offset(bytes)],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: 'Invalid UTF-8' },
        },
      ],
    };
  }
  if (kind === 'not-json') {
    // pydantic receives the raw text and refuses it as a model input.
    return {
      ok: false,
      detail: [
        {
          type: 'model_attributes_type',
          loc: ['body'],
          msg: 'Input should be a valid dictionary or object to extract fields from',
          input: text,
        },
      ],
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = errorText(err);
    return {
      ok: false,
      detail: [
        {
          type: 'json_invalid',
          loc: ['body', jsonErrorOffset(message, text)],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: message },
        },
      ],
    };
  }
  // FastAPI maps a JSON `null` body to "no body" too.
  if (value === null) return { ok: false, detail: [MISSING_BODY] };
  return { ok: true, value, text };
}

/**
 * V8 reports "at position N" for most syntax errors but not all ("Unexpected token '}', ... is not
 * valid JSON"). For those, bisect on prefixes: a prefix that is merely cut short fails with an
 * end-of-input error, one that holds the bad character fails otherwise, and that is monotonic.
 */
function jsonErrorOffset(message: string, text: string): number {
  const m = /position (\d+)/.exec(message);
  if (m) return Number(m[1]);
  if (/end of JSON input/i.test(message)) return text.length;
  let lo = 0; // longest prefix known not to hold the error
  let hi = text.length; // shortest prefix known to hold it
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (prefixHoldsError(text.slice(0, mid))) hi = mid;
    else lo = mid;
  }
  return hi - 1;
}

function prefixHoldsError(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (err) {
    const message = err instanceof Error ? err.message : '';
    if (/end of JSON input/i.test(message)) return false;
    const m = /position (\d+)/.exec(message);
    if (m) return Number(m[1]) < prefix.length;
    return true;
  }
}

function firstInvalidUtf8Offset(bytes: Buffer): number {
  // A prefix decodes in streaming mode iff it holds no invalid sequence (a truncated one at the
  // end is allowed), so validity is monotonic in the prefix length and we can bisect.
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  // `lo` bytes are fine; the offending sequence starts at or just before it.
  return lo;
}

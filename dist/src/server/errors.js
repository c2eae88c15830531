import { InvalidContentsError, InvalidEventTypeError, InvalidRIDError, InvalidRIDTypeError, SchemaValidationError, } from "../errors.js";
/** A failure that already knows its status and JSON body. */
export class HttpProblem extends Error {
    status;
    body;
    headers;
    constructor(status, body, headers = {}) {
        super('detail' in body ? (typeof body.detail === 'string' ? body.detail : `HTTP ${status}`) : `HTTP ${status}: ${body.error}`);
        this.status = status;
        this.body = body;
        this.headers = headers;
        this.name = 'HttpProblem';
    }
    static validation(detail) {
        return new HttpProblem(422, { detail });
    }
    /** 400 with the body the reference sends for a refused envelope (unsigned, compact JSON). */
    static protocol(error) {
        return new HttpProblem(400, { type: 'error_response', error });
    }
}
export const NOT_FOUND = () => new HttpProblem(404, { detail: 'Not Found' });
export const METHOD_NOT_ALLOWED = (allow) => new HttpProblem(405, { detail: 'Method Not Allowed' }, { Allow: allow });
/**
 * The rest of an oversized body is never read, so the connection cannot carry another request:
 * `Connection: close` makes node:http close it once the answer is flushed.
 */
export const TOO_LARGE = (limit) => new HttpProblem(413, { detail: `Request body is larger than the limit of ${limit} bytes` }, { Connection: 'close' });
export const INTERNAL = () => new HttpProblem(500, { detail: 'Internal Server Error' });
/** The KoiNetErrors that mean "the caller sent something wrong", i.e. 422 rather than 500. */
export function isBadInputError(err) {
    return (err instanceof InvalidRIDError ||
        err instanceof InvalidRIDTypeError ||
        err instanceof SchemaValidationError ||
        err instanceof InvalidEventTypeError ||
        err instanceof InvalidContentsError);
}
/** 422 detail for a bad-input KoiNetError thrown by a handler. */
export function badInputDetail(err) {
    if (err instanceof SchemaValidationError) {
        const items = err.issues.map((i) => ({
            type: i.type,
            loc: ['body', ...i.loc],
            msg: i.msg,
            ...(i.input !== undefined ? { input: safeInput(i.input) } : {}),
        }));
        if (items.length > 0)
            return items;
    }
    const input = err instanceof InvalidRIDError ||
        err instanceof InvalidRIDTypeError ||
        err instanceof InvalidEventTypeError ||
        err instanceof InvalidContentsError
        ? err.value
        : undefined;
    return [
        {
            type: err instanceof InvalidEventTypeError ? 'enum' : 'value_error',
            loc: ['body'],
            msg: `Value error, ${err.message}`,
            ...(input !== undefined ? { input: safeInput(input) } : {}),
        },
    ];
}
/**
 * Echoed inputs are capped: a hostile body can be nested deeply enough to overflow
 * JSON.stringify's recursion, and echoing a megabyte back helps nobody.
 */
const MAX_ECHO_CHARS = 2000;
export function safeInput(value) {
    if (value === null || typeof value !== 'object') {
        if (typeof value === 'string' && value.length > MAX_ECHO_CHARS)
            return `<${value.length} chars elided>`;
        return value;
    }
    let text;
    try {
        text = JSON.stringify(value);
    }
    catch {
        return '<input elided>';
    }
    if (text === undefined)
        return null;
    if (text.length > MAX_ECHO_CHARS)
        return `<${text.length} chars elided>`;
    return value;
}
/** Ranks several failures at one location so each field is named once, with its most telling error. */
const KEYWORD_RANK = {
    required: 0,
    type: 1,
    enum: 2,
    format: 3,
    pattern: 4,
    minLength: 5,
    minimum: 6,
};
/**
 * Maps express-openapi-validator's errors (JSON-pointer paths under `/body`) to FastAPI's detail
 * items with `loc` starting at `body`, one per offending field.
 */
export function validatorErrorsToDetail(errors, body, explain) {
    const candidates = [];
    errors.forEach((e, order) => {
        const keyword = (e.errorCode ?? '').replace(/\.openapi\.validation$/, '') || 'value';
        // `anyOf` only summarises its branches' failures, which are reported on their own; a
        // "must be null" is the losing branch of an optional (nullable) field.
        if (keyword === 'anyOf' || keyword === 'oneOf')
            return;
        if (keyword === 'type' && /must be null$/.test(e.message))
            return;
        candidates.push({ keyword, loc: pointerToLoc(e.path, body), message: e.message, order });
    });
    const byLoc = new Map();
    for (const c of candidates) {
        const key = JSON.stringify(c.loc);
        const prev = byLoc.get(key);
        const rank = (k) => KEYWORD_RANK[k] ?? 99;
        if (!prev || rank(c.keyword) < rank(prev.keyword))
            byLoc.set(key, c);
    }
    const items = [...byLoc.values()].sort((a, b) => a.order - b.order);
    if (items.length === 0) {
        return [{ type: 'value_error', loc: ['body'], msg: 'Invalid request body', input: safeInput(body) }];
    }
    return items.map((c) => toDetailItem(c.keyword, c.loc, c.message, body, explain));
}
function toDetailItem(keyword, loc, message, body, explain) {
    if (keyword === 'required') {
        return { type: 'missing', loc, msg: 'Field required', input: safeInput(valueAt(body, loc.slice(0, -1))) };
    }
    const input = valueAt(body, loc);
    const echo = safeInput(input);
    switch (keyword) {
        case 'type': {
            const expected = /must be (\w+)/.exec(message)?.[1] ?? '';
            const map = {
                array: ['list_type', 'Input should be a valid list'],
                object: loc.length === 1
                    ? ['model_attributes_type', 'Input should be a valid dictionary or object to extract fields from']
                    : ['dict_type', 'Input should be a valid dictionary'],
                string: ['string_type', 'Input should be a valid string'],
                integer: [typeof input === 'string' ? 'int_parsing' : 'int_type', 'Input should be a valid integer'],
                number: ['float_type', 'Input should be a valid number'],
                boolean: ['bool_type', 'Input should be a valid boolean'],
            };
            const [type, msg] = map[expected] ?? ['type_error', `Input ${message}`];
            return { type, loc, msg, input: echo };
        }
        case 'enum': {
            const allowed = /allowed values: (.*)$/.exec(message)?.[1]?.split(/,\s*/) ?? [];
            const quoted = allowed.map((v) => `'${v}'`);
            const expected = quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}` : (quoted[0] ?? '');
            return { type: 'enum', loc, msg: `Input should be ${expected}`, input: echo, ctx: { expected } };
        }
        case 'format': {
            const format = /format "([^"]+)"/.exec(message)?.[1] ?? '';
            if (format === 'date-time' || format === 'date') {
                return { type: 'datetime_from_date_parsing', loc, msg: 'Input should be a valid datetime', input: echo };
            }
            const reason = explain?.('format', format, input);
            return { type: 'value_error', loc, msg: `Value error, ${reason ?? message}`, input: echo };
        }
        case 'pattern': {
            // The RID schemas carry a pattern and a format; the RID parser explains better than a regex.
            const pattern = /pattern "(.*)"$/.exec(message)?.[1] ?? '';
            const reason = explain?.('pattern', pattern, input);
            return reason !== undefined
                ? { type: 'value_error', loc, msg: `Value error, ${reason}`, input: echo }
                : { type: 'string_pattern_mismatch', loc, msg: `String ${message}`, input: echo };
        }
        case 'minLength':
            return { type: 'string_too_short', loc, msg: `String ${message}`, input: echo };
        case 'minimum':
            return {
                type: 'greater_than_equal',
                loc,
                msg: `Input should be greater than or equal to ${/>= (\S+)/.exec(message)?.[1] ?? '0'}`,
                input: echo,
            };
        default:
            return { type: 'value_error', loc, msg: message, input: echo };
    }
}
/** `/body/events/0/rid` -> `['body', 'events', 0, 'rid']`, numbers only where the data is an array. */
export function pointerToLoc(pointer, body) {
    const parts = pointer
        .split('/')
        .filter((p, i) => !(i === 0 && p === ''))
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (parts[0] !== 'body')
        return ['body', ...parts];
    const loc = ['body'];
    let cur = body;
    for (const part of parts.slice(1)) {
        if (part === '')
            continue;
        if (Array.isArray(cur) && /^\d+$/.test(part)) {
            const idx = Number(part);
            loc.push(idx);
            cur = cur[idx];
        }
        else {
            loc.push(part);
            cur = ownProp(cur, part);
        }
    }
    return loc;
}
/** The value at `loc` (which starts with `body`), reading own properties only. */
function valueAt(body, loc) {
    let cur = body;
    for (const part of loc.slice(1)) {
        if (Array.isArray(cur) && typeof part === 'number')
            cur = cur[part];
        else
            cur = ownProp(cur, String(part));
    }
    return cur;
}
/** Never follows the prototype chain, so a `__proto__` key reads the caller's data, not Object.prototype. */
function ownProp(obj, key) {
    if (obj === null || typeof obj !== 'object')
        return undefined;
    return Object.prototype.hasOwnProperty.call(obj, key)
        ? Object.getOwnPropertyDescriptor(obj, key)?.value
        : undefined;
}
//# sourceMappingURL=errors.js.map
import { JsonSyntaxError } from "./errors.js";
/**
 * A JSON number kept as its source text. JSON.parse turns `1.0` into `1` and rounds
 * 18446744073709551616, yet a Python peer prints them back as `1.0` and the exact integer, and
 * those printed bytes are what it signed.
 */
export class LosslessNumber {
    text;
    constructor(text) {
        if (!NUMBER_EXACT.test(text))
            throw new JsonSyntaxError(0, `${JSON.stringify(text)} is not a JSON number`);
        this.text = text;
        Object.freeze(this);
    }
    /** Python's json/jiter rule: no fraction and no exponent means int, anything else float. */
    get isInteger() {
        return !/[.eE]/.test(this.text);
    }
    valueOf() {
        return Number(this.text);
    }
    toJSON() {
        return Number(this.text);
    }
}
const NUMBER_EXACT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const NUMBER_STICKY = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
/** Deeper than any KOI-net payload; stops a hostile body from overflowing the stack. */
const MAX_DEPTH = 512;
/**
 * Strict RFC 8259 parser keeping numbers as LosslessNumber and objects as ordered Maps. A repeated
 * key keeps its first position and its last value, exactly as a Python dict fills up.
 */
export function parseLosslessJson(text) {
    let pos = 0;
    const fail = (msg) => {
        throw new JsonSyntaxError(pos, msg);
    };
    const skipWs = () => {
        for (;;) {
            const c = text.charCodeAt(pos);
            if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)
                pos++;
            else
                return;
        }
    };
    const readString = () => {
        const start = pos;
        pos++; // opening quote
        let escaped = false;
        for (;;) {
            if (pos >= text.length)
                fail('unterminated string');
            const c = text.charCodeAt(pos);
            if (c === 0x22)
                break;
            if (c < 0x20)
                fail('control character in string');
            if (c === 0x5c) {
                escaped = true;
                pos += 2;
                continue;
            }
            pos++;
        }
        pos++; // closing quote
        const raw = text.slice(start, pos);
        if (!escaped)
            return raw.slice(1, -1);
        try {
            // JSON.parse decodes escapes exactly as RFC 8259 says (and refuses invalid ones).
            return JSON.parse(raw);
        }
        catch {
            pos = start;
            return fail('invalid escape in string');
        }
    };
    const readValue = (depth) => {
        if (depth > MAX_DEPTH)
            fail('nesting too deep');
        skipWs();
        const c = text[pos];
        switch (c) {
            case '{': {
                pos++;
                const obj = new Map();
                skipWs();
                if (text[pos] === '}') {
                    pos++;
                    return obj;
                }
                for (;;) {
                    skipWs();
                    if (text[pos] !== '"')
                        fail('expected a string key');
                    const key = readString();
                    skipWs();
                    if (text[pos] !== ':')
                        fail("expected ':'");
                    pos++;
                    obj.set(key, readValue(depth + 1));
                    skipWs();
                    if (text[pos] === ',') {
                        pos++;
                        continue;
                    }
                    if (text[pos] === '}') {
                        pos++;
                        return obj;
                    }
                    fail("expected ',' or '}'");
                }
            }
            // eslint-disable-next-line no-fallthrough
            case '[': {
                pos++;
                const arr = [];
                skipWs();
                if (text[pos] === ']') {
                    pos++;
                    return arr;
                }
                for (;;) {
                    arr.push(readValue(depth + 1));
                    skipWs();
                    if (text[pos] === ',') {
                        pos++;
                        continue;
                    }
                    if (text[pos] === ']') {
                        pos++;
                        return arr;
                    }
                    fail("expected ',' or ']'");
                }
            }
            // eslint-disable-next-line no-fallthrough
            case '"':
                return readString();
            case 't':
                if (text.startsWith('true', pos)) {
                    pos += 4;
                    return true;
                }
                return fail('invalid literal');
            case 'f':
                if (text.startsWith('false', pos)) {
                    pos += 5;
                    return false;
                }
                return fail('invalid literal');
            case 'n':
                if (text.startsWith('null', pos)) {
                    pos += 4;
                    return null;
                }
                return fail('invalid literal');
            default: {
                NUMBER_STICKY.lastIndex = pos;
                const m = NUMBER_STICKY.exec(text);
                if (m === null)
                    return fail(pos >= text.length ? 'unexpected end of input' : 'unexpected character');
                pos += m[0].length;
                return new LosslessNumber(m[0]);
            }
        }
    };
    const value = readValue(0);
    skipWs();
    if (pos !== text.length)
        fail('trailing characters after the JSON value');
    return value;
}
export function isLosslessObject(value) {
    return value instanceof Map;
}
/**
 * The plain JSON.parse-like form (numbers as doubles, objects as plain objects) for the parts of
 * the library that work on ordinary JSON. Keys are defined, not assigned, so `__proto__` stays data.
 */
export function losslessToPlain(value) {
    if (value instanceof LosslessNumber)
        return Number(value.text);
    if (Array.isArray(value))
        return value.map(losslessToPlain);
    if (value instanceof Map) {
        const out = {};
        for (const [k, v] of value) {
            Object.defineProperty(out, k, { value: losslessToPlain(v), enumerable: true, writable: true, configurable: true });
        }
        return out;
    }
    return value;
}
//# sourceMappingURL=lossless-json.js.map
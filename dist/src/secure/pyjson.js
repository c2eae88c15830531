import { EnvelopeSerializationError } from "./errors.js";
import { LosslessNumber } from "./lossless-json.js";
/**
 * How pydantic-core prints the untyped parts of a model (bundle/event `contents`, a
 * `dict[str, Any]`): compact, raw UTF-8, serde_json string escapes, ints as exact digits and
 * floats in ryu's shortest form (`1.0`, `1e16`, `1.5e-7`), keys in the order the dict holds them.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const MAX_DEPTH = 512;
/**
 * serde_json escapes `"`, `\`, and C0 controls (\b \t \n \f \r short, the rest `\u00xx` in lower
 * case) and leaves everything else raw, which is exactly JSON.stringify, except that Python
 * cannot encode a lone surrogate at all (PydanticSerializationError), so neither do we.
 */
export function pyJsonString(s, path = '$') {
    if (LONE_SURROGATE.test(s))
        throw new EnvelopeSerializationError(path, 'lone surrogate: Python cannot encode it as UTF-8');
    return JSON.stringify(s);
}
/**
 * A finite double in ryu's `format64` layout, which pydantic-core uses for floats: decimal
 * notation while the integer part has at most 16 digits and the value is at least 1e-5,
 * otherwise `d.ddde<exp>` with no `+` and no zero padding; integral values keep `.0`.
 * Digits come from toExponential(), which like ryu yields the shortest round-tripping digits.
 */
export function pyFloatRepr(n, path = '$') {
    if (!Number.isFinite(n))
        throw new EnvelopeSerializationError(path, `${String(n)} has no JSON form`);
    if (n === 0)
        return Object.is(n, -0) ? '-0.0' : '0.0';
    const sign = n < 0 ? '-' : '';
    const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(Math.abs(n).toExponential());
    if (m === null)
        throw new EnvelopeSerializationError(path, `cannot format ${n}`);
    const digits = m[1] + (m[2] ?? '');
    const length = digits.length;
    const kk = Number(m[3]) + 1; // value = 0.digits * 10^kk
    const k = kk - length; // exponent of the last digit
    let body;
    if (k >= 0 && kk <= 16)
        body = digits + '0'.repeat(k) + '.0';
    else if (kk > 0 && kk <= 16)
        body = digits.slice(0, kk) + '.' + digits.slice(kk);
    else if (kk > -5 && kk <= 0)
        body = '0.' + '0'.repeat(-kk) + digits;
    else if (length === 1)
        body = digits + 'e' + String(kk - 1);
    else
        body = digits[0] + '.' + digits.slice(1) + 'e' + String(kk - 1);
    return sign + body;
}
/**
 * What a Python peer prints for a number that arrived as `text`: Python reads digits-only text as
 * an int (printed back exactly, `-0` as `0`) and anything with `.`/`e` as a float.
 */
export function pyNumberFromText(text, path = '$') {
    if (!/[.eE]/.test(text))
        return BigInt(text).toString();
    const n = Number(text);
    // jiter overflows such text to inf, which pydantic would print as null: not the value sent.
    if (!Number.isFinite(n))
        throw new EnvelopeSerializationError(path, `${text} overflows a double`);
    return pyFloatRepr(n, path);
}
/**
 * A JS number as a Python peer reprints it after reading our JSON.stringify-style text:
 * integral values below 1e21 are written without `.`/`e`, so Python sees an int; the rest are
 * floats. Printing that form directly keeps our bytes stable under Python's re-serialization.
 */
export function pyNumberFromJs(n, path = '$') {
    if (!Number.isFinite(n))
        throw new EnvelopeSerializationError(path, `${String(n)} has no JSON form`);
    // String(n), not BigInt(n): above 2**53 JS prints shortest digits (2**64 -> 18446744073709552000)
    // and those digits, not the double's exact value, are the int Python reads. String(-0) is '0'.
    if (Number.isInteger(n) && Math.abs(n) < 1e21)
        return String(n);
    return pyFloatRepr(n, path);
}
/**
 * Prints any JSON-like value as pydantic prints a `dict[str, Any]` member. Accepts plain JSON,
 * bigints, LosslessNumber and Maps (from parseLosslessJson); objects with toJSON are printed as
 * what toJSON returns, and undefined members are dropped, both as JSON.stringify would.
 */
export function pyJsonDumps(value, path = '$') {
    const out = [];
    write(value, path, out, new Set(), 0);
    return out.join('');
}
function write(value, path, out, ancestors, depth) {
    if (depth > MAX_DEPTH)
        throw new EnvelopeSerializationError(path, 'nesting too deep');
    switch (typeof value) {
        case 'string':
            out.push(pyJsonString(value, path));
            return;
        case 'number':
            out.push(pyNumberFromJs(value, path));
            return;
        case 'bigint':
            out.push(value.toString());
            return;
        case 'boolean':
            out.push(value ? 'true' : 'false');
            return;
        case 'object':
            break;
        default:
            throw new EnvelopeSerializationError(path, `${typeof value} is not JSON`);
    }
    if (value === null) {
        out.push('null');
        return;
    }
    if (value instanceof LosslessNumber) {
        out.push(pyNumberFromText(value.text, path));
        return;
    }
    if (ancestors.has(value))
        throw new EnvelopeSerializationError(path, 'cycle');
    ancestors.add(value);
    if (Array.isArray(value)) {
        out.push('[');
        value.forEach((item, i) => {
            if (i > 0)
                out.push(',');
            // JSON.stringify writes null for array slots that have no JSON form.
            if (item === undefined || typeof item === 'function' || typeof item === 'symbol')
                out.push('null');
            else
                write(item, `${path}[${i}]`, out, ancestors, depth + 1);
        });
        out.push(']');
    }
    else if (value instanceof Map) {
        out.push('{');
        let first = true;
        for (const [k, v] of value) {
            if (typeof k !== 'string')
                throw new EnvelopeSerializationError(path, 'Map keys must be strings');
            if (v === undefined)
                continue;
            if (!first)
                out.push(',');
            first = false;
            out.push(pyJsonString(k, path), ':');
            write(v, `${path}.${k}`, out, ancestors, depth + 1);
        }
        out.push('}');
    }
    else {
        const toJSON = value.toJSON;
        if (typeof toJSON === 'function') {
            ancestors.delete(value);
            write(toJSON.call(value), path, out, ancestors, depth + 1);
            return;
        }
        out.push('{');
        let first = true;
        for (const k of Object.keys(value)) {
            const v = value[k];
            if (v === undefined || typeof v === 'function' || typeof v === 'symbol')
                continue;
            if (!first)
                out.push(',');
            first = false;
            out.push(pyJsonString(k, path), ':');
            write(v, `${path}.${k}`, out, ancestors, depth + 1);
        }
        out.push('}');
    }
    ancestors.delete(value);
}
//# sourceMappingURL=pyjson.js.map